"""Reconciliation of messages left `unknown`, and the engagement metrics the reports read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select

from junkan.db import session_scope
from junkan.db.models import Message
from junkan.db.models_engagement import Click, EmailEvent
from junkan.engagement.events import ingest_events
from junkan.engagement.metrics import EngagementRow, engagement_summary, message_engagement
from junkan.engagement.optout import unsubscribe_message
from junkan.engagement.reconcile import ORPHAN_WINDOW, reconcile_messages
from tests.integration._engagement_data import add_message, event
from tests.privacy_support import KEY, hashed

NOW = datetime(2026, 11, 19, 0, 0, tzinfo=UTC)
TS = int(datetime(2026, 11, 18, 2, 0, tzinfo=UTC).timestamp())


def states(engine: Engine) -> dict[int, str]:
    with session_scope(engine) as s:
        return dict(s.execute(select(Message.id, Message.state)).all())


def test_unknown_and_stale_accepted_messages_settle_from_stored_events(engine: Engine) -> None:
    with session_scope(engine) as s:
        # Events arrived while the worker still held these messages (`sending`): stored, not applied.
        crashed = add_message(s, email="crash@example.jp", state="sending", provider_message_id="xid-crash")
        raced = add_message(s, email="race@example.jp", state="sending", provider_message_id="xid-race")
        silent = add_message(s, email="silent@example.jp", state="unknown", provider_message_id="")
        ingest_events(s, [event("processed", crashed, email="crash@example.jp", ts=TS),
                          event("delivered", raced, email="race@example.jp", ts=TS + 5)], now=NOW, key=KEY)
    assert states(engine) == {crashed.id: "sending", raced.id: "sending", silent.id: "unknown"}
    with session_scope(engine) as s:
        # Crash recovery marks one unknown; the worker of the other finished and stored `accepted`.
        s.get(Message, crashed.id).state = "unknown"
        s.get(Message, raced.id).state = "accepted"

    with session_scope(engine) as s:
        counts = reconcile_messages(s, now=NOW, key=KEY)

    assert counts == {"events_attached": 0, "messages_updated": 2, "unknown_resolved": 1,
                      "unknown_remaining": 1}
    assert states(engine) == {crashed.id: "accepted", raced.id: "delivered", silent.id: "unknown"}
    with session_scope(engine) as s:
        assert reconcile_messages(s, now=NOW, key=KEY)["messages_updated"] == 0  # idempotent


def test_events_that_came_before_their_message_was_known_are_attached_later(engine: Engine) -> None:
    with session_scope(engine) as s:
        msg = add_message(s, email="early@example.jp", state="unknown", provider_message_id="")
        early = event("delivered", None, email="early@example.jp", ts=TS)
        early["sg_message_id"] = "xid-early.filter0001.1"
        ingest_events(s, [early], now=NOW, key=KEY)
        assert s.scalars(select(EmailEvent.message_id)).all() == [None]
        s.get(Message, msg.id).provider_message_id = "xid-early"  # the outbox learns the id afterwards

    with session_scope(engine) as s:
        counts = reconcile_messages(s, now=NOW + timedelta(hours=1), key=KEY)

    assert counts["events_attached"] == 1 and counts["unknown_resolved"] == 1
    assert states(engine)[msg.id] == "delivered"
    with session_scope(engine) as s:  # attached, the event keeps no hash of its recipient
        assert s.execute(select(EmailEvent.message_id, EmailEvent.email_hash)).all() == [(msg.id, None)]


def test_an_orphan_event_forgets_its_recipient_once_it_can_no_longer_be_attached(engine: Engine) -> None:
    stray = event("bounce", None, email="stray@example.jp", ts=TS)
    stray["sg_message_id"] = "xid-never.filter0001.1"
    with session_scope(engine) as s:
        ingest_events(s, [stray], now=NOW, key=KEY)
    with session_scope(engine) as s:
        reconcile_messages(s, now=NOW + ORPHAN_WINDOW - timedelta(seconds=1), key=KEY)
        assert s.scalars(select(EmailEvent.email_hash)).all() == [hashed("stray@example.jp")]
    with session_scope(engine) as s:
        reconcile_messages(s, now=NOW + ORPHAN_WINDOW + timedelta(seconds=1), key=KEY)
        assert s.execute(select(EmailEvent.message_id, EmailEvent.email_hash)).all() == [(None, None)]


def test_metrics_per_message_and_per_kind_template_and_period(engine: Engine) -> None:
    nov = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)
    dec = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        opened = add_message(s, email="o@example.jp", accepted_at=nov)
        clicked = add_message(s, email="c@example.jp", accepted_at=nov, advertising=True)
        bounced = add_message(s, email="b@example.jp", accepted_at=nov)
        unsub = add_message(s, email="u@example.jp", accepted_at=nov)
        recontact = add_message(s, email="r@example.jp", kind="recontact", template="recontact_new_job",
                                accepted_at=dec, state="delivered")
        add_message(s, state="pending")  # never sent: not counted
        ts = int(nov.timestamp())
        ingest_events(s, [
            event("delivered", opened, email="o@example.jp", ts=ts + 1),
            event("open", opened, email="o@example.jp", ts=ts + 60),
            event("open", opened, email="o@example.jp", ts=ts + 90),
            event("delivered", clicked, email="c@example.jp", ts=ts + 1),
            event("bounce", bounced, email="b@example.jp", ts=ts + 2, type="bounce"),
            event("delivered", unsub, email="u@example.jp", ts=ts + 1),
        ], now=NOW, key=KEY)
        s.add_all([Click(message_id=clicked.id, link="partner", clicked_at=NOW, fetches=2),
                   Click(message_id=clicked.id, link="partner", kind="scanner", clicked_at=NOW),
                   Click(message_id=opened.id, link="partner", kind="scanner", clicked_at=NOW),
                   Click(message_id=unsub.id, link="unsubscribe", clicked_at=NOW)])
        unsubscribe_message(s, unsub.public_id, at=NOW, key=KEY)

    with session_scope(engine) as s:
        per_message = {m.message_id: m for m in message_engagement(
            s, datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))}
        monthly = engagement_summary(s, date(2026, 11, 1), date(2026, 12, 31), period="month")
        weekly = engagement_summary(s, date(2026, 11, 16), date(2026, 11, 22), period="week")

    assert set(per_message) == {opened.id, clicked.id, bounced.id, unsub.id, recontact.id}
    m = per_message[opened.id]
    # A mail scanner fetched its link: not a click.
    assert (m.delivered, m.opened, m.clicked, m.bounced, m.unsubscribed) == (True, True, False, False, False)
    assert per_message[clicked.id].clicked and not per_message[unsub.id].clicked  # unsubscribe link excluded
    assert per_message[unsub.id].unsubscribed
    assert per_message[recontact.id].delivered  # SMTP/file backends: the state is the evidence
    assert monthly == [
        EngagementRow(kind="rejection", template_name="rejection_notice", period_start=date(2026, 11, 1),
                      sent=4, delivered=3, bounced=1, opened=1, clicked=1, unsubscribed=1),
        EngagementRow(kind="recontact", template_name="recontact_new_job", period_start=date(2026, 12, 1),
                      sent=1, delivered=1),
    ]
    assert [(r.period_start, r.sent) for r in weekly] == [(date(2026, 11, 16), 4)]
