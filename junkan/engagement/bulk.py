"""Portable bulk SQL: `INSERT … ON CONFLICT DO NOTHING` on both dialects, and IN-list chunking."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")

#: Well below SQLite's bound-parameter limit and PostgreSQL's comfortable IN-list size.
CHUNK = 500


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_ignore(session: Session, table: Table) -> Any:
    """An INSERT that silently skips rows violating any unique constraint (concurrency-safe)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise ValueError(f"unsupported database dialect {dialect!r}: Junkan runs on SQLite or PostgreSQL")


def insert_ignore_returning(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], column: str
) -> set[Any]:
    """Insert `rows`, skipping conflicts; returns the `column` values of the rows actually inserted."""
    if not rows:
        return set()
    stmt = insert_ignore(session, table).returning(table.c[column])
    inserted: set[Any] = set()
    for batch in chunks(rows, 1000):
        inserted.update(session.execute(stmt, batch).scalars().all())
    return inserted
