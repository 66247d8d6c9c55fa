"""Database errors reduced to what names the fault, never the row, for code that stores exceptions.

A driver or SQLAlchemy error keeps the failing row: SQLAlchemy's `.params` (whatever `hide_parameters`
prints), the driver's error on `.orig` and `__cause__`, and PostgreSQL's diagnostics ("DETAIL: Failing
row contains (…, taro@example.jp, 山田 太郎, …)"). The engine cuts DETAIL from the message, but an
orchestrator that pickles the exception (Prefect writes a failed run's exception to result storage)
keeps the rest. `ScrubbedDatabaseError` carries only schema names and codes, and no exception chain.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import psycopg
from sqlalchemy.exc import DBAPIError, StatementError

P = ParamSpec("P")
R = TypeVar("R")

#: What may carry a row's values: SQLAlchemy's statement errors, and driver errors raised on a raw
#: DBAPI cursor (COPY, staged upserts), which SQLAlchemy never wrapped.
ROW_CARRYING_ERRORS = (StatementError, psycopg.Error, sqlite3.Error)
#: The table a write statement names (SQL text with placeholders: no values), for SQLite, which does
#: not report it.
_WRITTEN_TABLE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z_]\w*)', re.IGNORECASE)


class ScrubbedDatabaseError(Exception):
    """A database error without the failing row: the error class, SQLSTATE and schema names only.

    PostgreSQL's primary message is left out too, because some quote the value ('invalid input syntax
    for type integer: "…"'); the SQLSTATE's condition name says the same without it. SQLite's message
    is kept: SQLite builds it from schema names ("UNIQUE constraint failed: candidate.email_key").
    """

    def __init__(self, message: str, *, error_class: str | None = None, sqlstate: str | None = None,
                 table: str | None = None, column: str | None = None,
                 constraint: str | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.sqlstate = sqlstate
        self.table = table
        self.column = column
        self.constraint = constraint


class DatabaseConnectionLost(ScrubbedDatabaseError, ConnectionError):
    """The connection broke mid-statement (SQLAlchemy invalidated it): a retry may well succeed, so it
    is a ConnectionError like any other lost connection."""


def scrub_database_error(exc: StatementError | psycopg.Error | sqlite3.Error) -> ScrubbedDatabaseError:
    """The scrubbed form of one of ROW_CARRYING_ERRORS."""
    driver = exc.orig if isinstance(exc, StatementError) else exc
    error_class = type(exc).__name__ if isinstance(exc, StatementError) else _dbapi_class(exc)
    statement_table = _table_of(exc.statement) if isinstance(exc, StatementError) else None
    kind = DatabaseConnectionLost if isinstance(exc, DBAPIError) and exc.connection_invalidated \
        else ScrubbedDatabaseError
    if isinstance(driver, psycopg.Error):
        diag = driver.diag
        fields = {"error_class": error_class, "sqlstate": driver.sqlstate,
                  "table": diag.table_name or statement_table,
                  "column": diag.column_name, "constraint": diag.constraint_name}
        condition = type(driver).__name__
        if driver.sqlstate:
            condition = f"SQLSTATE {driver.sqlstate} {condition}"
        return kind(_describe(error_class, condition, fields), **fields)
    if isinstance(driver, sqlite3.Error):
        # sqlite3 carries no structured diagnostics; its message is the description.
        fields = {"error_class": error_class, "table": statement_table}
        return kind(_describe(error_class, f"sqlite3.{type(driver).__name__}: {driver}", fields), **fields)
    # A statement SQLAlchemy could not even send (a bind value it could not convert): the driver-side
    # error is Python's, and its message may quote the value.
    fields = {"error_class": error_class, "table": statement_table}
    return kind(_describe(error_class, type(driver).__name__ if driver is not None else None, fields),
                **fields)


def _dbapi_class(error: psycopg.Error | sqlite3.Error) -> str:
    """The DB-API class (IntegrityError, DataError …) of a driver's error, as SQLAlchemy would name it."""
    return next(cls.__name__ for cls in type(error).__mro__ if cls.__module__ in ("psycopg", "sqlite3"))


def _table_of(statement: str | None) -> str | None:
    found = _WRITTEN_TABLE.match(statement or "")
    return found.group(1) if found else None


def _describe(error_class: str, condition: str | None, fields: dict[str, str | None]) -> str:
    where = ", ".join(f"{name} {fields[name]}" for name in ("table", "column", "constraint")
                      if fields.get(name))
    parts = [f"database error {error_class}"]
    if condition:
        parts.append(f"({condition})")
    if where:
        parts.append(f"on {where}")
    return " ".join(parts) + " (row values withheld)"


def database_errors_scrubbed(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate an entry point whose exceptions are stored (a Prefect task or flow): a database error
    leaves it as a ScrubbedDatabaseError, other exceptions unchanged."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ROW_CARRYING_ERRORS as exc:
            scrubbed = scrub_database_error(exc)
            # From the frame below this one (raising adds this frame again): where it failed, as frames
            # and source lines, never values.
            trace = exc.__traceback__.tb_next if exc.__traceback__ else None
        # Raised outside the `except` block, so neither __cause__ nor __context__ holds the original.
        raise scrubbed.with_traceback(trace)

    return call
