"""The parent flow: the six flows of a day, one call each, in order. One failure does not stop the others."""

from __future__ import annotations

from prefect import get_run_logger

from flows.artifacts import count_rows, publish_rows
from flows.declare import PartsFailed, junkan_flow
from flows.ingest_decisions import ingest_decisions
from flows.overlap import holds_sending_slot
from flows.params import OptionalDay, as_of_field, dry_run_field, ja_en
from flows.recontact import recontact
from flows.results import FlowResult
from flows.retention import retention
from flows.send_rejections import send_rejections
from flows.sync_email_events import sync_email_events
from flows.sync_partner_stats import sync_partner_stats

ARTIFACT_KEY = "daily-summary"

DRY_RUN_HELP = ja_en(
    "送信するフロー（send-rejections、recontact）を試行だけにします。メールは送らず、通知も再コンタクトも"
    "状態を変えません。ほかのフローは通常どおり実行します（ingest-decisions は ATS の選考結果を保存し、"
    "sync-email-events は配信停止を、sync-partner-stats はパートナーの登録を取り込みます）。",
    "Dry run of the flows that send (send-rejections, recontact): nothing is mailed, no notice or re-contact "
    "changes state. The other flows still run for real: ingest-decisions stores the ATS's decisions, "
    "sync-email-events the suppressions, sync-partner-stats the partner's registrations.")


class SubFlowsFailed(PartsFailed):
    """Raised at the end of `daily` so the run ends Failed and names the sub-flows that failed."""


@junkan_flow("daily",
             description=ja_en(
                 "毎日 9:00（日本時間）の処理全体：各フローを順に実行します（ingest-decisions、"
                 "sync-email-events、send-rejections、sync-partner-stats、recontact、retention）。"
                 "1つが失敗してもほかは続け、最後に失敗したフロー名を示して Failed で終わります。",
                 "The whole daily job, at 09:00 Asia/Tokyo: every flow in order (ingest-decisions, "
                 "sync-email-events, send-rejections, sync-partner-stats, recontact, retention). One failing "
                 "flow does not stop the others; the run then ends Failed and names it."))
@holds_sending_slot("daily")
def daily(as_of: OptionalDay = as_of_field(),
          dry_run: bool = dry_run_field(DRY_RUN_HELP)) -> dict[str, FlowResult]:
    logger = get_run_logger()
    if dry_run:
        logger.warning("dry run: %s", DRY_RUN_HELP)
    # Each reads what the previous one committed; `return_state` so that a failure (a partner API outage)
    # does not stop today's rejection notices. The order is flows/catalog.py's IN_DAILY.
    states = [
        (ingest_decisions.name, ingest_decisions(as_of=as_of, return_state=True)),
        (sync_email_events.name, sync_email_events(as_of=as_of, return_state=True)),
        (send_rejections.name, send_rejections(as_of=as_of, dry_run=dry_run, return_state=True)),
        (sync_partner_stats.name, sync_partner_stats(as_of=as_of, return_state=True)),
        (recontact.name, recontact(as_of=as_of, dry_run=dry_run, return_state=True)),
        (retention.name, retention(as_of=as_of, dry_run=dry_run, return_state=True)),
    ]
    results: dict[str, FlowResult] = {}
    failed: list[str] = []
    for name, state in states:
        if state.is_completed():
            results[name] = state.result()
        else:
            failed.append(name)
            logger.error("sub-flow %s ended %s", name, state.type.value)
    rows, notes = summary([name for name, _ in states], results, failed)
    publish_rows(ARTIFACT_KEY, rows,
                   description=ja_en("日次処理の結果：各フローの件数を1行ずつ",
                                     "What the daily run did: one row per count of each flow"),
                   notes=[DRY_RUN_HELP, *notes] if dry_run else notes, dry_run=dry_run)
    if failed:
        raise SubFlowsFailed.naming("sub-flows", failed)
    return results


def summary(order: list[str], results: dict[str, FlowResult],
            failed: list[str]) -> tuple[list[dict[str, object]], list[str]]:
    """One `flow：項目` row per count, in the order run; failures and each flow's own notes as sentences."""
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    for name in order:
        if name in failed:
            notes.append(f"{name}: 失敗（このフローの件数はありません。ログを確認してください）")
            continue
        result = results[name]
        rows += count_rows(result.counts, flow=name)
        notes += [f"{name}: {note}" for note in result.notes]
    return rows, notes
