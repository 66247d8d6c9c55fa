"""Where a person's rows are, table by table: the one map the scrub, the erasure and the export share.

Every table of `Base.metadata` is either in PERSON_TABLES (with how its rows are found from a set of
candidate ids) or in NO_PERSON_TABLES (with why it holds nothing about anyone). A test fails when a new
table is in neither, so a new table cannot be forgotten by the export or the erasure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, Table, and_, false, or_, select

import junkan.db.all_models  # noqa: F401  (every table on Base.metadata)
from junkan.db.models import Application, Base, Message

Link = Literal["self", "candidate_id", "application_id", "message_id", "application_key", "email_hash",
               "found"]

#: How rows of a table belong to the candidates: by the candidate's own id, a candidate/application/message
#: foreign key, the (source, external_id) of one of their applications, the keyed hash of the address
#: (suppressions, tombstones, and provider events that matched no message), or (requests only) the rows a
#: request's search found (junkan.privacy.find: their address or phone in the raw record of something
#: that never became an application).
PERSON_TABLES: dict[str, tuple[Link, ...]] = {
    "candidate": ("self",),
    "application": ("candidate_id",),
    "consent": ("candidate_id",),
    "decision_log": ("application_id",),
    "quarantine": ("application_key", "found"),
    "message": ("candidate_id",),
    "email_event": ("message_id", "email_hash"),
    "click": ("message_id",),
    "partner_referral": ("candidate_id",),
    "pool_member": ("candidate_id",),
    "pool_tag": ("candidate_id",),
    "pool_score": ("candidate_id",),
    "pool_match": ("candidate_id",),
    "pool_reapplication": ("candidate_id",),
    "ats_writeback": ("candidate_id",),
    "candidate_preference": ("candidate_id",),
    "preference_visit": ("candidate_id",),
    "data_copy_request": ("candidate_id",),
    "suppression": ("email_hash",),
    "erasure_tombstone": ("application_key", "email_hash"),
}

NO_PERSON_TABLES: dict[str, str] = {
    "job": "jobs of the employer",
    "job_title_history": "titles the employer's jobs had before a rename",
    "opening": "openings of the employer",
    "rejection_reason": "the source's reason list and our categories",
    "watermark": "per-source positions",
    "ingest_lock": "ingest leases",
    "suppression_sync": "per-list watermarks and counts",
    "partner_ledger": "credit movements; hire_ref is the operator's opaque reference",
    "partner_sync_state": "per-partner cursors and counts",
    "pool_model": "trained estimators and their metrics",
    "match_run": "run parameters and counts",
    "pool_opening_state": "job and opening states",
    "report_snapshot": "aggregate KPI figures",
    "privacy_audit": "counts per rule and table",
}


@dataclass(frozen=True, slots=True)
class People:
    """Whose rows: candidate ids, with their applications' keys and the keyed hashes of their addresses."""

    candidate_ids: Sequence[int]
    application_keys: Sequence[tuple[str, str]] = ()
    email_hashes: Sequence[str] = field(default_factory=tuple)
    #: Rows a request's search found, per table (junkan.privacy.find).
    row_ids: Mapping[str, Sequence[int]] = field(default_factory=dict)


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def rows_of(name: str, people: People) -> ColumnElement[bool]:
    """WHERE clause: the rows of table `name` that belong to `people`."""
    t = table(name)
    ids = list(people.candidate_ids)
    clauses: list[ColumnElement[bool]] = []
    for link in PERSON_TABLES[name]:
        if link == "self":
            clauses.append(t.c.id.in_(ids))
        elif link == "candidate_id":
            clauses.append(t.c.candidate_id.in_(ids))
        elif link == "application_id":
            clauses.append(t.c.application_id.in_(
                select(Application.id).where(Application.candidate_id.in_(ids)).scalar_subquery()))
        elif link == "message_id":
            clauses.append(t.c.message_id.in_(
                select(Message.id).where(Message.candidate_id.in_(ids)).scalar_subquery()))
        elif link == "application_key" and people.application_keys:
            by_source: dict[str, list[str]] = {}
            for source, external_id in people.application_keys:
                by_source.setdefault(source, []).append(external_id)
            clauses.extend(and_(t.c.source == source, t.c.external_id.in_(external_ids))
                           for source, external_ids in sorted(by_source.items()))
        elif link == "email_hash" and people.email_hashes:
            clauses.append(t.c.email_hash.in_(list(people.email_hashes)))
        elif link == "found" and people.row_ids.get(name):
            clauses.append(t.c.id.in_(list(people.row_ids[name])))
    return or_(*clauses) if clauses else and_(false())
