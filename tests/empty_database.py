"""An empty database of the dialect under test, for what must happen before `junkan db upgrade`."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables: a new SQLite file, or a scratch schema on PostgreSQL."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'never-migrated.db'}"
        return
    schema = f"empty_{secrets.token_hex(4)}"
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
