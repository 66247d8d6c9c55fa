"""Builders for engagement tests: candidates with sent messages, and a signed SendGrid webhook client."""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from junkan.db import session_scope
from junkan.db.models import Candidate, Consent, Job, Message

_seq = itertools.count(1)
SENT_AT = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)


def add_message(
    session: Session,
    *,
    email: str | None = None,
    state: str = "accepted",
    kind: str = "rejection",
    template: str = "rejection_notice",
    locale: str = "ja",
    advertising: bool = False,
    ref_code: str | None = None,
    partner_name: str | None = "careerrelay",
    provider_message_id: str | None = None,
    candidate: Candidate | None = None,
    accepted_at: datetime | None = SENT_AT,
) -> Message:
    n = next(_seq)
    if candidate is None:
        candidate = Candidate(email_key=email if email is not None else f"person{n}@example.com",
                              display_name="佐藤 花子", locale=locale)
        session.add(candidate)
        session.flush()
    msg = Message(
        public_id=secrets.token_hex(12), logical_key=f"application:{n}:{kind}", kind=kind,
        candidate_id=candidate.id, state=state, due_at=SENT_AT, advertising=advertising, locale=locale,
        template_name=template, template_version="1", ref_code=ref_code, partner_name=partner_name,
        provider_message_id=provider_message_id if provider_message_id is not None
        else (f"xmsg{n}" if state != "pending" else None),
        accepted_at=accepted_at if state not in ("pending", "sending", "unknown") else None,
    )
    session.add(msg)
    session.flush()
    return msg


def sent_message(engine: Engine, **fields: Any) -> Message:
    """One message, committed: add_message with these fields in a transaction of its own."""
    with session_scope(engine) as s:
        return add_message(s, **fields)


def messages_to(engine: Engine, *emails: str, **fields: Any) -> list[Message]:
    """A message to each address, committed together, all with the same other add_message fields."""
    with session_scope(engine) as s:
        return [add_message(s, email=address, **fields) for address in emails]


GRANTED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def grant(session: Session, candidate_id: int, purpose: str, at: datetime = GRANTED_AT) -> None:
    session.add(Consent(candidate_id=candidate_id, purpose=purpose, granted=True, recorded_at=at,
                        source="csv"))
    session.flush()


def add_job(session: Session, external_id: str = "J-100") -> Job:
    job = Job(source="greenhouse", external_id=external_id, title="データエンジニア")
    session.add(job)
    session.flush()
    return job


class WebhookKeys:
    """A P-256 key pair standing in for SendGrid's: signs batches like the real webhook does."""

    def __init__(self) -> None:
        self._private = ec.generate_private_key(ec.SECP256R1())
        der = self._private.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
        #: What SendGrid's settings page shows: base64 of the DER SubjectPublicKeyInfo.
        self.public_key = base64.b64encode(der).decode("ascii")

    def sign(self, body: bytes, timestamp: int) -> dict[str, str]:
        signature = self._private.sign(str(timestamp).encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode("ascii"),
            "X-Twilio-Email-Event-Webhook-Timestamp": str(timestamp),
            "Content-Type": "application/json",
        }


def event(kind: str, msg: Message | None, *, email: str, ts: int, sg_event_id: str | None = None,
          **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "event": kind,
        "email": email,
        "timestamp": ts,
        "sg_event_id": sg_event_id or secrets.token_urlsafe(16),
        "sg_message_id": f"{msg.provider_message_id}.filterdrecv-1-1.0" if msg and msg.provider_message_id
        else "unknown.filter",
        "category": ["rejection"],
    }
    if msg is not None:
        e["junkan_message_id"] = msg.public_id
    e.update(extra)
    return e


def body(events: list[dict[str, Any]]) -> bytes:
    return json.dumps(events, ensure_ascii=False).encode("utf-8")
