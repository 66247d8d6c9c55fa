"""`INSERT … ON CONFLICT` for the database behind a connection or session.

Both dialects spell it the same, but SQLAlchemy exposes it per dialect module, so the statement is built
from the module matching the bind. Junkan runs on SQLite and PostgreSQL; anything else is refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

#: Both dialect `Insert` classes offer the same `on_conflict_do_*` and `excluded` API.
ConflictInsert = postgresql.Insert | sqlite.Insert


def conflict_insert(bind: Connection | Session, table: Table | type[Any]) -> ConflictInsert:
    """An INSERT into `table` (a Table or a mapped class) that accepts an ON CONFLICT clause."""
    name = bind.dialect.name if isinstance(bind, Connection) else bind.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {name!r} (Junkan runs on SQLite and PostgreSQL)")


def insert_ignore(bind: Connection | Session, table: Table | type[Any]) -> ConflictInsert:
    """An INSERT that silently skips rows violating any unique constraint (concurrency-safe)."""
    return conflict_insert(bind, table).on_conflict_do_nothing()
