"""`sync-partner-stats`: pull referral stats from every configured partner and update the credit ledger."""

from __future__ import annotations

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.declare import PartsFailed, junkan_flow
from flows.params import OptionalDay, as_of_field, ja_en
from flows.results import FlowResult
from junkan.partner.report import render_markdown
from tasks.partner import partner_names, summarize_partners, sync_one_partner

ARTIFACT_KEY = "sync-partner-stats"
_TOTALS = ("fetched", "new_referrals", "quarantined", "new_suspicious", "credits_earned", "credits_expired")


class PartnerSyncFailed(PartsFailed):
    """The sync of one or more partners failed; the others' figures are in the artifact."""


@junkan_flow("sync-partner-stats",
             description=ja_en(
                 "各キャリア支援パートナーから紹介コードごとの登録を取り込み、クレジット台帳を更新します。"
                 "daily の一部。パートナー側の障害のあとは手動で実行します。",
                 "Pull each career partner's registrations by referral code and update the credit "
                 "ledger. Part of `daily`; run it by hand after a partner outage."))
def sync_partner_stats(as_of: OptionalDay = as_of_field()) -> FlowResult:
    logger = get_run_logger()
    totals = dict.fromkeys(("partners", *_TOTALS), 0)
    failed: list[str] = []
    for name in partner_names():
        # One partner's outage must not hide the others' figures.
        state = sync_one_partner(name, as_of, return_state=True)
        if not state.is_completed():
            failed.append(name)
            logger.error("partner %s sync ended %s", name, state.type.value)
            continue
        counts = state.result()
        totals["partners"] += 1
        for key in _TOTALS:
            totals[key] += int(counts.get(key, 0))
    summaries = summarize_partners(as_of)
    totals["balance"] = sum(s["balance"] for s in summaries)
    totals["value_yen"] = sum(s["value_yen"] for s in summaries)
    create_markdown_artifact(
        key=ARTIFACT_KEY,
        markdown=render_markdown(summaries, failed),
        description=ja_en("紹介経由の登録とパートナークレジットの残高",
                          "Referral registrations and partner credit balances"),
    )
    if failed:
        raise PartnerSyncFailed.naming("partner sync", failed)
    return FlowResult(totals)
