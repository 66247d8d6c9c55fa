"""`send-rejections`: enqueue the notices that are due, then send them through the outbox; then the
`talent_pool` consent renewal mails, when `consent.renewal_enabled` (counts `renewals_*`)."""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.overlap import holds_sending_slot
from junkan.outbox.notices import flow_counts
from tasks.alerts import emit_message_alerts
from tasks.consent import send_consent_renewals_task
from tasks.notify import enqueue_notices_task, send_notices_task
from tasks.persistence import RESULT_SERIALIZER

ARTIFACT_KEY = "send-rejections-counts"


class SendingStopped(RuntimeError):
    """The provider refused our credentials (401/403), or a template is broken: the run ends Failed so
    that someone looks. The counts artifact is published first."""


@flow(name="send-rejections", log_prints=False, result_serializer=RESULT_SERIALIZER)
@holds_sending_slot("send-rejections")
def send_rejections(as_of: date | None = None, dry_run: bool = False) -> dict[str, int]:
    enqueued = enqueue_notices_task(as_of=as_of, dry_run=dry_run)
    sent = send_notices_task(as_of=as_of, dry_run=dry_run)
    renewals = send_consent_renewals_task(as_of=as_of, dry_run=dry_run)
    counts = {**flow_counts(enqueued, sent, dry_run=dry_run), **renewals}
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=[{"count": name, "value": value} for name, value in counts.items()],
        description="Rejection notices this run: due, enqueued, sent, suppressed, failed, unknown, "
        "cancelled; consent renewal mails (renewals_*)"
        + (" (dry run: nothing sent, no state changed)" if dry_run else ""),
    )
    if not dry_run:
        emit_message_alerts("send-rejections", counts)
    if counts["fatal"] or counts["renewals_fatal"]:
        raise SendingStopped("the mail provider refused our credentials; sending stopped (see the counts)")
    if counts["template_error"] or counts["renewals_template_error"]:
        raise SendingStopped("a mail template failed to render; those notices stay pending (see "
                             "`junkan outbox list --state pending`)")
    return counts
