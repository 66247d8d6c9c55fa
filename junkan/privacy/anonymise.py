"""The scrub: remove a set of candidates' personal data from every table, keep the non-personal facts.

Removed or replaced: names, addresses, phones, skills, location and operator tags (candidate); the raw
source payloads (decision_log.payload, quarantine.raw); rendered subjects and bodies, which carry the
name and the personal links, and error texts (message); webhook payloads and the recipient hash
(email_event: the keyed hash an event keeps while it has no message); free text (application.reason_text,
pool_match.why and skill lists, operator tags, what the person typed on the preference page and the
places and skills they chose there).

Kept, so every KPI in docs/kpis.md gives the same numbers: ids, statuses, dates, counts, reason
categories, stages, consent records (purpose, granted, when), clicks, referral codes and partner
attribution, the preference page's visits and its categorical choices (occupation families, timing,
remote), which the report counts. Suppressions are already keyed hashes and stay, so the address is still
never mailed.

Every statement is one bulk UPDATE or DELETE per table for a batch of candidates (`retention.batch_size`),
never a Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from junkan.db.models import Application, Candidate, Message
from junkan.db.results import rows_affected
from junkan.keyed import hash_normalised
from junkan.outbox.enqueue import CANCEL_ANONYMISED
from junkan.outbox.transitions import cancel
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


def people_of(persons: Sequence[Person], application_keys: Sequence[tuple[str, str]],
              hash_key: bytes) -> People:
    """The rows of these candidates; events that matched no message are found by the keyed hash of their
    addresses (`hash_key`, `retention.hash_key`)."""
    return People(candidate_ids=[p.candidate_id for p in persons], application_keys=list(application_keys),
                  email_hashes=[hash_normalised(hash_key, p.email_key) for p in persons if p.email_key])


def scrub(conn: Connection, people: People, *, at: datetime) -> dict[str, int]:
    """Scrub `people` in one transaction; returns rows changed or deleted per table.

    A request (junkan.privacy.find) adds the quarantined records its search found, and the hashes of
    every address it was given.
    """
    if not people.candidate_ids and not any(people.row_ids.values()) and not people.email_hashes:
        return {}
    counts: dict[str, int] = {}
    _count(conn, counts, "email_event", update(table("email_event")).where(rows_of("email_event", people))
           .values(payload={}, email_hash=None))
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
    # The page's free text and the places and skills chosen say who the person is; the families and the
    # timing are categories the report counts.
    _count(conn, counts, "candidate_preference", update(table("candidate_preference")).where(
        rows_of("candidate_preference", people)).values(other_interest="", locations=[], skills_text="",
                                                         skills=[]))
    # A write into the ATS not yet made is not made for someone erased (docs/pool.md "Write-back").
    writes = table("ats_writeback")
    conn.execute(update(writes).where(rows_of("ats_writeback", people), writes.c.state == "pending")
                 .values(state="failed", error="erased before it was written"))
    app = table("application")
    _count(conn, counts, "application", update(app).where(rows_of("application", people)).values(
        reason_text=None, content_hash=SCRUBBED_HASH, updated_at=at))
    cand = table("candidate")
    _count(conn, counts, "candidate", update(cand).where(rows_of("candidate", people)).values(
        email_key=None, phone_key=None, display_name=None, tags=[], skills=None, location=None,
        anonymized_at=at, updated_at=at))
    return counts

