"""A database error leaves a task as ScrubbedDatabaseError: the fault's codes and schema names, and nothing
of the row, in its message, its attributes, its pickle (what Prefect stores) or its traceback."""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text

from junkan.db.errors import DatabaseConnectionLost, ScrubbedDatabaseError, database_errors_scrubbed
from junkan.db.models import Candidate
from junkan.db.types import utcnow
from junkan.ingest.upsert import upsert
from tasks.common import is_transient

ADDRESS = "taro.yamada@example.jp"
NAME = "山田 太郎"
PHONE = "+819011112222"
postgres_only = pytest.mark.skipif(
    not os.environ.get("JUNKAN_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL only (JUNKAN_TEST_DATABASE_URL unset)")


def _row(**changes: Any) -> dict[str, Any]:
    return {"email_key": ADDRESS, "display_name": NAME, "phone_key": PHONE, "locale": "ja", "tags": [],
            "created_at": utcnow(), "updated_at": utcnow(), **changes}


def _caught(fn: Any, *args: Any) -> ScrubbedDatabaseError:
    with pytest.raises(ScrubbedDatabaseError) as caught:
        database_errors_scrubbed(fn)(*args)
    return caught.value


def _assert_holds_no_row(error: ScrubbedDatabaseError) -> None:
    stored = pickle.dumps(error)
    logged = "".join(traceback.format_exception(error))
    for value in (ADDRESS, NAME, PHONE):
        assert value.encode() not in stored and value not in logged and value not in repr(vars(error))
    assert error.__cause__ is None and error.__context__ is None
    assert str(pickle.loads(stored)) == str(error)  # still readable where it is stored


def _insert_twice(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Candidate), [_row()])
        conn.execute(insert(Candidate), [_row()])


def test_a_unique_violation_names_the_constraint_and_nothing_of_the_row(engine: Engine) -> None:
    error = _caught(_insert_twice, engine)
    _assert_holds_no_row(error)
    assert error.error_class == "IntegrityError" and error.table == "candidate"
    if engine.dialect.name == "postgresql":
        assert error.sqlstate == "23505" and error.constraint == "uq_candidate_email_key"
        assert "SQLSTATE 23505 UniqueViolation" in str(error) and "uq_candidate_email_key" in str(error)
    else:
        assert "UNIQUE constraint failed: candidate.email_key" in str(error)


def _unconvertible_value(engine: Engine) -> None:
    with engine.begin() as conn:  # SQLAlchemy cannot bind it: the statement never reaches the database
        conn.execute(insert(Candidate), [_row(created_at=ADDRESS)])


def test_a_value_sqlalchemy_cannot_bind_is_withheld_too(engine: Engine) -> None:
    error = _caught(_unconvertible_value, engine)
    _assert_holds_no_row(error)
    assert error.error_class == "StatementError" and error.table == "candidate"


def test_other_exceptions_pass_unchanged() -> None:
    def broken() -> None:
        raise ValueError("not a database error")

    with pytest.raises(ValueError, match="not a database error"):
        database_errors_scrubbed(broken)()


@pytest.fixture
def guarded_candidate(engine: Engine) -> Iterator[str]:
    """A CHECK constraint refusing the row, so PostgreSQL's DETAIL quotes all of it."""
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE candidate ADD CONSTRAINT scrub_test "
                          f"CHECK (email_key <> '{ADDRESS}')"))
    yield "scrub_test"
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE candidate DROP CONSTRAINT scrub_test"))


def _staged_upsert(engine: Engine) -> None:
    with engine.begin() as conn:  # on PostgreSQL, upsert stages the rows by COPY and uses a raw cursor
        upsert(conn, Candidate.__table__, [_row()], conflict=("email_key",), update_columns=("display_name",))


@postgres_only  # a raw DBAPI cursor (COPY, staged upserts) is used on PostgreSQL only
def test_a_driver_error_from_a_raw_cursor_is_scrubbed_like_sqlalchemys(
    engine: Engine, guarded_candidate: str
) -> None:
    error = _caught(_staged_upsert, engine)
    _assert_holds_no_row(error)
    assert (error.error_class, error.sqlstate, error.table, error.constraint) == (
        "IntegrityError", "23514", "candidate", guarded_candidate)
    assert str(error) == ("database error IntegrityError (SQLSTATE 23514 CheckViolation) on table "
                          "candidate, constraint scrub_test (row values withheld)")


def _query_on_a_killed_connection(engine: Engine) -> None:
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.execute(text("SELECT 1"))


@postgres_only  # an embedded SQLite database has no connection to lose
def test_a_lost_connection_stays_worth_a_retry(engine: Engine) -> None:
    error = _caught(_query_on_a_killed_connection, engine)
    assert isinstance(error, DatabaseConnectionLost) and isinstance(error, ConnectionError)
    assert error.error_class == "OperationalError" and error.sqlstate == "57P01"
    assert is_transient(error)  # the tasks' retry condition still retries it
    assert is_transient(pickle.loads(pickle.dumps(error)))
