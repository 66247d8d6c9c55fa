"""Bulk inserts that skip conflicting rows and report which rows went in; the IN-list size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.db.dialect import insert_ignore

#: Well below SQLite's bound-parameter limit and PostgreSQL's comfortable IN-list size.
CHUNK = 500


def insert_ignore_returning(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], column: str
) -> set[Any]:
    """Insert `rows`, skipping conflicts; returns the `column` values of the rows actually inserted."""
    if not rows:
        return set()
    stmt = insert_ignore(session, table).returning(table.c[column])
    inserted: set[Any] = set()
    for batch in batched(rows, 1000):
        inserted.update(session.execute(stmt, batch).scalars().all())
    return inserted
