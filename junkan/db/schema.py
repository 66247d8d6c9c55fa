"""Before a run or a command touches the database: is it reachable, and at the revision this Junkan needs?

Without this check a database that was never migrated (or is behind this Junkan) fails deep inside the
first query, a hundred lines of traceback later, as `ScrubbedDatabaseError … 42P01 UndefinedTable`, and a
wrong URL ends `junkan db upgrade` in a driver traceback of hundreds of lines. Both are an operator's
mistake with one fix, so both are raised here as one line that names it.

The check costs one query of `alembic_version` per engine per process: a success is remembered, so a flow
and its sub-flows and tasks (or a command) may call `require_current_schema` wherever they start.
"""

from __future__ import annotations

import threading
from functools import cache

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from junkan.db.engine import MIGRATIONS_DIR

#: The command that brings the schema up to date, named in every refusal.
UPGRADE_COMMAND = "junkan db upgrade"

_checked: set[str] = set()
_lock = threading.Lock()


class SchemaNotCurrent(RuntimeError):
    """The database's schema revision is not the one this Junkan was built for; the message is one line."""


class DatabaseUnreachable(ConnectionError):
    """The database named by JUNKAN_DATABASE_URL cannot be reached or logged into; one line."""


@cache
def _scripts() -> tuple[frozenset[str], frozenset[str]]:
    """(head revisions, every revision) of the migrations shipped with this Junkan, read once per process."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(config)
    return frozenset(scripts.get_heads()), frozenset(s.revision for s in scripts.walk_revisions())


def required_revisions() -> frozenset[str]:
    """The head revision(s) this Junkan needs."""
    return _scripts()[0]


def shown_url(url: str) -> str:
    """The URL with its password masked, as it may be printed."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def unreachable(url: str, exc: BaseException) -> DatabaseUnreachable:
    """One line for a failed connection: where, the driver's first line (host, port, refused/timeout/auth)."""
    orig = getattr(exc, "orig", None) or exc
    first = next((line.strip() for line in str(orig).splitlines() if line.strip()), type(orig).__name__)
    return DatabaseUnreachable(f"cannot connect to the database {shown_url(url)}: {first[:200]}; check "
                               f"JUNKAN_DATABASE_URL and that the database server is running")


def schema_problem(engine: Engine) -> str | None:
    """Why this Junkan cannot use the database's schema (one line); None at the right revision."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except (OperationalError, InterfaceError) as exc:
        raise unreachable(engine.url.render_as_string(hide_password=False), exc) from None
    needed = required_revisions()
    if current == needed:
        return None
    shown_needed = ", ".join(sorted(needed))
    shown_current = ", ".join(sorted(current)) or "none (never migrated)"
    if current and not current <= _scripts()[1]:
        return (f"the database is at revision {shown_current}, which this Junkan does not know (a newer "
                f"Junkan migrated it); this Junkan needs {shown_needed}: run the newer Junkan")
    return (f"the database is at revision {shown_current}, this Junkan needs {shown_needed}: "
            f"run `{UPGRADE_COMMAND}`")


def require_current_schema(engine: Engine) -> None:
    """Raise SchemaNotCurrent (or DatabaseUnreachable) unless the schema is at this Junkan's revision.

    Call it where a run or a command starts; after one success per engine it returns at once.
    """
    key = engine.url.render_as_string(hide_password=False)
    if key in _checked:
        return
    problem = schema_problem(engine)
    if problem is not None:
        raise SchemaNotCurrent(problem)
    with _lock:
        _checked.add(key)


__all__ = [
    "UPGRADE_COMMAND",
    "DatabaseUnreachable",
    "SchemaNotCurrent",
    "require_current_schema",
    "required_revisions",
    "schema_problem",
    "shown_url",
    "unreachable",
]
