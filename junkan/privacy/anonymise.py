"""The scrub: remove a set of candidates' personal data from every table, keep the non-personal facts.

Removed or replaced: names, addresses, phones, skills, location and operator tags (candidate); the raw
source payloads (decision_log.payload, quarantine.raw); rendered subjects and bodies, which carry the
name and the personal links, and error texts (message); webhook payloads and the recipient hash
(email_event: the keyed hash an event keeps while it has no message); free text (application.reason_text,
pool_match.why and skill lists, operator tags).

Kept, so every KPI in docs/kpis.md gives the same numbers: ids, statuses, dates, counts, reason
categories, stages, consent records (purpose, granted, when), clicks, referral codes and partner
attribution. Suppressions are already keyed hashes and stay, so the address is still never mailed.

Every statement is one bulk UPDATE or DELETE per table for a batch of candidates (`retention.batch_size`),
never a Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from junkan.db.models import Application, Candidate, Message
from junkan.db.results import rows_affected
from junkan.outbox.enqueue import CANCEL_ANONYMISED
from junkan.outbox.transitions import cancel
from junkan.privacy.keyed import hash_normalised
from junkan.privacy.tables import People, rows_of, table

#: Stands in for the content hash of an anonymised application (a hash of its personal fields).
SCRUBBED_HASH = "anonymised"


@dataclass(frozen=True, slots=True)
class Person:
    """What the scrub must know of one candidate before it removes it."""

    candidate_id: int
    email_key: str | None
    phone_key: str | None


def load_people(conn: Connection, candidate_ids: Sequence[int]) -> tuple[list[Person], list[tuple[str, str]]]:
    ids = list(candidate_ids)
    people = [Person(r.id, r.email_key, r.phone_key) for r in conn.execute(
        select(Candidate.id, Candidate.email_key, Candidate.phone_key).where(Candidate.id.in_(ids)))]
    keys = [(r.source, r.external_id) for r in conn.execute(
        select(Application.source, Application.external_id).where(Application.candidate_id.in_(ids)))]
    return people, keys


def _count(conn: Connection, counts: dict[str, int], name: str, statement: Any) -> None:
    affected = rows_affected(conn.execute(statement))
    if affected:
        counts[name] = counts.get(name, 0) + affected


def scrub(conn: Connection, candidate_ids: Sequence[int], *, at: datetime,
          application_keys: Sequence[tuple[str, str]], addresses: Sequence[str] = (),
          search_terms: Sequence[str] = (), hash_key: bytes) -> dict[str, int]:
    """Scrub the candidates in one transaction; returns rows changed or deleted per table.

    `addresses` are their normalised addresses (for events that reached us without a message); an
    erasure passes `search_terms` (the address, the phone) to clear quarantined records of the person
    that never became an application, found by text search.
    """
    if not candidate_ids and not search_terms:
        return {}
    people = People(candidate_ids=list(candidate_ids), application_keys=list(application_keys),
                    search_terms=list(search_terms))
    counts: dict[str, int] = {}
    event = table("email_event")
    # Events that never matched a message are found by their recipient's keyed hash (`hash_key`).
    hashes = [hash_normalised(hash_key, a) for a in addresses if a]
    events = rows_of("email_event", people)
    of_them = or_(events, event.c.email_hash.in_(hashes)) if hashes else events
    _count(conn, counts, "email_event", update(event).where(of_them).values(payload={}, email_hash=None))
    message = table("message")
    _count(conn, counts, "message", update(message).where(rows_of("message", people)).values(
        subject=None, body_text=None, body_html=None, last_error=None))
    cancel(conn, Message.id.in_(select(message.c.id).where(rows_of("message", people))),
           reason=CANCEL_ANONYMISED, now=at)
    _count(conn, counts, "decision_log", update(table("decision_log")).where(
        rows_of("decision_log", people)).values(payload={}))
    _count(conn, counts, "quarantine", update(table("quarantine")).where(rows_of("quarantine", people))
           .values(raw={}))
    match = table("pool_match")
    _count(conn, counts, "pool_match", update(match).where(rows_of("pool_match", people)).values(
        why="", matched_required=[], missing_required=[], matched_preferred=[]))
    # Operator tags are free text. Pool membership and scores stay (categories and numbers, which the
    # pool KPIs count); the next pool refresh drops the anonymised, who are never eligible.
    _count(conn, counts, "pool_tag", delete(table("pool_tag")).where(rows_of("pool_tag", people)))
    app = table("application")
    _count(conn, counts, "application", update(app).where(rows_of("application", people)).values(
        reason_text=None, content_hash=SCRUBBED_HASH, updated_at=at))
    cand = table("candidate")
    _count(conn, counts, "candidate", update(cand).where(rows_of("candidate", people)).values(
        email_key=None, phone_key=None, display_name=None, tags=[], skills=None, location=None,
        anonymized_at=at, updated_at=at))
    return counts

