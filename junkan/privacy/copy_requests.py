"""Copies of their data that people asked for on their own page (docs/privacy.md "The preference page").

Junkan has no mail path that sends an export (`junkan privacy export` writes a file for the operator),
so the page records the request here and says so. The operator lists the open requests by opaque ref
(`junkan privacy copy-requests`), writes the export with `junkan privacy export --candidate-ref …`,
sends it to the address on file by their own secure means, and marks the request done. Nothing here
holds or shows an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from junkan.config import LinkSettings
from junkan.db.dialect import insert_ignore
from junkan.db.models import Candidate
from junkan.db.models_preferences import DataCopyRequest
from junkan.db.results import rows_affected
from junkan.pool.refs import ref_map


@dataclass(frozen=True, slots=True)
class OpenRequest:
    id: int
    candidate_ref: str
    requested_at: datetime


def request_copy(session: Session, candidate_id: int, *, at: datetime, source: str) -> bool:
    """Record a request; False when the person already has one open (asking twice sends one copy).

    The unique index on open requests settles two POSTs at once: the second insert is skipped."""
    table = DataCopyRequest.__table__
    added = session.execute(insert_ignore(session, table).returning(table.c.id),
                            {"candidate_id": candidate_id, "requested_at": at, "source": source}).first()
    return added is not None


def open_requests(conn: Connection, links: LinkSettings) -> list[OpenRequest]:
    """Open requests, oldest first, by ref; a person erased since is left out (there is nothing to send)."""
    rows = conn.execute(
        select(DataCopyRequest.id, DataCopyRequest.candidate_id, DataCopyRequest.requested_at)
        .join(Candidate, Candidate.id == DataCopyRequest.candidate_id)
        .where(DataCopyRequest.done_at.is_(None), Candidate.anonymized_at.is_(None))
        .order_by(DataCopyRequest.requested_at, DataCopyRequest.id)).all()
    refs = ref_map({r.candidate_id for r in rows}, links)
    return [OpenRequest(r.id, refs[r.candidate_id], r.requested_at) for r in rows]


def mark_done(session: Session, request_id: int, *, at: datetime) -> bool:
    """The copy was sent; False when no open request has this id."""
    done = session.execute(update(DataCopyRequest).where(
        DataCopyRequest.id == request_id, DataCopyRequest.done_at.is_(None)).values(done_at=at))
    return rows_affected(done) > 0
