"""An erasure request: everything the request's keys match (junkan.privacy.find), erased together, now.

One transaction holds the search, the tombstones, the scrub and the audit record, so what is erased is
what was matched at that moment. Then the `file` mail backend's copies of the person's mails go
(`outbox/msg-<id>.eml`, and dry-run files addressed to them): files are outside the transaction, so a
crash in between leaves files that a repeated request (with the same address) removes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from junkan import tombstone
from junkan.config import Settings
from junkan.consent.suppressed import hash_plain_rows
from junkan.db import session_scope
from junkan.db.models import Candidate, Message
from junkan.identity import identifiers_in, normalize_email
from junkan.keyed import hash_normalised
from junkan.mail.backends.file import forget_mails
from junkan.privacy import audit
from junkan.privacy.anonymise import scrub
from junkan.privacy.find import Found, RequestKeys, find


class ReasonNamesThePerson(ValueError):
    """An erasure reason that holds the person's address, phone or name (the audit holds no such data)."""


@dataclass(frozen=True, slots=True)
class ErasureResult:
    candidates: int
    tables: dict[str, int]
    tombstones: int
    audit_id: int | None
    #: `.eml` files of the file backend removed.
    files: int
    found: Found


def look_up(engine: Engine, settings: Settings, keys: RequestKeys, *, reason: str | None = None) -> Found:
    """What an erasure with these keys would take, without changing anything; refuses a `reason` that
    names the person (ReasonNamesThePerson) before anyone is asked to confirm."""
    with engine.connect() as conn:
        found = find(conn, keys, hash_key=settings.retention.key_bytes(), links=settings.links)
        if reason:
            _check_reason(reason, found, _names(conn, found))
        return found


def _names(conn: Connection, found: Found) -> list[str]:
    return [n for n in conn.execute(select(Candidate.display_name).where(
        Candidate.id.in_(sorted(found.candidates)))).scalars() if n]


def erase(engine: Engine, settings: Settings, keys: RequestKeys | str, *, reason: str | None,
          now: datetime) -> ErasureResult:
    """Erase every record `keys` match (a str is one e-mail address), in every table; leaves tombstones
    and one audit record. NotAKey for unusable keys, ReasonNamesThePerson for a reason naming them."""
    if isinstance(keys, str):
        keys = RequestKeys(emails=(keys,))
    hash_key = settings.retention.key_bytes()
    keys = keys.normalised()
    with session_scope(engine) as session:
        hash_plain_rows(session, hash_key)
    with engine.begin() as conn:
        found = find(conn, keys, hash_key=hash_key, links=settings.links)
        ids = sorted(found.candidates)
        if reason:
            _check_reason(reason, found, _names(conn, found))
        audit_id = audit.open_record(conn, action="erase", rule="request", as_of=None, at=now, reason=reason)
        # Each candidate's tombstones carry the hash of that candidate's own address.
        address_of = dict(conn.execute(select(Candidate.id, Candidate.email_key)
                                       .where(Candidate.id.in_(ids))).all())
        by_candidate: dict[int, list[tuple[str, str]]] = {}
        for app_key, cid in found.application_keys.items():
            by_candidate.setdefault(cid, []).append(app_key)
        left = 0
        for cid, app_keys in sorted(by_candidate.items()):
            address = address_of.get(cid)
            digest = hash_normalised(hash_key, address) if address else None
            left += tombstone.leave(conn, app_keys, email_hash=digest, audit_id=audit_id, at=now)
        public_ids = list(conn.execute(select(Message.public_id).where(Message.candidate_id.in_(ids)))
                          .scalars())
        counts = scrub(conn, found.people(hash_key), at=now)
        audit.add_counts(conn, audit_id, len(ids), counts)
    files = forget_mails(settings.mail.outbox_dir, public_ids, found.emails)
    return ErasureResult(len(ids), counts, left, audit_id, files, found)


def _check_reason(reason: str, found: Found, names: list[str]) -> None:
    folded = normalize_email(reason) or ""
    compact = folded.replace(" ", "")
    emails, phones = identifiers_in(reason)
    named = any((n := normalize_email(name)) and (n in folded or n.replace(" ", "") in compact)
                for name in names)
    if named or emails & found.emails or phones & found.phones or any(e in folded for e in found.emails):
        raise ReasonNamesThePerson("the reason names the person; say why without personal data")

