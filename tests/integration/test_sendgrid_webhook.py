"""The signed SendGrid event webhook: verification, durable storage, de-duplication and its effects."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Candidate, Consent, Message, Quarantine, Suppression
from junkan.db.models_engagement import EmailEvent
from tests.integration._engagement_data import (
    WebhookKeys,
    add_message,
    body,
    event,
    grant,
    messages_to,
    sent_message,
)
from tests.integration._webhook import NOW, TS, client
from tests.privacy_support import hashed

# The anyio_backend fixture (asyncio) comes from tests/integration/conftest.py.
pytestmark = pytest.mark.anyio


async def post(c: httpx.AsyncClient, keys: WebhookKeys, events: list[dict[str, Any]],
               stamp: int | None = None) -> httpx.Response:
    raw = body(events)
    return await c.post("/hooks/sendgrid", content=raw, headers=keys.sign(raw, stamp or int(NOW)))


def state(engine: Engine) -> dict[str, Any]:
    with session_scope(engine) as s:
        return {
            "events": sorted(s.execute(select(EmailEvent.sg_event_id, EmailEvent.message_id, EmailEvent.event,
                                              EmailEvent.occurred_at)).all()),
            "messages": sorted(s.execute(select(Message.id, Message.state, Message.delivered_at,
                                                Message.cancelled_reason)).all()),
            "suppressions": sorted(s.execute(select(Suppression.email_hash, Suppression.reason)).all()),
            "consents": sorted(s.execute(select(Consent.candidate_id, Consent.purpose, Consent.granted,
                                                Consent.source)).all()),
        }


async def test_valid_batch_is_stored_without_personal_data_and_updates_messages(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    m1, m2 = messages_to(engine, "taro@example.jp", "jiro@example.jp")
    events = [
        event("processed", m1, email="taro@example.jp", ts=TS),
        event("delivered", m1, email="taro@example.jp", ts=TS + 5, ip="203.0.113.9",
              response="250 2.0.0 OK <taro@example.jp> queued"),
        event("open", m1, email="taro@example.jp", ts=TS + 60, ip="203.0.113.9",
              useragent="Mozilla/5.0", sg_machine_open=False),
        event("click", m1, email="taro@example.jp", ts=TS + 90, url="https://mail.example.co.jp/r/x",
              ip="203.0.113.9", useragent="Mozilla/5.0"),
        event("delivered", m2, email="JIRO@Example.jp", ts=TS + 7),
    ]
    async with client(hook_settings) as c:
        resp = await post(c, keys, events)
    assert resp.status_code == 200
    assert resp.json()["stored"] == 5 and resp.json()["duplicates"] == 0

    with session_scope(engine) as s:
        stored = s.scalars(select(EmailEvent).order_by(EmailEvent.occurred_at)).all()
        msgs = {m.id: m for m in s.scalars(select(Message))}
    assert [(e.event, e.message_id) for e in stored] == [
        ("processed", m1.id), ("delivered", m1.id), ("delivered", m2.id), ("open", m1.id), ("click", m1.id)]
    for e in stored:
        text = json.dumps(e.payload)
        assert "example.jp" not in text and "203.0.113.9" not in text and "Mozilla" not in text
        assert "email" not in e.payload and "ip" not in e.payload and "useragent" not in e.payload
    # Each event has its message, which names the recipient: no hash of the address is kept at all.
    assert [e.email_hash for e in stored] == [None] * 5
    assert stored[1].payload["response_code"] == "250 2.0.0" and "response" not in stored[1].payload
    assert msgs[m1.id].state == "delivered"
    assert msgs[m1.id].delivered_at == datetime.fromtimestamp(TS + 5, UTC)
    assert msgs[m2.id].state == "delivered"


async def test_tampered_body_wrong_key_stale_or_missing_signature_get_403(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    msg = sent_message(engine)
    raw = body([event("delivered", msg, email="a@example.jp", ts=TS)])
    good = keys.sign(raw, int(NOW))
    async with client(hook_settings) as c:
        tampered = raw.replace(b"delivered", b"bounce\x20\x20\x20")
        assert (await c.post("/hooks/sendgrid", content=tampered, headers=good)).status_code == 403
        other = WebhookKeys().sign(raw, int(NOW))
        assert (await c.post("/hooks/sendgrid", content=raw, headers=other)).status_code == 403
        # A captured request replayed later, with its original (valid) signature, is too old.
        stale = keys.sign(raw, int(NOW) - 601)
        assert (await c.post("/hooks/sendgrid", content=raw, headers=stale)).status_code == 403
        future = keys.sign(raw, int(NOW) + 601)
        assert (await c.post("/hooks/sendgrid", content=raw, headers=future)).status_code == 403
        # The timestamp is part of what is signed: moving it invalidates the signature.
        moved = {**good, "X-Twilio-Email-Event-Webhook-Timestamp": str(int(NOW) - 1)}
        assert (await c.post("/hooks/sendgrid", content=raw, headers=moved)).status_code == 403
        garbage = {**good, "X-Twilio-Email-Event-Webhook-Signature": "not base64!"}
        assert (await c.post("/hooks/sendgrid", content=raw, headers=garbage)).status_code == 403
        assert (await c.post("/hooks/sendgrid", content=raw)).status_code == 403
        # Within the window it is accepted.
        assert (await c.post("/hooks/sendgrid", content=raw, headers=keys.sign(raw, int(NOW) - 599))
                ).status_code == 200
    with session_scope(engine) as s:
        assert len(s.scalars(select(EmailEvent)).all()) == 1


async def test_unconfigured_key_and_malformed_bodies(engine: Engine, settings: Settings,
                                                     hook_settings: Settings, keys: WebhookKeys) -> None:
    raw = body([])
    async with client(settings) as c:  # no public key: refuse (and let SendGrid retry later)
        resp = await c.post("/hooks/sendgrid", content=raw, headers=keys.sign(raw, int(NOW)))
        assert resp.status_code == 503
    async with client(hook_settings) as c:
        for payload in (b"{not json", b'{"event": "delivered"}'):
            resp = await c.post("/hooks/sendgrid", content=payload, headers=keys.sign(payload, int(NOW)))
            assert resp.status_code == 400
        assert (await post(c, keys, [])).json()["stored"] == 0


async def test_three_deliveries_in_random_order_leave_the_state_of_one(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    with session_scope(engine) as s:
        delivered = add_message(s, email="d@example.jp")
        hard = add_message(s, email="hard@example.jp")
        soft = add_message(s, email="soft@example.jp")
        dropped = add_message(s, email="drop@example.jp")
        spam = add_message(s, email="spam@example.jp")
        unsub = add_message(s, email="unsub@example.jp", advertising=True)
        cand = s.get(Candidate, unsub.candidate_id)
        pending_ad = add_message(s, candidate=cand, kind="recontact", advertising=True, state="pending")
        grant(s, unsub.candidate_id, "partner_info")
        grant(s, unsub.candidate_id, "recontact")
        group = add_message(s, email="group@example.jp")
    events = [
        event("processed", delivered, email="d@example.jp", ts=TS),
        event("delivered", delivered, email="d@example.jp", ts=TS + 3),
        event("open", delivered, email="d@example.jp", ts=TS + 100),
        event("bounce", hard, email="hard@example.jp", ts=TS + 4, type="bounce", status="5.1.1",
              reason="550 5.1.1 <hard@example.jp>: user unknown"),
        event("bounce", soft, email="soft@example.jp", ts=TS + 4, type="blocked", status="4.0.0"),
        event("dropped", dropped, email="drop@example.jp", ts=TS + 1, reason="Bounced Address"),
        event("delivered", spam, email="spam@example.jp", ts=TS + 2),
        event("spamreport", spam, email="spam@example.jp", ts=TS + 500),
        event("delivered", unsub, email="unsub@example.jp", ts=TS + 2),
        event("unsubscribe", unsub, email="unsub@example.jp", ts=TS + 300),
        event("group_unsubscribe", group, email="group@example.jp", ts=TS + 300, asm_group_id=42),
    ]
    async with client(hook_settings) as c:
        first = await post(c, keys, events)
        assert first.status_code == 200 and first.json()["stored"] == len(events)
        after_one = state(engine)
        rng = random.Random(20261118)
        for _ in range(2):
            replay = list(events)
            rng.shuffle(replay)
            # SendGrid also re-sends some events under a fresh sg_event_id: caught by (message, event, time).
            replay[0] = {**replay[0], "sg_event_id": "resent-" + replay[0]["sg_event_id"]}
            half = len(replay) // 2
            for part in (replay[:half], replay[half:]):
                resp = await post(c, keys, part)
                assert resp.status_code == 200 and resp.json()["stored"] == 0
    assert state(engine) == after_one

    with session_scope(engine) as s:
        states = dict(s.execute(select(Message.id, Message.state)).all())
        suppressed = dict(s.execute(select(Suppression.email_hash, Suppression.reason)).all())
        withdrawn = s.execute(select(Consent.purpose, Consent.source).where(
            Consent.candidate_id == unsub.candidate_id, Consent.granted.is_(False))).all()
    assert states == {delivered.id: "delivered", hard.id: "bounced", soft.id: "bounced",
                      dropped.id: "failed", spam.id: "delivered", unsub.id: "delivered",
                      pending_ad.id: "cancelled", group.id: "delivered"}
    assert suppressed == {hashed("hard@example.jp"): "bounce", hashed("spam@example.jp"): "spamreport",
                          hashed("unsub@example.jp"): "unsubscribe",
                          hashed("group@example.jp"): "group_unsubscribe"}
    assert sorted(withdrawn) == [("partner_info", "sendgrid"), ("recontact", "sendgrid")]


async def test_out_of_order_events_never_move_a_message_backwards(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    msg = sent_message(engine, email="late@example.jp", state="unknown")
    async with client(hook_settings) as c:
        await post(c, keys, [event("bounce", msg, email="late@example.jp", ts=TS + 50, type="bounce")])
        await post(c, keys, [event("delivered", msg, email="late@example.jp", ts=TS + 10)])
        await post(c, keys, [event("processed", msg, email="late@example.jp", ts=TS)])
    with session_scope(engine) as s:
        m = s.get(Message, msg.id)
        assert m.state == "bounced"
        # A message left `unknown` got its first provider evidence: it was accepted, at the latest, then.
        assert m.accepted_at == datetime.fromtimestamp(TS + 50, UTC)


async def test_events_without_custom_arg_resolve_by_x_message_id_and_recipient(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    with session_scope(engine) as s:
        # One API request with two personalizations: both messages share the X-Message-Id.
        a = add_message(s, email="a@example.jp", provider_message_id="shared-xid")
        b = add_message(s, email="b@example.jp", provider_message_id="shared-xid")
        lone = add_message(s, email="c@example.jp", provider_message_id="lone-xid")
    events = [
        {**event("delivered", a, email="B@example.jp", ts=TS), "junkan_message_id": None},
        {**event("delivered", lone, email="someone-else@example.jp", ts=TS)},
        {"event": "delivered", "email": "X@Example.jp", "timestamp": TS, "sg_event_id": "orphan-1",
         "sg_message_id": "nobody-knows.filter0001"},
    ]
    del events[1]["junkan_message_id"]
    async with client(hook_settings) as c:
        resp = await post(c, keys, events)
    assert resp.json()["unmatched"] == 1
    with session_scope(engine) as s:
        by_event = dict(s.execute(select(EmailEvent.sg_event_id, EmailEvent.message_id)).all())
        hashes = dict(s.execute(select(EmailEvent.sg_event_id, EmailEvent.email_hash)).all())
        states = dict(s.execute(select(Message.id, Message.state)).all())
    assert by_event[events[0]["sg_event_id"]] == b.id  # told apart by the (normalised) recipient
    assert by_event[events[1]["sg_event_id"]] == lone.id
    assert by_event["orphan-1"] is None  # stored all the same: reconciliation may attach it later
    # Only the orphan keeps its recipient, as the keyed hash of the normalised address (to attach it later).
    assert hashes == {events[0]["sg_event_id"]: None, events[1]["sg_event_id"]: None,
                      "orphan-1": hashed("x@example.jp")}
    assert states == {a.id: "accepted", b.id: "delivered", lone.id: "delivered"}


async def test_invalid_events_are_quarantined_without_the_address_and_the_rest_is_kept(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    msg = sent_message(engine)
    events = [
        {"email": "noevent@example.jp", "timestamp": TS, "sg_event_id": "bad-1"},
        {"event": "delivered", "email": "nots@example.jp", "timestamp": "yesterday", "sg_event_id": "bad-2"},
        "not an object",
        event("delivered", msg, email="ok@example.jp", ts=TS),
    ]
    async with client(hook_settings) as c:
        resp = await post(c, keys, events)
    assert resp.status_code == 200
    assert (resp.json()["stored"], resp.json()["invalid"]) == (1, 3)
    with session_scope(engine) as s:
        quarantined = s.scalars(select(Quarantine)).all()
    assert len(quarantined) == 3
    assert all(q.record_type == "event" and "example.jp" not in json.dumps(q.raw) for q in quarantined)
