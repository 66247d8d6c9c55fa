"""`sync-partner-stats`: pull referral stats from every configured partner and update the credit ledger."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.declare import PartsFailed, junkan_flow
from flows.params import OptionalDay, as_of_field, ja_en
from flows.results import FlowResult
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


def _yen(value: int) -> str:
    return f"¥{value:,}"


def render_markdown(summaries: list[dict[str, Any]], failed: list[str]) -> str:
    lines = ["# パートナー紹介とクレジット / Partner referrals and credits", ""]
    if summaries:
        first = summaries[0]
        span = f"{first['period_start']} – {first['period_end']}"
        lines += [f"対象期間（今月）/ Period: {span} (month to date)", ""]
    lines += [
        "| パートナー / partner | 登録（期間）/ registrations (period) "
        "| 登録（累計）/ registrations (all-time) | 面接 / interviewed | 入社 / placed "
        "| 獲得クレジット / credits earned | 利用 / redeemed "
        "| 失効 / expired | 残高 / balance | 次のクレジットまで / next credit | 金額 / value |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: |",
    ]
    for s in summaries:
        name = s["partner"] + (" （**取り込み失敗** / **sync failed**）" if s["partner"] in failed else "")
        lines.append(
            f"| {name} | {s['registrations_period']} | {s['registrations_all_time']} "
            f"| {s['interviewed_all_time']} | {s['placed_all_time']} | {s['credits_earned']} "
            f"| {s['credits_redeemed']} | {s['credits_expired']} | {s['balance']} | {s['progress']} "
            f"| {_yen(s['value_yen'])} |"
        )
    notes = []
    for s in summaries:
        if s["counted_status"] != "registered":
            notes.append(
                f"- {s['partner']}: クレジットは `{s['counted_status']}` の紹介で数えます（これまで "
                f"{s['counted_all_time']} 件）。 / credits count `{s['counted_status']}` referrals "
                f"({s['counted_all_time']} so far)."
            )
        if s["suspicious"]:
            notes.append(
                f"- {s['partner']}: 要確認の紹介 {s['suspicious']} 件（通知の送信より前に報告されたもの）。"
                f"確認してください。 / {s['suspicious']} referral(s) flagged suspicious "
                "(reported before the notice was accepted); review them."
            )
        if s["quarantined"]:
            notes.append(
                f"- {s['partner']}: 隔離した報告 {s['quarantined']} 件（不明・偽造・不正な形式のコード）。"
                f"集計には含めません。 / {s['quarantined']} reported item(s) in quarantine "
                "(unknown, forged or malformed codes); never counted."
            )
    if failed:
        names = ", ".join(failed)
        notes.append(f"- 取り込みに失敗したパートナー: {names}（上の数字は前回までの取り込みのもの）。"
                     f" / Sync failed for: {names} (figures above are from earlier syncs).")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)
