"""Who an access or erasure request is about: every record matching any key given, and which key matched.

Keys (docs/privacy.md, Requests): e-mail addresses, phone numbers, opaque candidate refs (`c_…`,
junkan.pool.refs) and the ATS's application ids. They are matched against every stored form:

- candidates by their normalised address, their E.164 phone, their ref, or one of their applications;
- quarantined records (which never became an application, so keep the source's text as typed) by the
  addresses and phones written anywhere in their raw record, normalised the way ingest does
  (junkan.identity.identifiers_in: `090-1111-2222` is `+819011112222`), by their application id, and by
  the (source, external id) of a matched candidate's application;
- provider events that never matched a message by the keyed hash of the address they were sent to.

Rows that hang off a matched candidate (applications, decision log, messages, events, clicks, consents,
pool rows) follow through `junkan.privacy.tables`. The phones of matched candidates are searched for in
the quarantine too (the same person's broken records). A candidate that only shares such a phone is not
taken, since a phone can be shared (a family's number), but is named as a hint, so the operator can add
the key.

Matches carry our internal row ids and key names only: the listing shown to an operator names no one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from junkan.batching import batched
from junkan.config import LinkSettings
from junkan.db.models import Application, Candidate, Quarantine
from junkan.db.models_engagement import EmailEvent
from junkan.identity import identifiers_in, normalize_email, normalize_phone
from junkan.keyed import hash_normalised
from junkan.pool.refs import PREFIX as REF_PREFIX
from junkan.pool.refs import resolve_refs
from junkan.privacy.tables import People

EMAIL, PHONE, CANDIDATE_REF, APPLICATION_ID = "email", "phone", "candidate_ref", "application_id"
CHUNK = 1000


class NotAKey(ValueError):
    """A key that cannot name anyone (empty, or not a phone number); the message never echoes it."""


@dataclass(frozen=True, slots=True)
class RequestKeys:
    """What the operator knows of the person; each tuple may hold several values."""

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    candidate_refs: tuple[str, ...] = ()
    application_ids: tuple[str, ...] = ()

    def normalised(self) -> RequestKeys:
        """Keys in their stored form; NotAKey for a value that is empty or no phone number."""
        emails = tuple(_each(self.emails, normalize_email, "--email is empty"))
        phones = tuple(_each(self.phones, normalize_phone, "--phone is not a phone number"))
        refs = tuple(_each(self.candidate_refs, lambda r: (r or "").strip().lower() or None,
                           "--candidate-ref is empty"))
        if any(not r.startswith(REF_PREFIX) for r in refs):
            raise NotAKey(f"--candidate-ref must start with {REF_PREFIX} (as `junkan pool` shows it)")
        apps = tuple(_each(self.application_ids, lambda a: (a or "").strip() or None,
                           "--application-id is empty"))
        if not (emails or phones or refs or apps):
            raise NotAKey("give at least one of --email, --phone, --candidate-ref, --application-id")
        return RequestKeys(emails, phones, refs, apps)


def _each(values: Iterable[str], norm: Any, problem: str) -> Iterator[str]:
    for value in values:
        key = norm(value)
        if not key:
            raise NotAKey(problem)
        yield key


@dataclass(frozen=True, slots=True)
class Match:
    """One record and why it matched: key names ("email", "phone", …) or "<key> of candidate <id>"."""

    table: str
    row_id: int
    why: tuple[str, ...]


@dataclass(slots=True)
class Found:
    """Everything a request matched; `people()` is what the scrub and the export follow from it."""

    candidates: dict[int, set[str]] = field(default_factory=dict)
    applications: dict[int, set[str]] = field(default_factory=dict)
    application_keys: dict[tuple[str, str], int] = field(default_factory=dict)
    quarantine: dict[int, set[str]] = field(default_factory=dict)
    events: dict[int, set[str]] = field(default_factory=dict)
    #: Normalised addresses and E.164 phones: those given and those of the matched candidates.
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    #: (candidate id, matched candidate id): shares its phone, not taken.
    hints: list[tuple[int, int]] = field(default_factory=list)

    def matches(self) -> list[Match]:
        out: list[Match] = []
        for name, rows in (("candidate", self.candidates), ("application", self.applications),
                           ("quarantine", self.quarantine), ("email_event", self.events)):
            out.extend(Match(name, row_id, tuple(sorted(why))) for row_id, why in sorted(rows.items()))
        return out

    def people(self, hash_key: bytes) -> People:
        return People(candidate_ids=sorted(self.candidates), application_keys=sorted(self.application_keys),
                      email_hashes=sorted(hash_normalised(hash_key, e) for e in self.emails),
                      row_ids={"quarantine": sorted(self.quarantine)})


def find(conn: Connection, keys: RequestKeys, *, hash_key: bytes, links: LinkSettings) -> Found:
    """Every record matching `keys` (normalised first; NotAKey when one cannot name anyone)."""
    keys = keys.normalised()
    found = Found(emails=set(keys.emails), phones=set(keys.phones))
    _candidates(conn, keys, found, links)
    rows = conn.execute(select(Candidate.id, Candidate.email_key, Candidate.phone_key)
                        .where(Candidate.id.in_(sorted(found.candidates)))).all()
    for _, email_key, phone_key in rows:
        if email_key and email_key not in keys.emails:
            found.emails.add(email_key)
        if phone_key:
            found.phones.add(phone_key)
    derived_phones = {r.phone_key: r.id for r in rows if r.phone_key and r.phone_key not in keys.phones}
    derived_emails = {r.email_key: r.id for r in rows if r.email_key and r.email_key not in keys.emails}
    for app_id, cid, source, external_id in conn.execute(
            select(Application.id, Application.candidate_id, Application.source, Application.external_id)
            .where(Application.candidate_id.in_(sorted(found.candidates)))):
        found.applications.setdefault(app_id, set()).add(f"candidate {cid}")
        found.application_keys[(source, external_id)] = cid
    _quarantine(conn, keys, found, derived_emails, derived_phones)
    _orphan_events(conn, keys, found, hash_key, derived_emails)
    if derived_phones:
        others = select(Candidate.id, Candidate.phone_key).where(
            Candidate.phone_key.in_(sorted(derived_phones)), Candidate.id.not_in(sorted(found.candidates)))
        for cid, phone_key in conn.execute(others):
            found.hints.append((cid, derived_phones[phone_key]))
    return found


def _candidates(conn: Connection, keys: RequestKeys, found: Found, links: LinkSettings) -> None:
    def add(cid: int, why: str) -> None:
        found.candidates.setdefault(cid, set()).add(why)

    for column, values, why in ((Candidate.email_key, keys.emails, EMAIL),
                                (Candidate.phone_key, keys.phones, PHONE)):
        for batch in batched(sorted(set(values)), CHUNK):
            for cid in conn.execute(select(Candidate.id).where(column.in_(batch))).scalars():
                add(cid, why)
    for batch in batched(sorted(set(keys.application_ids)), CHUNK):
        for app_id, cid in conn.execute(select(Application.id, Application.candidate_id)
                                        .where(Application.external_id.in_(batch))):
            add(cid, APPLICATION_ID)
            found.applications.setdefault(app_id, set()).add(APPLICATION_ID)
    if keys.candidate_refs:
        # A ref is a keyed hash of the id: recomputed per candidate (one HMAC each), in batches.
        every_id = list(conn.execute(select(Candidate.id).order_by(Candidate.id)).scalars())
        for ids in batched(every_id, 10 * CHUNK):
            for cid in resolve_refs(keys.candidate_refs, ids, links).values():
                add(cid, CANDIDATE_REF)


def _quarantine(conn: Connection, keys: RequestKeys, found: Found, derived_emails: dict[str, int],
                derived_phones: dict[str, int]) -> None:
    """Raw records are read in batches and searched in Python: the stored forms of a phone (hyphens,
    full-width digits, spaces) and of an address (case, width) cannot be matched by SQL text search."""
    wanted_apps = set(keys.application_ids)
    app_keys = found.application_keys
    last = 0
    while True:
        rows = conn.execute(select(Quarantine.id, Quarantine.source, Quarantine.external_id, Quarantine.raw)
                            .where(Quarantine.id > last).order_by(Quarantine.id).limit(CHUNK)).all()
        if not rows:
            return
        last = rows[-1].id
        for qid, source, external_id, raw in rows:
            why: set[str] = set()
            if external_id in wanted_apps:
                why.add(APPLICATION_ID)
            if (source, external_id) in app_keys:
                why.add(f"application of candidate {app_keys[(source, external_id)]}")
            emails, phones = _identifiers(raw)
            why.update(EMAIL for e in emails if e in keys.emails)
            why.update(PHONE for p in phones if p in keys.phones)
            why.update(f"email of candidate {derived_emails[e]}" for e in emails if e in derived_emails)
            why.update(f"phone of candidate {derived_phones[p]}" for p in phones if p in derived_phones)
            if why:
                found.quarantine[qid] = why


def _identifiers(raw: Any) -> tuple[set[str], set[str]]:
    emails: set[str] = set()
    phones: set[str] = set()
    for text in _texts(raw):
        e, p = identifiers_in(text)
        emails |= e
        phones |= p
    return emails, phones


def _texts(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _orphan_events(conn: Connection, keys: RequestKeys, found: Found, hash_key: bytes,
                   derived_emails: dict[str, int]) -> None:
    """Events that matched no message keep only the keyed hash of their recipient (junkan.engagement)."""
    why_of = {hash_normalised(hash_key, e): EMAIL for e in keys.emails}
    why_of.update({hash_normalised(hash_key, e): f"email of candidate {cid}"
                   for e, cid in derived_emails.items()})
    for batch in batched(sorted(why_of), CHUNK):
        for event_id, digest in conn.execute(select(EmailEvent.id, EmailEvent.email_hash)
                                             .where(EmailEvent.email_hash.in_(batch))):
            if digest is not None:
                found.events.setdefault(event_id, set()).add(why_of[digest])


def describe(found: Found) -> list[str]:
    """Lines for the operator's terminal: table, our row id and the keys that matched; no personal data."""
    lines = [f"{m.table} {m.row_id}: {', '.join(m.why)}" for m in found.matches()]
    lines += [f"not included: candidate {cid} shares the phone of candidate {other} "
              f"(add --phone or another key of theirs to include it)" for cid, other in found.hints]
    return lines


def as_rows(found: Found) -> Sequence[dict[str, Any]]:
    """The matches as JSON-ready rows (the export's record of why each row is in it)."""
    return [{"table": m.table, "id": m.row_id, "matched_by": list(m.why)} for m in found.matches()]
