"""The audit trail of anonymisation: one record per rule run or erasure, counts only, no personal data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import Connection, select, update

from junkan.db.models_privacy import PrivacyAudit

A = PrivacyAudit.__table__


def open_record(conn: Connection, *, action: str, rule: str, as_of: date | None, at: datetime,
                reason: str | None = None) -> int:
    """A new audit record with no rows counted yet; `add_counts` fills it in as batches commit."""
    return int(conn.execute(A.insert().values(action=action, rule=rule, as_of=as_of, candidates=0, tables={},
                                              reason=reason, performed_at=at).returning(A.c.id)).scalar_one())


def add_counts(conn: Connection, audit_id: int, candidates: int, tables: Mapping[str, int]) -> None:
    """Add one batch's counts, in the batch's transaction: the record never claims more than committed."""
    row = conn.execute(select(A.c.candidates, A.c.tables).where(A.c.id == audit_id)).one()
    merged = dict(row.tables)
    for name, count in tables.items():
        merged[name] = int(merged.get(name, 0)) + int(count)
    conn.execute(update(A).where(A.c.id == audit_id).values(candidates=row.candidates + candidates,
                                                            tables=merged))
