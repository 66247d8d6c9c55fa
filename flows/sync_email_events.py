"""`sync-email-events`: pull the provider's suppressions and apply stored webhook events (docs/engagement.md).

Runs inside `daily` before `send-rejections`, so today's sends already skip yesterday's bounces and
opt-outs. A failed pull does not stop reconciliation; the run still ends Failed and says which part failed.
"""

from __future__ import annotations

from prefect import get_run_logger

from flows.artifacts import publish_counts
from flows.declare import PartsFailed, junkan_flow
from flows.params import OptionalDay, as_of_field, ja_en
from flows.results import FlowResult
from tasks.common import emit_message_alerts
from tasks.engagement import pull_suppressions_task, reconcile_task, settle_unknown_task

ARTIFACT_KEY = "sync-email-events-counts"


class EmailEventSyncFailed(PartsFailed):
    """The pull of the provider's suppressions failed; stored events were still reconciled."""


@junkan_flow("sync-email-events",
             description=ja_en(
                 "SendGrid の不達・ブロック・配信停止を取り込み、保存済みの Webhook イベントでメールの状態を"
                 "確定します（受け付けられなかったと分かった結果不明のメールは送信待ちに戻します）。"
                 "daily の一部（send-rejections の前）。障害のあとは手動で実行します。",
                 "Pull SendGrid's bounces, blocks and unsubscribes, and settle messages from the "
                 "stored webhook events (`unknown` ones the webhook proves never accepted go back to "
                 "pending). Part of `daily` (before `send-rejections`); run it by hand after an "
                 "outage."))
def sync_email_events(as_of: OptionalDay = as_of_field()) -> FlowResult:
    logger = get_run_logger()
    failed: list[str] = []
    counts: dict[str, int] = {}
    pulled = pull_suppressions_task(as_of, return_state=True)
    if pulled.is_completed():
        suppressions = pulled.result()
        counts.update(suppressions)
        counts["suppressions_added"] = sum(v for k, v in suppressions.items() if k.endswith("_added"))
    else:
        failed.append("pull-sendgrid-suppressions")
        logger.error("pulling SendGrid suppressions ended %s", pulled.type.value)
    counts.update(reconcile_task(as_of))
    # After the events are applied: what they settled as sent is no longer `unknown`.
    counts.update(settle_unknown_task())
    # What the evidence could not decide waits for an operator: the alert says how many.
    emit_message_alerts("sync-email-events", {"unknown": counts["unknown_waiting_for_operator"]})
    publish_counts(
        ARTIFACT_KEY,
        counts,
        description=ja_en("SendGrid の配信停止リストの取り込みと、Webhook イベントによるメール状態の照合",
                          "SendGrid suppressions merged and messages reconciled from stored webhook events"),
        notes=[f"{name} が失敗したため、その件数はありません" for name in failed],
    )
    if failed:
        raise EmailEventSyncFailed.naming("sync-email-events", failed)
    return FlowResult(counts)
