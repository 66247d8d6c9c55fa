"""Engine and session helpers that behave the same on SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

from junkan.files import create_private

#: sql/migrations, reached through the package (a symlink in the source tree, copied files in a wheel),
#: so `junkan db upgrade` works from an installed wheel as well as from a checkout.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The parts of a PostgreSQL error after its primary message; they quote row values
#: ("DETAIL:  Key (email_key)=(taro@example.jp) already exists", "CONTEXT:  COPY … line 3: …").
_PG_DETAIL = re.compile(r"\n(?:DETAIL|HINT|CONTEXT|WHERE):.*", re.DOTALL)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the web app, reports) proceed while a flow writes; busy_timeout turns lock
    # contention between two runs into a wait instead of an immediate "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _strip_pg_detail(context: ExceptionContext) -> None:
    """Keep PostgreSQL's primary message only; the full detail stays on `orig.diag` for code that needs it."""
    # SQLAlchemy has already formatted its own message from the driver's: both carry the detail.
    for error in (context.original_exception, context.sqlalchemy_exception):
        if error is not None and error.args and isinstance(error.args[0], str):
            error.args = (_PG_DETAIL.sub("", error.args[0]), *error.args[1:])


@cache
def make_engine(url: str) -> Engine:
    """One engine per URL per process, so every task and request shares one connection pool.

    A database error's message would otherwise quote the statement's bound values and PostgreSQL's
    DETAIL (e-mail addresses, names), and Prefect logs and stores a failed task's exception text: so
    `hide_parameters`, and the DETAIL/CONTEXT lines are cut from PostgreSQL errors.
    """
    if url.startswith("sqlite"):
        _create_database_file(url)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)
    event.listen(engine, "handle_error", _strip_pg_detail)
    return engine


def _create_database_file(url: str) -> None:
    """The database holds personal data: a new SQLite file is created 0600 here, before SQLite would create
    it with the umask's 0644. Its -wal and -shm files take the same mode (SQLite copies it)."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        if path.parent.is_dir():  # otherwise SQLite's own error says the file cannot be opened
            create_private(path)


@cache
def _factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any exception."""
    session = _factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations in sql/migrations (what `junkan db upgrade` runs)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
