"""SendGrid event webhook: store every event once, then apply what it means, in a few bulk statements.

The caller commits the session; the HTTP endpoint answers 2xx only after that commit, so an acknowledged
event is never lost. Replays are harmless: an event is recognised by `sg_event_id` and, because SendGrid
sometimes re-sends under a new id, by (message, event, timestamp). Only newly stored events have effects,
and message states are recomputed from all stored events, so order and repetition do not matter.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.db.dialect import insert_ignore
from junkan.db.models import Candidate, Message, Quarantine
from junkan.db.models_engagement import EmailEvent
from junkan.engagement.bulk import CHUNK
from junkan.engagement.event_batch import HugeInt, Unreadable
from junkan.engagement.event_sql import EventRow, event_sql
from junkan.engagement.optout import (
    cancel_pending_advertising,
    candidates_by_email,
    suppress,
    withdraw_consents,
)
from junkan.engagement.privacy import bare_url, scrub_event
from junkan.engagement.storable import MAX_DEPTH, nested_deeper_than, storable_copy, text_problem, unstorable
from junkan.identity import normalize_email
from junkan.keyed import hash_normalised
from junkan.outbox.delivery import StateTarget, advance_states
from junkan.tally import Tally

#: The custom arg the outbox puts on every send: our opaque message id, never personal data.
MESSAGE_ID_ARG = "junkan_message_id"
WEBHOOK_SOURCE = "sendgrid-webhook"

# What each event says about the message at least, ranked: a higher rank never goes back to a lower one.
_EVENT_STATE = {
    "processed": "accepted",
    "deferred": "accepted",
    "delivered": "delivered",
    "open": "delivered",
    "click": "delivered",
    "unsubscribe": "delivered",
    "group_unsubscribe": "delivered",
    "group_resubscribe": "delivered",
    "spamreport": "delivered",
    "bounce": "bounced",
    "dropped": "failed",
}
_RANK = {"unknown": 0, "accepted": 1, "delivered": 2, "bounced": 3, "failed": 3}
#: States an event may move a message out of. `sending` is left to the outbox worker that holds it;
#: reconciliation catches up later. pending/cancelled/suppressed messages were never handed to SendGrid.
UPDATABLE_STATES = ("unknown", "accepted", "delivered")
STATE_EVENTS = tuple(_EVENT_STATE)

_MAX_ID_LEN = 128
#: Top-level fields whose text goes into columns or lookups, or is minimised away (`scrub_event`), so
#: it never reaches the JSON payload's own check: a value no database could store is refused here.
_COLUMN_FIELDS = frozenset({"event", "email", "sg_event_id", MESSAGE_ID_ARG, "sg_message_id", "type", "url",
                            "reason", "response"})


def _json_default(value: Any) -> str:
    if isinstance(value, (HugeInt, Unreadable)):
        raise ValueError("not storable")  # located and named by `unstorable`
    return str(value)


#: Compact, and ASCII-only so anything unusual shows up as a `\u` escape (see `_payload_json`).
#: NaN and Infinity are refused: PostgreSQL's jsonb cannot hold them.
_to_json = json.JSONEncoder(separators=(",", ":"), default=_json_default, allow_nan=False).encode
_MIN_TS, _MAX_TS = 946_684_800, 4_102_444_800  # 2000-01-01 … 2100-01-01: anything else is garbage


@dataclass(slots=True)
class ParsedEvent:
    sg_event_id: str
    dedup_key: str
    event: str
    occurred_at: datetime
    email_key: str | None
    #: Keyed hash of the recipient (junkan.keyed). Stored only while the event has no message, to
    #: attach it later; a plain SHA-256 would give the address back to anyone who hashes guessed ones.
    recipient_hash: str | None
    public_id: str | None
    provider_message_id: str | None
    bounce_type: str | None
    payload: dict[str, Any]
    #: `payload` serialised once, while parsing: outside the database transaction (and SQLite's lock).
    payload_json: str = ""
    message_id: int | None = None


@dataclass(slots=True)
class IngestResult(Tally):
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    invalid: int = 0
    unmatched: int = 0
    state_changes: int = 0
    suppressed: int = 0
    consents_withdrawn: int = 0
    cancelled: int = 0
    by_event: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class PreparedBatch:
    """A webhook batch validated and reduced to what we keep, before any database work."""

    received: int
    parsed: list[ParsedEvent]
    invalid: list[tuple[Any, str]]


def prepare_events(events: Sequence[Any], key: bytes) -> PreparedBatch:
    """The CPU-bound half of ingestion; the web app runs it outside its SQLite write lock. `key` is the
    address hash key (`JUNKAN_RETENTION__HASH_KEY`)."""
    parsed: list[ParsedEvent] = []
    invalid: list[tuple[Any, str]] = []
    for raw in events:
        try:
            parsed.append(parse_event(raw, key))
        except ValueError as exc:
            invalid.append((raw, str(exc)))
    return PreparedBatch(received=len(events), parsed=parsed, invalid=invalid)


def ingest_events(session: Session, events: Sequence[Any] | PreparedBatch, *, now: datetime,
                  key: bytes) -> IngestResult:
    """Store and apply one webhook batch. Invalid entries are quarantined, never silently dropped."""
    batch = events if isinstance(events, PreparedBatch) else prepare_events(events, key)
    conn = session.connection()
    sql = event_sql(conn)
    parsed = batch.parsed
    result = IngestResult(received=batch.received, invalid=len(batch.invalid))
    _quarantine(session, batch.invalid, now)

    unique = _dedupe_in_batch(parsed)
    _resolve_messages(session, unique, key)
    result.unmatched = sum(1 for e in unique if e.message_id is None)
    # An event with its message needs no recipient hash: the message names the candidate (and an erased
    # candidate's late events then keep nothing of the address).
    rows = [EventRow(e.sg_event_id, e.dedup_key, e.message_id, e.provider_message_id, e.event, e.occurred_at,
                     None if e.message_id else e.recipient_hash, e.payload_json or _to_json(e.payload))
            for e in unique]
    stored_ids = sql.insert_events(conn, rows, now=now)
    # A row skipped on the dedup key rather than the event id is a re-send too; either way, not new.
    new = [e for e in unique if e.sg_event_id in stored_ids]
    result.stored = len(new)
    result.duplicates = len(parsed) - len(new)
    for e in new:
        result.by_event[e.event] = result.by_event.get(e.event, 0) + 1

    result.state_changes = _advance_states(session, new, now=now)
    _apply_opt_outs(session, new, now, result, key)
    return result


def begin_webhook_batch(session: Session) -> None:
    """Connection settings for a webhook write (durable commit, batch-sized cache on SQLite).

    Call it first thing in a fresh session, before `ingest_events`: SQLite refuses some of these settings
    inside a transaction.
    """
    conn = session.connection()
    event_sql(conn).begin_batch(conn)


def parse_event(raw: Any, hash_key: bytes) -> ParsedEvent:
    """Validate one event and reduce it to what we keep. Raises ValueError with a reason (no PII in it).

    Anything either database could not store (NUL, lone surrogates, NaN, huge or deeply nested values)
    is refused here, so it costs only its own event, never the batch.
    """
    if isinstance(raw, Unreadable):
        raise ValueError(raw.reason)
    if not isinstance(raw, dict):
        raise ValueError("event is not a JSON object")
    # One pass over the top level, cheap for the usual flat ASCII event. Column text is checked here
    # (it may not reach the payload unchanged); the payload itself in `_payload_json`.
    for key, value in raw.items():
        kind = type(value)
        if kind is str:
            if key in _COLUMN_FIELDS and not (value.isascii() and "\x00" not in value):
                problem = text_problem(value)
                if problem:
                    raise ValueError(f"event field '{key}' {problem}")
        elif (kind is list or kind is dict) and nested_deeper_than(value, MAX_DEPTH - 1):
            raise ValueError(unstorable(raw, prefix="event field") or "event is nested too deeply")
    get = raw.get
    name = get("event")
    if type(name) is not str or not name or len(name) > 32:
        raise ValueError("event name missing or invalid")
    ts = _timestamp(get("timestamp"))
    email = get("email")
    email_key = email_key_of(email) if type(email) is str else None
    public_id = get(MESSAGE_ID_ARG)
    if type(public_id) is not str or not public_id or len(public_id) > _MAX_ID_LEN:
        public_id = None
    sg_message_id = get("sg_message_id")
    if type(sg_message_id) is not str or not sg_message_id:
        sg_message_id = None
    provider_id = None
    if sg_message_id:
        # sg_message_id is "<X-Message-Id>.<filter suffix>"; the outbox stored only the X-Message-Id.
        provider_id = sg_message_id.split(".", 1)[0][:200] or None
    recipient_hash = hash_normalised(hash_key, email_key) if email_key else None
    # The most stable identity the event itself carries, so a replay dedupes however the DB looks by then.
    who = f"j:{public_id}" if public_id else f"s:{sg_message_id}" if sg_message_id else f"e:{recipient_hash}"
    url = get("url") if name == "click" else None
    # The URL as stored (no query string): the key holds nothing the stored event does not.
    extra = bare_url(url) if type(url) is str else ""
    dedup_key = sha256(f"{who}|{name}|{ts}|{extra}".encode()).hexdigest()
    sg_event_id = get("sg_event_id")
    if type(sg_event_id) is not str or not sg_event_id:
        sg_event_id = f"derived:{dedup_key}"
    elif len(sg_event_id) > _MAX_ID_LEN:
        sg_event_id = "sha256:" + sha256(sg_event_id.encode()).hexdigest()
    bounce_type = get("type")
    payload = scrub_event(raw)
    payload_json = _payload_json(payload)
    return ParsedEvent(sg_event_id=sg_event_id, dedup_key=dedup_key, event=name,
                       occurred_at=datetime.fromtimestamp(ts, tz=UTC), email_key=email_key,
                       recipient_hash=recipient_hash, public_id=public_id, provider_message_id=provider_id,
                       bounce_type=bounce_type if type(bounce_type) is str else None, payload=payload,
                       payload_json=payload_json)


def _payload_json(payload: dict[str, Any]) -> str:
    try:
        text = _to_json(payload)
    except ValueError:  # NaN, Infinity, an unreadable integer
        text = ""
    # ASCII-escaped text shows every NUL and surrogate as a \u escape: look closer only then (an ASCII
    # payload, the usual case, is never walked twice).
    if not text or "\\u" in text:
        problem = unstorable(payload, prefix="event field")
        if problem or not text:
            raise ValueError(problem or "event cannot be stored as JSON")
    return text


def email_key_of(email: str) -> str | None:
    """The candidate key of an event's address: exactly `identity.normalize_email` (one implementation)."""
    return normalize_email(email)


def is_hard_bounce(event: ParsedEvent) -> bool:
    # SendGrid marks soft failures as type "blocked"; "bounce" (or an older payload without a type) is hard.
    return event.event == "bounce" and (event.bounce_type or "bounce") == "bounce"


def apply_message_states(session: Session, message_ids: Iterable[int], *, now: datetime) -> int:
    """Move each message to the highest state all its stored events prove, never backwards. Idempotent.

    The reconciliation path: it reads every stored event of the messages. The webhook path only needs the
    batch's new events (`_advance_states`), since earlier events were applied when they arrived.
    """
    target: dict[int, str] = {}
    delivered: set[int] = set()
    for batch in batched(sorted(set(message_ids)), CHUNK):
        rows = session.execute(
            select(EmailEvent.message_id, EmailEvent.event).distinct()
            .where(EmailEvent.message_id.in_(batch), EmailEvent.event.in_(STATE_EVENTS))
        ).all()
        for mid, name in rows:
            if mid is None:  # the IN filter excludes NULL; this narrows the type
                continue
            _raise_target(target, mid, name)
            if name == "delivered":
                delivered.add(mid)
    return _update_states(session, target, delivered, now=now)


def _raise_target(target: dict[int, str], mid: int, event: str) -> None:
    state = _EVENT_STATE[event]
    best = target.get(mid)
    # Between equal ranks (bounced vs failed) the bounce is the more specific, so it wins.
    if best is None or _RANK[state] > _RANK[best] or (state == "bounced" and best == "failed"):
        target[mid] = state


def _advance_states(session: Session, events: list[ParsedEvent], *, now: datetime) -> int:
    target: dict[int, str] = {}
    delivered: set[int] = set()
    for e in events:
        if e.message_id is not None and e.event in _EVENT_STATE:
            _raise_target(target, e.message_id, e.event)
            if e.event == "delivered":
                delivered.add(e.message_id)
    return _update_states(session, target, delivered, now=now)


def _update_states(session: Session, target: dict[int, str], delivered: set[int], *, now: datetime) -> int:
    """One set-based UPDATE … FROM the (message, target state) pairs; times come from the stored events.

    Only messages in a lower-ranked state match, so a concurrent writer that already moved a message
    further is never undone, and a repeat changes nothing. Returns how many messages changed state.

    `delivered` are messages with a stored `delivered` event: one that arrives after an `open` or a bounce
    already moved its message finds no state to change, but still supplies the missing delivery time.
    """
    if not target:
        return 0
    targets = [StateTarget(mid, state, _RANK[state]) for mid, state in target.items()]
    conn = session.connection()
    return advance_states(conn, targets, now=now, delivered=delivered)


def _apply_opt_outs(session: Session, new: list[ParsedEvent], now: datetime, result: IngestResult,
                    key: bytes) -> None:
    suppress_entries: list[tuple[str, str]] = []
    optout_emails: set[str] = set()
    optout_messages: set[int] = set()
    for e in new:
        if e.event in ("unsubscribe", "group_unsubscribe"):
            if e.email_key:
                suppress_entries.append((e.email_key, e.event))
                optout_emails.add(e.email_key)
            if e.message_id is not None:
                optout_messages.add(e.message_id)
        elif e.event == "spamreport" and e.email_key:
            suppress_entries.append((e.email_key, "spamreport"))
        elif is_hard_bounce(e) and e.email_key:
            suppress_entries.append((e.email_key, "bounce"))
    if suppress_entries:
        result.suppressed = len(suppress(session, suppress_entries, source=WEBHOOK_SOURCE, at=now, key=key))
    if not (optout_emails or optout_messages):
        return
    candidates = set(candidates_by_email(session, optout_emails).values())
    for batch in batched(sorted(optout_messages), CHUNK):
        candidates.update(cid for cid in session.execute(
            select(Message.candidate_id).where(Message.id.in_(batch))
        ).scalars() if cid is not None)  # internal mail (the monthly report) has no candidate
    result.consents_withdrawn = withdraw_consents(session, candidates, source="sendgrid", at=now)
    result.cancelled = cancel_pending_advertising(session, candidates, reason="unsubscribed", at=now)


def _resolve_messages(session: Session, events: list[ParsedEvent], key: bytes) -> None:
    wanted = [(e.public_id, e.provider_message_id, e.recipient_hash) for e in events]
    found = match_messages(session, wanted, key)
    for e, message_id in zip(events, found, strict=True):
        e.message_id = message_id


def match_messages(
    session: Session, wanted: Sequence[tuple[str | None, str | None, str | None]], key: bytes
) -> list[int | None]:
    """Message ids for (public id, X-Message-Id, keyed recipient hash) triples, in order; None when unknown.

    Our custom arg decides first. Otherwise the X-Message-Id, which one API request with several
    personalizations shares between messages; then the recipient (by hash) tells them apart.
    """
    conn = session.connection()
    by_public = event_sql(conn).message_ids_by_public_id(conn, sorted({p for p, _, _ in wanted if p}))
    out: list[int | None] = [by_public.get(p) if p else None for p, _, _ in wanted]
    providers = sorted({x for (_, x, _), mid in zip(wanted, out, strict=True) if mid is None and x})
    by_provider: dict[str, list[tuple[int, str | None]]] = {}
    for batch in batched(providers, CHUNK):
        rows = session.execute(
            select(Message.provider_message_id, Message.id, Candidate.email_key)
            .join(Candidate, Candidate.id == Message.candidate_id)
            .where(Message.provider_message_id.in_(batch))
        ).all()
        for provider_id, mid, email_key in rows:
            if provider_id is None:
                continue
            by_provider.setdefault(provider_id, []).append(
                (mid, hash_normalised(key, email_key) if email_key else None))
    for i, (_, provider_id, recipient) in enumerate(wanted):
        if out[i] is not None or not provider_id:
            continue
        candidates = by_provider.get(provider_id, [])
        if len(candidates) == 1:
            out[i] = candidates[0][0]
        elif candidates and recipient:
            matching = [mid for mid, h in candidates if h == recipient]
            out[i] = matching[0] if len(matching) == 1 else None
    return out


def _dedupe_in_batch(events: list[ParsedEvent]) -> list[ParsedEvent]:
    seen_ids: set[str] = set()
    seen_keys: set[str] = set()
    out = []
    for e in events:
        if e.sg_event_id in seen_ids or e.dedup_key in seen_keys:
            continue
        seen_ids.add(e.sg_event_id)
        seen_keys.add(e.dedup_key)
        out.append(e)
    return out


def _quarantine(session: Session, invalid: list[tuple[Any, str]], now: datetime) -> None:
    if not invalid:
        return
    rows = {}
    for raw, reason in invalid:
        # The copy first: it bounds the depth and makes every value storable, then it is minimised like a
        # stored event (no address, no free text from the mail server, no query string).
        safe = storable_copy(raw)
        kept = scrub_event(safe) if isinstance(safe, dict) else {"value": scrub_event({"v": safe})["v"]}
        text = json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)
        fingerprint = hashlib.sha256(text.encode()).hexdigest()
        rows[fingerprint] = {"source": WEBHOOK_SOURCE, "record_type": "event", "external_id": _event_id(raw),
                             "fingerprint": fingerprint, "raw": kept, "reason": reason, "first_seen": now,
                             "last_seen": now, "seen_count": 1, "resolved_at": None}
    session.execute(insert_ignore(session, Quarantine.__table__), list(rows.values()))


def _event_id(raw: Any) -> str | None:
    """SendGrid's id of a quarantined event, when it has a usable one: it names the event to an operator."""
    value = raw.get("sg_event_id") if isinstance(raw, dict) else None
    if type(value) is not str or not value or len(value) > 200 or text_problem(value) or "@" in value:
        return None
    return value


def _timestamp(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError("event timestamp missing")
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer past a float's range
        raise ValueError("event timestamp is not a number") from None
    if not math.isfinite(seconds) or not _MIN_TS <= seconds <= _MAX_TS:
        raise ValueError("event timestamp out of range")
    return int(seconds)
