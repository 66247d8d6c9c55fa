"""Apply stored webhook events that could not take effect when they arrived.

Two cases: an event whose message was not yet known (it arrived before the outbox stored the provider id,
or before the message row committed), and a message that was `sending` when its events came and that crash
recovery later marked `unknown`. Both are settled from the stored events; nothing is re-sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.db.models import Message, MessageState
from junkan.db.models_engagement import EmailEvent
from junkan.engagement.events import MESSAGE_ID_ARG, STATE_EVENTS, apply_message_states, match_messages

#: Orphan events older than this are not retried: their message will not appear any more.
ORPHAN_WINDOW = timedelta(days=30)


def reconcile_messages(session: Session, *, now: datetime, key: bytes) -> dict[str, int]:
    """`key`: the address hash key (`JUNKAN_RETENTION__HASH_KEY`) the orphan events were stored under."""
    attached = attach_orphan_events(session, now=now, key=key)
    forget_stale_recipients(session, now=now)
    unknown_before = _count_unknown(session)
    ids: set[int] = set()
    # `accepted` too: an event that came while the worker still held the message was stored, not applied.
    for state in (MessageState.UNKNOWN, MessageState.ACCEPTED):
        ids.update(mid for mid in session.scalars(
            select(EmailEvent.message_id).distinct()
            .join(Message, Message.id == EmailEvent.message_id)
            .where(Message.state == state, EmailEvent.event.in_(STATE_EVENTS))
        ) if mid is not None)
    updated = apply_message_states(session, ids, now=now)
    unknown_after = _count_unknown(session)
    return {
        "events_attached": attached,
        "messages_updated": updated,
        "unknown_resolved": unknown_before - unknown_after,
        "unknown_remaining": unknown_after,
    }


def attach_orphan_events(session: Session, *, now: datetime, key: bytes) -> int:
    rows = session.execute(
        select(EmailEvent.id, EmailEvent.payload, EmailEvent.provider_message_id, EmailEvent.email_hash)
        .where(EmailEvent.message_id.is_(None), EmailEvent.received_at >= now - ORPHAN_WINDOW)
    ).all()
    if not rows:
        return 0
    wanted = []
    for _, payload, provider_id, recipient in rows:
        public_id = payload.get(MESSAGE_ID_ARG) if isinstance(payload, dict) else None
        wanted.append((public_id if isinstance(public_id, str) else None, provider_id, recipient))
    params = [{"b_id": row[0], "b_message": mid}
              for row, mid in zip(rows, match_messages(session, wanted, key), strict=True) if mid is not None]
    table = EmailEvent.__table__
    for batch in batched(params, 1000):
        session.execute(
            # Attached, the event needs the recipient hash no more (see junkan.engagement.events).
            update(table).where(table.c.id == bindparam("b_id")).values(message_id=bindparam("b_message"),
                                                                        email_hash=None),
            batch,
        )
    return len(params)


def forget_stale_recipients(session: Session, *, now: datetime) -> None:
    """An orphan past ORPHAN_WINDOW will never be attached: its recipient hash has served its purpose."""
    table = EmailEvent.__table__
    session.execute(update(table).where(table.c.message_id.is_(None), table.c.email_hash.is_not(None),
                                        table.c.received_at < now - ORPHAN_WINDOW).values(email_hash=None))


def _count_unknown(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(Message).where(Message.state == MessageState.UNKNOWN)
    ) or 0


def events_received(session: Session, *, since: datetime, until: datetime) -> int:
    """Webhook events stored in [since, until): shows in the artifact whether the webhook is alive."""
    return session.scalar(
        select(func.count()).select_from(EmailEvent)
        .where(EmailEvent.received_at >= since, EmailEvent.received_at < until)
    ) or 0
