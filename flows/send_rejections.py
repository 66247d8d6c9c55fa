"""`send-rejections`: enqueue the notices that are due, then send them through the outbox; then the
`talent_pool` consent renewal mails, when `consent.renewal_enabled` (counts `renewals_*`)."""

from __future__ import annotations

from flows.artifacts import DRY_RUN_NOTE, publish_counts, sending_notes
from flows.declare import junkan_flow
from flows.overlap import holds_sending_slot
from flows.params import OptionalDay, as_of_field, dry_run_field, ja_en
from flows.results import FlowResult
from junkan.outbox.notices import flow_counts
from tasks.common import emit_message_alerts
from tasks.notify import enqueue_notices_task, send_consent_renewals_task, send_notices_task

ARTIFACT_KEY = "send-rejections-counts"


class SendingStopped(RuntimeError):
    """The provider refused our credentials (401/403), or a template is broken: the run ends Failed so
    that someone looks. The counts artifact is published first."""


DRY_RUN_HELP = ja_en(
    "期限の来た通知を作るだけで送りません（SendGrid のサンドボックス、file バックエンドなら outbox/dry-run/ "
    "の .eml）。同意更新メールは数えるだけです。キューへの追加・送信・状態の変更はしません。",
    "Render the due notices without sending them: SendGrid sandbox mode, or .eml files under "
    "outbox/dry-run/ for the file backend; consent renewals are only counted. Nothing is "
    "enqueued, sent or marked.")


@junkan_flow("send-rejections",
             description=ja_en(
                 "期限の来た不採用通知をキューに入れ、送信時間帯のうちにアウトボックスから1通ずつ確実に1回だけ"
                 "送ります。daily の一部。遅れを取り戻すときは手動で実行します。",
                 "Enqueue the rejection notices that are due and send them through the outbox, "
                 "exactly once, inside the sending window. Part of `daily`; run it by hand to catch up."))
@holds_sending_slot("send-rejections")
def send_rejections(as_of: OptionalDay = as_of_field(),
                    dry_run: bool = dry_run_field(DRY_RUN_HELP)) -> FlowResult:
    enqueued = enqueue_notices_task(as_of=as_of, dry_run=dry_run)
    sent = send_notices_task(as_of=as_of, dry_run=dry_run)
    renewals = send_consent_renewals_task(as_of=as_of, dry_run=dry_run)
    counts = {**flow_counts(enqueued, sent, dry_run=dry_run), **renewals}
    flags = {flag: bool(counts.pop(flag)) for flag in ("outside_window", "fatal", "dry_run")}
    result = FlowResult(counts, flags, sending_notes(outside_window=flags["outside_window"],
                                                     fatal=flags["fatal"], as_of=as_of))
    publish_counts(
        ARTIFACT_KEY,
        result.counts,
        description=ja_en("今回の不採用通知：期限到来・キュー追加・送信・配信停止・失敗・結果不明・取消の件数と、"
                          "同意更新メール（renewals_*）",
                          "Rejection notices this run: due, enqueued, sent, suppressed, failed, unknown, "
                          "cancelled; consent renewal mails (renewals_*)"),
        notes=[*result.notes, DRY_RUN_NOTE] if dry_run else result.notes,
        dry_run=dry_run,
    )
    if not dry_run:
        emit_message_alerts("send-rejections", counts)
    if flags["fatal"] or counts["renewals_fatal"]:
        raise SendingStopped("the mail provider refused our credentials; sending stopped (see the counts)")
    if counts["template_error"] or counts["renewals_template_error"]:
        raise SendingStopped("a mail template failed to render; those notices stay pending (see "
                             "`junkan outbox list --state pending`)")
    return result
