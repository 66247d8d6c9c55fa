"""The webhook's bulk path: concurrent duplicate deliveries, batches past every chunk size, and the
driver-level statements behind it, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message, Suppression
from junkan.db.models_engagement import EmailEvent
from junkan.engagement.event_sql import EventRow, event_sql
from junkan.engagement.events import begin_webhook_batch, ingest_events
from junkan.outbox.delivery import StateTarget, advance_states
from tests.integration._engagement_data import (
    WebhookKeys,
    add_message,
    body,
    event,
    messages_to,
    sent_message,
)
from tests.integration._webhook import NOW, TS, client
from tests.privacy_support import KEY, hashed

# The anyio_backend fixture (asyncio) comes from tests/integration/conftest.py.
pytestmark = pytest.mark.anyio


async def post(c: httpx.AsyncClient, keys: WebhookKeys, events: list[dict[str, Any]]) -> dict[str, int]:
    raw = body(events)
    resp = await c.post("/hooks/sendgrid", content=raw, headers=keys.sign(raw, int(NOW)))
    assert resp.status_code == 200, resp.text
    result: dict[str, int] = resp.json()
    return result


async def test_concurrent_duplicate_deliveries_store_every_event_once(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    msgs = messages_to(engine, *(f"c{i}@example.jp" for i in range(40)))
    events = []
    for i, m in enumerate(msgs):
        events.append(event("delivered", m, email=f"c{i}@example.jp", ts=TS + i))
        events.append(event("open", m, email=f"c{i}@example.jp", ts=TS + 100 + i))
        if i % 10 == 0:
            events.append(event("bounce", m, email=f"c{i}@example.jp", ts=TS + 50 + i, type="bounce"))
    rng = random.Random(4)
    deliveries = []
    for copy in range(3):
        shuffled = list(events)
        rng.shuffle(shuffled)
        if copy:  # SendGrid's re-sends sometimes carry a fresh event id
            shuffled = [{**e, "sg_event_id": f"resent{copy}-{e['sg_event_id']}"} if n % 3 == 0 else e
                        for n, e in enumerate(shuffled)]
        deliveries += [shuffled[: len(shuffled) // 2], shuffled[len(shuffled) // 2:]]
    async with client(hook_settings) as c:
        results = await asyncio.gather(*(post(c, keys, d) for d in deliveries))

    assert sum(r["stored"] for r in results) == len(events)
    assert sum(r["duplicates"] for r in results) == 2 * len(events)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(EmailEvent)) == len(events)
        states = dict(s.execute(select(Message.id, Message.state)).all())
        delivered_at = dict(s.execute(select(Message.id, Message.delivered_at)).all())
        suppressed = set(s.scalars(select(Suppression.email_hash)))
    assert states == {m.id: "bounced" if i % 10 == 0 else "delivered" for i, m in enumerate(msgs)}
    assert delivered_at == {m.id: datetime.fromtimestamp(TS + i, UTC) for i, m in enumerate(msgs)}
    assert suppressed == {hashed(f"c{i}@example.jp") for i in range(0, 40, 10)}


async def test_a_batch_larger_than_every_chunk_updates_each_message_right(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    with session_scope(engine) as s:
        accepted = [add_message(s, email=f"a{i}@example.jp") for i in range(1100)]
        unknown = add_message(s, email="u@example.jp", state="unknown")
        sending = add_message(s, email="s@example.jp", state="sending")
        cancelled = add_message(s, email="x@example.jp", state="cancelled")
    events = []
    for i, m in enumerate(accepted):
        events.append(event("processed", m, email=f"a{i}@example.jp", ts=TS))
        if i % 2 == 0:
            events.append(event("delivered", m, email=f"a{i}@example.jp", ts=TS + 10 + i % 7))
        if i % 100 == 1:
            events.append(event("dropped", m, email=f"a{i}@example.jp", ts=TS + 5))
    events += [event("open", unknown, email="u@example.jp", ts=TS + 30),
               event("delivered", unknown, email="u@example.jp", ts=TS + 20),
               event("delivered", sending, email="s@example.jp", ts=TS + 20),
               event("delivered", cancelled, email="x@example.jp", ts=TS + 20)]
    random.Random(9).shuffle(events)
    async with client(hook_settings) as c:
        result = await post(c, keys, events)
    assert result["stored"] == len(events) > 1500

    with session_scope(engine) as s:
        rows = {m.id: m for m in s.scalars(select(Message))}
    for i, m in enumerate(accepted):
        got = rows[m.id]
        expected = "failed" if i % 100 == 1 else "delivered" if i % 2 == 0 else "accepted"
        assert got.state == expected, (i, got.state)
        assert got.delivered_at == (datetime.fromtimestamp(TS + 10 + i % 7, UTC)
                                    if expected == "delivered" else None)
    # `unknown` gains its first evidence as the accepted time; the worker's and the cancelled rows stay.
    assert (rows[unknown.id].state, rows[unknown.id].accepted_at, rows[unknown.id].delivered_at) == (
        "delivered", datetime.fromtimestamp(TS + 20, UTC), datetime.fromtimestamp(TS + 20, UTC))
    assert (rows[sending.id].state, rows[cancelled.id].state) == ("sending", "cancelled")


def test_delivery_time_comes_from_an_event_stored_before_the_message_could_move(engine: Engine) -> None:
    at = datetime.fromtimestamp(NOW, UTC)
    msg = sent_message(engine, email="w@example.jp", state="sending")
    with session_scope(engine) as s:
        begin_webhook_batch(s)
        ingest_events(s, [event("delivered", msg, email="w@example.jp", ts=TS)], now=at, key=KEY)
    with session_scope(engine) as s:
        m = s.get(Message, msg.id)
        assert m is not None and m.state == "sending"  # the worker still holds it
        m.state, m.accepted_at = "accepted", at  # …and then records the API's answer
    with session_scope(engine) as s:
        begin_webhook_batch(s)
        ingest_events(s, [event("open", msg, email="w@example.jp", ts=TS + 60)], now=at, key=KEY)
    with session_scope(engine) as s:
        m = s.get(Message, msg.id)
        assert m is not None
        assert (m.state, m.delivered_at) == ("delivered", datetime.fromtimestamp(TS, UTC))


def test_driver_level_insert_reports_only_rows_new_on_both_keys(engine: Engine) -> None:
    now = datetime(2026, 11, 18, 4, 30, 15, 123456, tzinfo=UTC)
    occurred = datetime(2026, 11, 18, 1, 2, 3, tzinfo=UTC)
    msg = sent_message(engine)

    def row(event_id: str, dedup: str, payload: dict[str, Any] | None = None) -> EventRow:
        return EventRow(event_id, dedup, msg.id, "xid", "delivered", occurred, "h" * 64,
                        json.dumps(payload or {"n": event_id}))

    with session_scope(engine) as s:
        conn = s.connection()
        first = event_sql(conn).insert_events(conn, [row("e1", "d1"), row("e2", "d2")], now=now)
    assert first == {"e1", "e2"}
    with session_scope(engine) as s:
        conn = s.connection()
        again = event_sql(conn).insert_events(conn, [
            row("e1", "d9"),  # same event id
            row("e3", "d2"),  # re-sent under a new id: same dedup key
            row("e4", "d4", {"text": "ünï", "nested": {"list": [1, None, True]}}),
        ], now=now + timedelta(minutes=1))
    assert again == {"e4"}

    with session_scope(engine) as s:
        stored = {e.sg_event_id: e for e in s.scalars(select(EmailEvent))}
    assert sorted(stored) == ["e1", "e2", "e4"]
    e4 = stored["e4"]
    assert (e4.message_id, e4.event, e4.occurred_at, e4.received_at, e4.source) == (
        msg.id, "delivered", occurred, now + timedelta(minutes=1), "sendgrid")
    assert e4.payload == {"text": "ünï", "nested": {"list": [1, None, True]}}
    assert stored["e1"].received_at == now  # the first arrival is what stays
    with session_scope(engine) as s:  # the ORM and the driver-level rows compare as the same instants
        later = s.scalars(select(EmailEvent.sg_event_id).where(EmailEvent.received_at > now)).all()
    assert later == ["e4"]


def test_driver_level_state_update_only_moves_messages_forward(engine: Engine) -> None:
    now = datetime(2026, 11, 18, 5, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        m_unknown = add_message(s, state="unknown")
        m_accepted = add_message(s)
        m_delivered = add_message(s, state="delivered")
        m_bounced = add_message(s, state="bounced")
        m_sending = add_message(s, state="sending")
    targets = [StateTarget(m_unknown.id, "accepted", 1), StateTarget(m_accepted.id, "delivered", 2),
               StateTarget(m_delivered.id, "delivered", 2), StateTarget(m_bounced.id, "failed", 3),
               StateTarget(m_sending.id, "delivered", 2), StateTarget(10**9, "delivered", 2)]
    with session_scope(engine) as s:
        conn = s.connection()
        changed = advance_states(conn, targets, now=now)
    assert changed == 2
    with session_scope(engine) as s:
        rows = {m.id: (m.state, m.updated_at == now) for m in s.scalars(select(Message))}
    assert rows == {m_unknown.id: ("accepted", True), m_accepted.id: ("delivered", True),
                    m_delivered.id: ("delivered", False), m_bounced.id: ("bounced", False),
                    m_sending.id: ("sending", False)}


async def test_a_delivery_reported_after_an_open_or_a_bounce_still_sets_the_delivery_time(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    opened, bounced = messages_to(engine, "o@example.jp", "b@example.jp")
    async with client(hook_settings) as c:
        early = [event("open", opened, email="o@example.jp", ts=TS + 60),
                 event("bounce", bounced, email="b@example.jp", ts=TS + 60, type="bounce")]
        first = await post(c, keys, early)
        late = [event("delivered", opened, email="o@example.jp", ts=TS + 5),
                event("delivered", bounced, email="b@example.jp", ts=TS + 7)]
        second = await post(c, keys, late)
        again = await post(c, keys, late)
    assert (first["state_changes"], second["state_changes"]) == (2, 0)
    assert (second["stored"], again["stored"]) == (2, 0)
    with session_scope(engine) as s:
        rows = {m.id: (m.state, m.delivered_at) for m in s.scalars(select(Message))}
    assert rows == {opened.id: ("delivered", datetime.fromtimestamp(TS + 5, UTC)),
                    bounced.id: ("bounced", datetime.fromtimestamp(TS + 7, UTC))}


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=9), timedelta(hours=-5, minutes=-30)])
def test_driver_level_times_are_stored_exactly_as_the_orm_stores_them(engine: Engine,
                                                                      offset: timedelta) -> None:
    # On SQLite times are compared as text in SQL (min(), report ranges): both writers must store the
    # same text for the same instant, in whatever zone it was given.
    zone = timezone(offset)
    instants = [datetime(2026, 11, 18, 1, 2, 3, tzinfo=zone),
                datetime(2026, 11, 18, 1, 2, 3, 450, tzinfo=zone),
                datetime(2099, 12, 30, 23, 59, 59, 999999, tzinfo=zone)]
    with session_scope(engine) as s:
        for i, at in enumerate(instants):
            s.add(EmailEvent(sg_event_id=f"orm-{i}", dedup_key=f"orm-{i}", event="open", occurred_at=at,
                             received_at=at, source="sendgrid", payload={}))
    with session_scope(engine) as s:
        conn = s.connection()
        for i, at in enumerate(instants):
            event_sql(conn).insert_events(conn, [EventRow(f"drv-{i}", f"drv-{i}", None, None, "open", at,
                                                          None, "{}")], now=at)
    with session_scope(engine) as s:
        distinct = s.execute(
            select(func.count(func.distinct(EmailEvent.occurred_at)),
                   func.count(func.distinct(EmailEvent.received_at)))).one()
        first = s.scalar(select(func.min(EmailEvent.occurred_at)))
    assert tuple(distinct) == (len(instants), len(instants))
    assert first == instants[0]
