"""The webhook under hostile or broken input: odd signature headers, huge bodies, poison events.

Every case runs on SQLite and on PostgreSQL (JUNKAN_TEST_DATABASE_URL). Requests go straight into the
ASGI app (tests/integration/_asgi.py), so header bytes and the reading of the body are under test control.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message, Quarantine
from junkan.db.models_engagement import EmailEvent
from junkan.web import create_app
from junkan.web.app import MAX_WEBHOOK_BODY
from tests.integration._asgi import AsgiResult, call
from tests.integration._engagement_data import WebhookKeys, add_message, event
from tests.integration._webhook import NOW, TS

SIG, STAMP = b"x-twilio-email-event-webhook-signature", b"x-twilio-email-event-webhook-timestamp"
MIB = 1024 * 1024


def signed_headers(keys: WebhookKeys, body: bytes, stamp: int | None = None) -> Headers:
    h = keys.sign(body, stamp or int(NOW))
    return [(SIG, h["X-Twilio-Email-Event-Webhook-Signature"].encode()),
            (STAMP, h["X-Twilio-Email-Event-Webhook-Timestamp"].encode()),
            (b"content-type", b"application/json")]


Headers = list[tuple[bytes, bytes]]


def replace(headers: Headers, name: bytes, value: bytes | None) -> Headers:
    kept = [(k, v) for k, v in headers if k != name]
    return kept if value is None else [*kept, (name, value)]


async def post(settings: Settings, headers: Headers, chunks: Any) -> AsgiResult:
    return await call(create_app(settings, clock=lambda: NOW), "POST", "/hooks/sendgrid", headers=headers,
                      chunks=chunks)


def counted(size: int, chunk: int = MIB) -> Iterator[bytes]:
    """`size` bytes of a JSON-looking body, produced only as the app reads it."""
    sent = 0
    while sent < size:
        piece = min(chunk, size - sent)
        sent += piece
        yield b" " * piece


def stored_events(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(EmailEvent)) or 0)


# -- 1. signature headers -------------------------------------------------------------------------------

@pytest.mark.anyio
@pytest.mark.parametrize("stamp", [
    b"\xb2",  # '²' once decoded as latin-1: str.isdigit() is true, int() refuses it (was a 500)
    b"1" * 5000,  # int() refuses more than 4,300 digits (was a 500)
    b"\xb9\xb2\xb3", b"-1", b"+" + str(int(NOW)).encode(), b" " + str(int(NOW)).encode(), b"", b"1e9",
    b"0x6AFC5B40", b"9" * 13, b"-" + b"9" * 4000, str(int(NOW) - 10_000).encode(),
])
async def test_malformed_or_implausible_timestamps_get_403(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys, stamp: bytes
) -> None:
    with session_scope(engine) as s:
        msg = add_message(s)
    raw = json.dumps([event("delivered", msg, email="a@example.jp", ts=TS)]).encode()
    headers = replace(signed_headers(keys, raw), STAMP, stamp)
    result = await post(hook_settings, headers, [raw])
    assert result.status == 403
    assert stored_events(engine) == 0


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


@pytest.mark.anyio
@pytest.mark.parametrize("signature", [
    b"not base64!", b"\xff\xfe\xfd", b"", b"A" * 20_000, _b64(b"\x30" * 4), _b64(b"\x30" * 100),
    _b64(b"\x02" * 70), _b64(b"\x30\x06\x02\x01\x01\x02\x01\x01"),
])
async def test_malformed_signatures_get_403(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys, signature: bytes
) -> None:
    raw = json.dumps([event("delivered", None, email="a@example.jp", ts=TS)]).encode()
    result = await post(hook_settings, replace(signed_headers(keys, raw), SIG, signature), [raw])
    assert result.status == 403
    assert stored_events(engine) == 0


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ["no signature", "no timestamp", "stale", "bad base64", "odd timestamp"])
async def test_implausible_signature_headers_are_refused_before_the_body_is_read(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys, fault: str
) -> None:
    headers = signed_headers(keys, b"[]")
    headers = {
        "no signature": replace(headers, SIG, None),
        "no timestamp": replace(headers, STAMP, None),
        "stale": signed_headers(keys, b"[]", int(NOW) - 601),
        "bad base64": replace(headers, SIG, b"%%%%"),
        "odd timestamp": replace(headers, STAMP, b"\xb2"),
    }[fault]
    result = await post(hook_settings, headers, counted(64 * MIB))
    assert result.status == 403
    assert result.chunks_read == 0


# -- 2. the body cap -------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_a_body_past_the_cap_gets_413_and_is_not_read_whole(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    headers = signed_headers(keys, b"[]")  # plausible headers: the body must be looked at
    streamed = await post(hook_settings, headers, counted(MAX_WEBHOOK_BODY * 4))  # no Content-Length
    assert streamed.status == 413
    assert streamed.chunks_read <= MAX_WEBHOOK_BODY // MIB + 1
    declared = await post(hook_settings, [*headers, (b"content-length", str(MAX_WEBHOOK_BODY + 1).encode())],
                          counted(MAX_WEBHOOK_BODY + 1))
    assert (declared.status, declared.chunks_read) == (413, 0)
    absurd = await post(hook_settings, [*headers, (b"content-length", b"9" * 5000)], counted(MIB))
    assert (absurd.status, absurd.chunks_read) == (413, 0)


@pytest.mark.anyio
async def test_a_body_at_the_cap_is_read_and_an_odd_content_length_is_not_a_crash(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    raw = b"[" + b" " * (MAX_WEBHOOK_BODY - 2) + b"]"
    pieces = [raw[i:i + MIB] for i in range(0, len(raw), MIB)]
    at_cap = await post(hook_settings, signed_headers(keys, raw), pieces)
    assert at_cap.status == 200 and json.loads(at_cap.body)["received"] == 0
    odd = await post(hook_settings, [*signed_headers(keys, b"[]"), (b"content-length", b"\xb2")], [b"[]"])
    assert odd.status == 200


# -- 3. poison events ------------------------------------------------------------------------------------

def _poison(extra: str) -> str:
    """An otherwise valid event (as JSON text) with `extra` spliced in as further members."""
    base = json.dumps({"event": "delivered", "email": "poison@example.jp", "timestamp": TS,
                       "sg_event_id": "poison-1", "sg_message_id": "nobody.filter"})
    return base[:-1] + ", " + extra + "}"


POISON = {
    # What PostgreSQL cannot store (and the same event on SQLite, so both behave alike).
    "NUL in text": (_poison('"reason": "550 \\u0000 refused"'), "field 'reason' holds a NUL character"),
    "NUL in a column": (_poison('"type": "bou\\u0000nce"'), "field 'type' holds a NUL character"),
    "NUL in the event id": (json.dumps({"event": "open", "timestamp": TS, "sg_event_id": "p4\u0000"}),
                            "field 'sg_event_id' holds a NUL character"),
    "NUL in the address": (_poison('"email": "a\\u0000b@example.jp"'), "field 'email' holds a NUL"),
    "NUL in a key": (_poison('"x\\u0000y": 1'), "field name at the top holds a NUL character"),
    "NaN": (_poison('"asm_group_id": NaN'), "field 'asm_group_id' holds NaN or Infinity"),
    "Infinity": (_poison('"meta": {"score": -Infinity}'), "field 'meta.score' holds NaN or Infinity"),
    "overflowing float": (_poison('"score": 1e400'), "field 'score' holds NaN or Infinity"),
    "lone surrogate": (_poison('"reason": "\\ud800 oops"'), "field 'reason' holds a lone surrogate"),
    "lone surrogate in the event name": (
        json.dumps({"event": "deliv\udc00ered", "timestamp": TS, "sg_event_id": "p2"}),
        "field 'event' holds a lone surrogate"),
    "lone surrogate in the address": (_poison('"email": "\\udfff@example.jp"'), "field 'email' holds a lone"),
    "huge integer": (_poison('"asm_group_id": ' + "9" * 5000),
                     "field 'asm_group_id' holds an integer of 5000 digits"),
    "huge timestamp": (json.dumps({"event": "open", "timestamp": 10 ** 400, "sg_event_id": "p3"}),
                       "event timestamp is not a number"),
    "nested 40 deep": (_poison('"extra": ' + "[" * 40 + "]" * 40), "is nested deeper than 32 levels"),
    "nested 5000 deep": (_poison('"extra": ' + "[" * 5000 + "]" * 5000), "nested too deeply to read"),
    "a string item": ('"just text"', "event is not a JSON object"),
    "a number item": ("NaN", "event is not a JSON object"),
    "a null item": ("null", "event is not a JSON object"),
    "a list item": ('[{"event": "open"}]', "event is not a JSON object"),
}


def _batch(keys: WebhookKeys, good: list[dict[str, Any]], poison: str) -> tuple[Headers, bytes]:
    raw = ("[" + json.dumps(good[0]) + ", " + poison + ", " + json.dumps(good[1]) + "]").encode()
    return signed_headers(keys, raw), raw


@pytest.mark.anyio
@pytest.mark.parametrize("case", list(POISON))
async def test_a_poison_event_is_quarantined_and_the_rest_of_its_batch_stored(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys, case: str
) -> None:
    poison, reason = POISON[case]
    with session_scope(engine) as s:
        m1, m2 = add_message(s, email="a@example.jp"), add_message(s, email="b@example.jp")
    good = [event("delivered", m1, email="a@example.jp", ts=TS),
            event("open", m2, email="b@example.jp", ts=TS)]
    headers, raw = _batch(keys, good, poison)
    first = await post(hook_settings, headers, [raw])
    assert first.status == 200, first.body
    assert {k: json.loads(first.body)[k] for k in ("received", "stored", "invalid", "duplicates")} == {
        "received": 3, "stored": 2, "invalid": 1, "duplicates": 0}
    # SendGrid retries whatever it did not see acknowledged: the retry is harmless, and no longer needed.
    again = await post(hook_settings, headers, [raw])
    assert again.status == 200
    assert (json.loads(again.body)["stored"], json.loads(again.body)["duplicates"]) == (0, 2)

    with session_scope(engine) as s:
        stored = sorted(s.scalars(select(EmailEvent.sg_event_id)).all())
        quarantined = s.scalars(select(Quarantine)).all()
        states = dict(s.execute(select(Message.id, Message.state)).all())
    assert stored == sorted(e["sg_event_id"] for e in good)
    assert states == {m1.id: "delivered", m2.id: "delivered"}
    assert len(quarantined) == 1
    q = quarantined[0]
    assert (q.source, q.record_type) == ("sendgrid-webhook", "event")
    assert reason in q.reason
    # The quarantine names the event by its id, when it has a storable one and could be read at all.
    event_id = re.search(r'"sg_event_id": "(p[\w-]*)"', poison)
    readable = reason != "nested too deeply to read"
    assert q.external_id == (event_id.group(1) if event_id and readable else None)
    assert "example.jp" not in json.dumps(q.raw) and "example.jp" not in q.reason


@pytest.mark.anyio
async def test_one_batch_of_every_poison_keeps_every_good_event(
    engine: Engine, hook_settings: Settings, keys: WebhookKeys
) -> None:
    with session_scope(engine) as s:
        msgs = [add_message(s, email=f"g{i}@example.jp") for i in range(len(POISON) + 1)]
    good = [json.dumps(event("delivered", m, email=f"g{i}@example.jp", ts=TS + i))
            for i, m in enumerate(msgs)]
    parts = [good[0]]
    for g, (poison, _) in zip(good[1:], POISON.values(), strict=True):
        parts += [poison.replace('"poison-1"', f'"poison-{len(parts)}"'), g]
    raw = ("[" + ", ".join(parts) + "]").encode()
    result = await post(hook_settings, signed_headers(keys, raw), [raw])
    assert result.status == 200, result.body
    counts = json.loads(result.body)
    assert (counts["received"], counts["stored"], counts["invalid"]) == (len(parts), len(good), len(POISON))
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Quarantine)) == len(POISON)
    assert stored_events(engine) == len(good)
