"""Settling `unknown` messages from the webhook's evidence, so that a crash needs no operator (docs/outbox.md,
"Settling `unknown` messages").

A message is `unknown` when it may or may not have reached the provider (a run died while it was
`sending`, or its request was never answered). SendGrid posts events for every message it accepts
(`processed`, `delivered`, `bounce` …, each carrying our `junkan_message_id`), and
`junkan.engagement.reconcile` settles an `unknown` message that has such events as sent. The opposite proof
is an absence, and an absence proves something only while the webhook is known to be working. So a message
goes back to `pending` only when

- JUNKAN_MAIL__UNKNOWN_SETTLE_S has passed since it was handed over, and no event of it has arrived; and
- events did arrive, after it was handed over, for messages handed over after it: the provider took later
  requests and the webhook reported them.

Its reason is recorded (`last_error_code = not_received`, `resolution = auto_resend`, `resolved_at`), and
the next run sends it. Anything else stays `unknown` for an operator: no webhook at all (the SMTP backend,
a webhook not configured or down), or the window not over yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from junkan.db.models import Message
from junkan.db.models_engagement import EmailEvent

NOT_RECEIVED = "not_received"
AUTO_RESEND = "auto_resend"
_REASON = ("no provider event within {window:g} s of the hand-over, while the webhook reported later "
           "messages: the provider never accepted it; back to pending, the next run sends it")


@dataclass(frozen=True, slots=True)
class Settled:
    #: Public ids put back to `pending`.
    resent: list[str]
    #: `unknown` messages past the window that the evidence could not decide: an operator settles them.
    waiting: int
    #: `unknown` messages still inside the window (their events may still come).
    in_window: int

    def counts(self) -> dict[str, int]:
        return {"unknown_resent": len(self.resent), "unknown_waiting_for_operator": self.waiting,
                "unknown_in_window": self.in_window}


def settle_unknown(session: Session, *, now: datetime, window: timedelta) -> Settled:
    """Put back to `pending` every `unknown` message the webhook proves the provider never took (see the
    module); run it after the stored events have been applied (`reconcile_messages`). `now` is the wall
    clock: the window is about when events can arrive, not about a re-run's business day."""
    later = aliased(Message)
    heard = exists().where(EmailEvent.message_id == Message.id)
    webhook_live = exists(
        select(EmailEvent.id).join(later, later.id == EmailEvent.message_id)
        .where(EmailEvent.received_at > Message.sending_at, later.sending_at > Message.sending_at)
    )
    past_window = and_(Message.state == "unknown", Message.sending_at.is_not(None),
                       Message.sending_at <= now - window)
    resent = list(session.scalars(
        update(Message)
        .where(past_window, ~heard, webhook_live)
        .values(state="pending", resolution=AUTO_RESEND, resolved_at=now, last_error_code=NOT_RECEIVED,
                last_error=_REASON.format(window=window.total_seconds()), lease_owner=None,
                lease_until=None, updated_at=now)
        .returning(Message.public_id)
        .execution_options(synchronize_session=False)
    ))
    fresh = Message.sending_at > now - window
    in_window = session.scalar(select(func.count()).select_from(Message).where(
        Message.state == "unknown", fresh)) or 0
    unknown = session.scalar(select(func.count()).select_from(Message).where(Message.state == "unknown")) or 0
    waiting = unknown - in_window
    return Settled(resent=sorted(resent), waiting=waiting, in_window=in_window)
