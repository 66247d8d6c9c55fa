"""`unknown` messages settle without an operator when the webhook's evidence allows it
(junkan/outbox/settle.py): back to `pending` when the webhook reported later messages and nothing of this
one within the window; as sent when an event of it arrived; otherwise still `unknown`, counted as waiting
for an operator."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from junkan.db import session_scope
from junkan.db.models import Message
from junkan.db.models_engagement import EmailEvent
from junkan.engagement.reconcile import reconcile_messages
from junkan.outbox.settle import settle_unknown
from tests.integration._engagement_data import add_message

HANDED_OVER = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)
AFTER_WINDOW = HANDED_OVER + WINDOW + timedelta(minutes=1)
KEY = b"k" * 32


def _unknown(engine: Engine, sending_at: datetime = HANDED_OVER) -> str:
    with session_scope(engine) as s:
        m = add_message(s, state="unknown", provider_message_id="")
        m.provider_message_id = None
        m.sending_at = sending_at
        m.last_error_code = "crash"
        return m.public_id


def _event_of_a_message(engine: Engine, *, sent: datetime, received: datetime, public_id: str | None = None,
                        kind: str = "processed") -> None:
    """A webhook event stored for `public_id`, or for a new accepted message handed over at `sent`."""
    with session_scope(engine) as s:
        if public_id is None:
            m = add_message(s, state="accepted")
            m.sending_at = sent
        else:
            m = s.scalars(select(Message).where(Message.public_id == public_id)).one()
        token = secrets.token_hex(8)
        s.add(EmailEvent(sg_event_id=token, dedup_key=token, message_id=m.id, event=kind,
                         occurred_at=received, received_at=received,
                         payload={"event": kind, "junkan_message_id": m.public_id}))


def _settle(engine: Engine, now: datetime = AFTER_WINDOW) -> tuple[list[str], int, int]:
    with session_scope(engine) as s:
        reconcile_messages(s, now=now, key=KEY)
        done = settle_unknown(s, now=now, window=WINDOW)
    return done.resent, done.waiting, done.in_window


def _message(engine: Engine, public_id: str) -> Message:
    with session_scope(engine) as s:
        return s.scalars(select(Message).where(Message.public_id == public_id)).one()


def test_no_event_within_the_window_while_the_webhook_reported_later_messages_goes_back_to_pending(
    engine: Engine
) -> None:
    pid = _unknown(engine)
    _event_of_a_message(engine, sent=HANDED_OVER + timedelta(seconds=5),
                        received=HANDED_OVER + timedelta(seconds=20))

    assert _settle(engine) == ([pid], 0, 0)
    m = _message(engine, pid)
    assert (m.state, m.resolution, m.last_error_code) == ("pending", "auto_resend", "not_received")
    assert m.resolved_at is not None and "never accepted" in (m.last_error or "")


def test_an_event_of_the_message_settles_it_as_sent(engine: Engine) -> None:
    pid = _unknown(engine)
    _event_of_a_message(engine, sent=HANDED_OVER + timedelta(seconds=5),
                        received=HANDED_OVER + timedelta(seconds=20))
    _event_of_a_message(engine, sent=HANDED_OVER, received=HANDED_OVER + timedelta(minutes=50),
                        public_id=pid, kind="delivered")

    assert _settle(engine) == ([], 0, 0)
    assert _message(engine, pid).state == "delivered"


def test_without_a_live_webhook_it_stays_unknown_and_waits_for_an_operator(engine: Engine) -> None:
    pid = _unknown(engine)
    # Events came, but only about messages handed over before this one: nothing says the webhook still
    # reported anything once this one was sent.
    _event_of_a_message(engine, sent=HANDED_OVER - timedelta(minutes=5),
                        received=HANDED_OVER + timedelta(seconds=30))

    assert _settle(engine) == ([], 1, 0)
    assert _message(engine, pid).state == "unknown"


def test_inside_the_window_it_stays_unknown_for_its_events_may_still_come(engine: Engine) -> None:
    pid = _unknown(engine)
    _event_of_a_message(engine, sent=HANDED_OVER + timedelta(seconds=5),
                        received=HANDED_OVER + timedelta(seconds=20))

    assert _settle(engine, now=HANDED_OVER + WINDOW - timedelta(minutes=1)) == ([], 0, 1)
    assert _message(engine, pid).state == "unknown"
