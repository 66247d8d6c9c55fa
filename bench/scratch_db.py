"""A scratch PostgreSQL database for a benchmark: created next to the server URL given, migrated, dropped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from junkan.db import upgrade


@contextmanager
def postgres_scratch(server_url: str, name: str, *, create: bool = True, drop: bool = True) -> Iterator[str]:
    """Database `name` on the server of `server_url`, created (unless `create` is off: it exists already)
    and migrated to head; yields its URL and drops it afterwards unless `drop` is off."""
    admin = make_url(server_url)
    # CREATE and DROP DATABASE cannot run inside a transaction.
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    if create:
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        if drop:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
