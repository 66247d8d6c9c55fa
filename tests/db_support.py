"""Emptying a migrated database between runs: what the test fixtures and the benchmarks both need."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

import junkan.db.all_models  # noqa: F401  (every table on Base.metadata, so none is left full)
from junkan.db.models import Base


def wipe(engine: Engine) -> None:
    """Deletes every row of every table and restarts the id counters; the schema stays as migrated."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            if _has_sqlite_sequence(conn):
                conn.execute(text("DELETE FROM sqlite_sequence"))


def _has_sqlite_sequence(conn: Connection) -> bool:
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() is not None
