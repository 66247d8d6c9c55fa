"""Opt-outs: suppress an address, withdraw advertising consents, cancel pending advertising mail.

Shared by the unsubscribe endpoint, the event webhook and the suppression sync, so an opt-out has the same
effect whichever way it reaches us. Every function is idempotent: applying it twice changes nothing the
second time.

Our own unsubscribe link and List-Unsubscribe header have two scopes (docs/privacy.md "Opt-out"):
- `advertising` (one click, the default): withdraws `partner_info` and `recontact` — no partner section,
  no re-contact mail, no consent renewal mail — and cancels pending advertising mail. Notices about the
  person's applications still go out, without the partner section.
- `all_mail` (the page's second choice): also records an `all_mail` withdrawal and suppresses the address,
  so nothing at all is sent to it any more.
An unsubscribe SendGrid reports (its own link, a list) cannot say which was meant and suppresses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.consent.state import latest_by_candidate
from junkan.consent.suppressed import suppressed_among
from junkan.consent.wording import OPTOUT_WORDING_VERSION
from junkan.db.models import Candidate, Consent, Message, Suppression
from junkan.db.models_engagement import EmailEvent
from junkan.engagement.bulk import CHUNK, insert_ignore_returning
from junkan.keyed import email_hash
from junkan.outbox.transitions import cancel

#: Purposes an unsubscribe withdraws. `talent_pool` stays: leaving a mailing list is not an erasure request
#: (and without `recontact` nobody is in the pool or is asked to renew, junkan/consent/renewal.py).
WITHDRAWN_PURPOSES = ("partner_info", "recontact")
#: The page's "stop all mail from this employer" also withdraws this one, and suppresses the address.
ALL_MAIL = "all_mail"
UnsubscribeScope = Literal["advertising", "all_mail"]


def suppress(session: Session, entries: Iterable[tuple[str, str]], *, source: str, at: datetime,
             key: bytes) -> set[str]:
    """Add (normalised e-mail, reason) pairs to the suppression list; returns the addresses that were new.

    Only the keyed hash of each address is stored (junkan.keyed). An address already suppressed
    keeps its first reason: the earliest cause is the useful one to audit.
    """
    rows: dict[str, dict[str, object]] = {}
    addresses: dict[str, str] = {}
    for email_key, reason in entries:
        if not email_key:
            continue
        digest = email_hash(key, email_key)
        if digest not in rows:
            addresses[digest] = email_key
            rows[digest] = {"email_hash": digest, "reason": reason, "source": source, "created_at": at}
    already = suppressed_among(session, addresses.values(), key)
    fresh = [row for digest, row in rows.items() if addresses[digest] not in already]
    inserted = insert_ignore_returning(session, Suppression.__table__, fresh, "email_hash")
    return {addresses[digest] for digest in inserted}


def withdraw_consents(
    session: Session, candidate_ids: Iterable[int], *, source: str, at: datetime,
    purposes: tuple[str, ...] = WITHDRAWN_PURPOSES, wording_version: str | None = None,
) -> int:
    """Append a `granted=False` row per purpose unless the current record already says withdrawn."""
    ids = sorted(set(candidate_ids))
    conn = session.connection()
    withdrawn: set[tuple[int, str]] = set()
    for batch in batched(ids, CHUNK):
        for purpose in purposes:
            current = latest_by_candidate(conn, purpose, at, batch)
            withdrawn.update((cand, purpose) for cand, state in current.items() if not state.granted)
    # A withdrawal never expires (junkan/consent/expiry.py).
    new = [
        {"candidate_id": cand, "purpose": purpose, "granted": False, "recorded_at": at, "source": source,
         "wording_version": wording_version, "expires_at": None}
        for cand in ids
        for purpose in purposes
        if (cand, purpose) not in withdrawn
    ]
    if new:
        session.execute(Consent.__table__.insert(), new)
    return len(new)


def cancel_pending_advertising(session: Session, candidate_ids: Iterable[int], *, reason: str,
                               at: datetime) -> int:
    cancelled = 0
    for batch in batched(sorted(set(candidate_ids)), CHUNK):
        cancelled += cancel(session, Message.candidate_id.in_(batch), Message.advertising.is_(True),
                            reason=reason, now=at)
    return cancelled


def candidates_by_email(session: Session, email_keys: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for batch in batched(sorted(set(email_keys)), CHUNK):
        found.update((key, cid) for key, cid in session.execute(
            select(Candidate.email_key, Candidate.id).where(Candidate.email_key.in_(batch))
        ) if key is not None)
    return found


@dataclass(frozen=True, slots=True)
class UnsubscribeOutcome:
    locale: str
    #: False when this message had already been used to unsubscribe (the repeat changed nothing).
    first_time: bool
    suppressed: bool
    consents_withdrawn: int
    messages_cancelled: int


def unsubscribe_message(session: Session, public_id: str, *, at: datetime,
                        key: bytes, scope: UnsubscribeScope = "advertising",
                        wording_version: str = OPTOUT_WORDING_VERSION) -> UnsubscribeOutcome | None:
    """Our unsubscribe link or RFC 8058 one-click POST for the recipient of one message, in `scope`;
    None when the message is unknown. `key` is `retention.hash_key`: suppressions hold keyed hashes."""
    row = session.execute(
        select(Message.id, Message.locale, Message.candidate_id, Candidate.email_key)
        .join(Candidate, Candidate.id == Message.candidate_id)
        .where(Message.public_id == public_id)
    ).first()
    if row is None or row.candidate_id is None:
        return None
    message_id, locale, candidate_id, email_key = row.id, row.locale, row.candidate_id, row.email_key
    # Recorded as an event of its own (once per message, whichever scope came first), so metrics count
    # unsubscribes per message whichever way they came.
    first = bool(insert_ignore_returning(session, EmailEvent.__table__, [{
        "sg_event_id": f"junkan-unsubscribe:{public_id}",
        "dedup_key": hashlib.sha256(f"{public_id}|unsubscribe|one-click".encode()).hexdigest(),
        "message_id": message_id,
        "provider_message_id": None,
        "event": "unsubscribe",
        "occurred_at": at,
        "received_at": at,
        "source": "junkan",
        "email_hash": None,
        "payload": {"via": "one-click" if scope == "advertising" else "all-mail"},
    }], "sg_event_id"))
    purposes = WITHDRAWN_PURPOSES if scope == "advertising" else (*WITHDRAWN_PURPOSES, ALL_MAIL)
    withdrawn = withdraw_consents(session, [candidate_id], source="unsubscribe", at=at, purposes=purposes,
                                  wording_version=wording_version)
    new: set[str] = set()
    # An anonymised candidate has no address left to suppress; consents and pending mail still apply.
    if scope == "all_mail" and email_key:
        new = suppress(session, [(email_key, "unsubscribe")], source="unsubscribe", at=at, key=key)
    cancelled = cancel_pending_advertising(session, [candidate_id], reason="unsubscribed", at=at)
    return UnsubscribeOutcome(locale=locale or "ja", first_time=first, suppressed=bool(new),
                              consents_withdrawn=withdrawn, messages_cancelled=cancelled)
