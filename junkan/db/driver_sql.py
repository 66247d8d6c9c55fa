"""Statements run at the driver level on both dialects: what the hot paths (the webhook's event inserts,
the outbox's delivery states) share so that each writes what the ORM would and stays within SQLite's limits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from junkan.db.types import UtcDateTime

T = TypeVar("T")


def by_dialect(conn: Connection, *, sqlite: T, postgresql: T) -> T:
    """The implementation written for this connection's dialect: Junkan runs on SQLite or PostgreSQL."""
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite
    if name == "postgresql":
        return postgresql
    raise ValueError(f"unsupported database dialect {name!r}: Junkan runs on SQLite or PostgreSQL")


def stored_time(conn: Connection) -> Callable[[datetime], Any]:
    """The bind processor of the columns' own type (UtcDateTime) on this connection's dialect.

    It is the function SQLAlchemy itself applies when the ORM or Core writes a time, so every writer
    stores the same text: on SQLite times are compared as text in SQL (min(), report ranges).
    """
    # dialect_impl first: the generic type's processor would hand the driver a naive datetime, which
    # sqlite3's own adapter writes in another format (no microseconds when they are zero).
    process = UtcDateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
    if process is None:
        raise RuntimeError(f"no datetime bind processor on {conn.dialect.name}")
    return process


def ensure_write_transaction(conn: Connection) -> None:
    """BEGIN IMMEDIATE unless a transaction is open already (Python's sqlite3 opens one on the first DML;
    its commit and rollback work on whichever transaction is open)."""
    driver = conn.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def parts(conn: Connection, items: Sequence[T], *, per_item: int = 1,
          reserved: int = 0) -> list[Sequence[T]]:
    """`items` cut so that one SQLite statement's parameters stay within its limit (and 1,000 rows)."""
    step = max(1, min(1000, (_max_variables(conn) - reserved) // per_item))
    return [items[i:i + step] for i in range(0, len(items), step)]


def _max_variables(conn: Connection) -> int:
    """Host parameters one SQLite statement may take (32,766 since 3.32; 999 before)."""
    driver = conn.connection.driver_connection
    getlimit = getattr(driver, "getlimit", None)  # Python 3.11+
    if getlimit is None:
        return 999
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
