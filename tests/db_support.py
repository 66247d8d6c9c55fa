"""Test databases: emptying a migrated one between runs (what the test fixtures and the benchmarks both
need), and a fresh PostgreSQL database next to the one given (per xdist worker, per e2e scenario)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, NullPool, create_engine, make_url, text

import junkan.db.all_models  # noqa: F401  (every table on Base.metadata, so none is left full)
from junkan.db import upgrade
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


@contextmanager
def fresh_postgresql_database(
    server_url: str, name: str, *, create: bool = True, drop: bool = True, template: str | None = None
) -> Iterator[str]:
    """Database `name` on the server of `server_url`, created empty and migrated; yields its URL and drops it
    afterwards. One of that name left behind by a killed run is dropped first, so a rerun starts clean.
    A benchmark keeping its data between runs turns `create` off (the database exists and is only migrated)
    or `drop` off (it is left behind); `template` makes it a copy of that database instead of empty."""
    url = make_url(server_url)
    # CREATE and DROP DATABASE cannot run inside a transaction. A new connection each time: one kept in a
    # pool may have been dropped meanwhile (the fault drill terminates every connection of the database).
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def drop_database() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    if create:
        drop_database()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        fresh = url.set(database=name).render_as_string(hide_password=False)
        upgrade(fresh)
        yield fresh
    finally:
        if drop:
            drop_database()
        admin.dispose()
