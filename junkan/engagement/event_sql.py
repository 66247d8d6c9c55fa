"""The webhook's hot statements, written per dialect and run at the driver level.

A webhook batch is a thousand rows. Through the ORM or Core with typed columns, every row pays for bind
processing (two datetimes and a JSON document) and the IN lists are re-rendered per call; that was most of
the per-event cost. Here each step is one statement with parameters the driver takes as they are:

- SQLite: multi-row `VALUES` (statement text is stable for full chunks, so sqlite3 caches the prepared
  statement), datetimes in SQLAlchemy's own SQLite storage format, JSON as text.
- PostgreSQL: one array parameter per column and `unnest`, so a batch is one round trip whatever its size.

Both use `INSERT … ON CONFLICT DO NOTHING RETURNING` (either unique key settles a duplicate, also between
concurrent batches) and one set-based `UPDATE … FROM` for message states. The SQL is equivalent on both
dialects; tests run the same scenarios against each.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection

_RANK_OF = {"unknown": 0, "accepted": 1, "delivered": 2}
#: Rank of the states an event may move a message out of; anything else (sending, bounced, failed,
#: cancelled, pending …) ranks above every target and so is never touched.
_CURRENT_RANK_SQL = ("CASE {m}.state WHEN 'unknown' THEN 0 WHEN 'accepted' THEN 1 "
                     "WHEN 'delivered' THEN 2 ELSE 99 END")
# Times come from the stored events, and only fill a column that is still empty. The correlated
# subqueries run only for those rows (COALESCE stops at the first non-null on both dialects).
_FIRST_EVENT_SQL = "(SELECT min(e.occurred_at) FROM email_event e WHERE e.message_id = {m}.id)"
_FIRST_DELIVERY_SQL = ("(SELECT min(e.occurred_at) FROM email_event e "
                       "WHERE e.message_id = {m}.id AND e.event = 'delivered')")

_SQLITE_BATCH_PRAGMAS = (
    "PRAGMA synchronous=FULL",
    "PRAGMA cache_size=-65536",  # KiB: 64 MiB at most, allocated only as pages are touched
    "PRAGMA wal_autocheckpoint=16384",  # pages: 64 MiB of WAL
)

_EVENT_COLUMNS = ("sg_event_id", "dedup_key", "message_id", "provider_message_id", "event", "occurred_at",
                  "received_at", "source", "email_hash", "payload")


class EventRow(NamedTuple):
    """One `email_event` row as the webhook stores it (source 'sendgrid', received now)."""

    sg_event_id: str
    dedup_key: str
    message_id: int | None
    provider_message_id: str | None
    event: str
    occurred_at: datetime
    email_hash: str | None
    payload_json: str


class StateTarget(NamedTuple):
    message_id: int
    state: str
    rank: int


class EventSql(Protocol):
    def begin_batch(self, conn: Connection) -> None: ...

    def message_ids_by_public_id(self, conn: Connection, public_ids: Sequence[str]) -> dict[str, int]: ...

    def insert_events(self, conn: Connection, rows: Sequence[EventRow], *, now: datetime) -> set[str]: ...

    def advance_states(self, conn: Connection, targets: Sequence[StateTarget], *, now: datetime) -> int: ...


def event_sql(conn: Connection) -> EventSql:
    name = conn.dialect.name
    if name == "sqlite":
        return _SQLITE
    if name == "postgresql":
        return _POSTGRES
    raise NotImplementedError(f"unsupported database dialect {name!r}")


def sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format for an aware datetime, as UtcDateTime stores it.

    Stored times are compared as text in SQL (min(), ranges in reports), so the format must be exactly
    the one the ORM writes; a unit test holds the two together.
    """
    if value.utcoffset():
        value = value.astimezone(UTC)
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}")


class _SqliteEventSql:
    _INSERT = (f"INSERT INTO email_event ({', '.join(_EVENT_COLUMNS)}) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, 'sendgrid', ?, ?) ON CONFLICT DO NOTHING")

    def begin_batch(self, conn: Connection) -> None:
        """Connection settings for a webhook write; run before the batch's first statement opens it.

        - synchronous=FULL: the WAL is synced at commit, so an event acknowledged with 2xx survives a
          power cut too, not only a crash of the process (NORMAL, the engine default, would not).
        - a page cache that holds a whole batch: its random-key index inserts otherwise spill dirty
          pages to the WAL in the middle of the transaction and re-read them.
        - automatic checkpoints only as a safety net: the web app checkpoints after answering, so the
          copy back into the database file is not on any request's path.
        """
        for pragma in _SQLITE_BATCH_PRAGMAS:
            conn.exec_driver_sql(pragma)
        # The write lock up front: the whole batch (message lookup included) sees one state of the
        # database, and a writer in another process makes us wait (busy_timeout) instead of failing later.
        _ensure_write_transaction(conn)

    def message_ids_by_public_id(self, conn: Connection, public_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        step = _max_variables(conn)
        for start in range(0, len(public_ids), step):
            part = public_ids[start:start + step]
            sql = f"SELECT public_id, id FROM message WHERE public_id IN ({', '.join('?' * len(part))})"
            found.update(conn.exec_driver_sql(sql, tuple(part)).all())
        return found

    def insert_events(self, conn: Connection, rows: Sequence[EventRow], *, now: datetime) -> set[str]:
        if not rows:
            return set()
        # Which rows were new, without RETURNING (a quarter of the insert's cost on a batch): ids are
        # rowids, allocated above the current maximum, and inside one write transaction nobody else can
        # insert. So the new rows are exactly those above the maximum read first in this transaction.
        _ensure_write_transaction(conn)
        before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM email_event").scalar_one()
        received = sqlite_datetime(now)
        conn.exec_driver_sql(self._INSERT, [
            (r.sg_event_id, r.dedup_key, r.message_id, r.provider_message_id, r.event,
             sqlite_datetime(r.occurred_at), received, r.email_hash, r.payload_json)
            for r in rows
        ])
        return set(conn.exec_driver_sql("SELECT sg_event_id FROM email_event WHERE id > ?", (before,))
                   .scalars().all())

    def advance_states(self, conn: Connection, targets: Sequence[StateTarget], *, now: datetime) -> int:
        updated_at = sqlite_datetime(now)
        step = max(1, min(1000, (_max_variables(conn) - 1) // 3))
        changed = 0
        for start in range(0, len(targets), step):
            part = targets[start:start + step]
            params: list[Any] = []
            for t in part:
                params += t
            values = ", ".join(["(?, ?, ?)"] * len(part))
            # The statement must start with UPDATE (not WITH): Python's sqlite3 opens its implicit
            # transaction, and reports rowcount, only for statements it recognises as DML by their first word.
            sql = (
                "UPDATE message SET state = v.state, updated_at = ?, "
                f"accepted_at = coalesce(message.accepted_at, {_FIRST_EVENT_SQL.format(m='message')}), "
                "delivered_at = CASE WHEN v.state IN ('delivered', 'bounced') "
                f"THEN coalesce(message.delivered_at, {_FIRST_DELIVERY_SQL.format(m='message')}) "
                "ELSE message.delivered_at END "
                f"FROM (SELECT column1 AS id, column2 AS state, column3 AS rnk FROM (VALUES {values})) AS v "
                f"WHERE message.id = v.id AND {_CURRENT_RANK_SQL.format(m='message')} < v.rnk"
            )
            changed += conn.exec_driver_sql(sql, (updated_at, *params)).rowcount or 0
        return changed


class _PostgresEventSql:
    def begin_batch(self, conn: Connection) -> None:
        """Nothing to tune: commits are durable (synchronous_commit) and concurrent batches are fine."""

    _INSERT = (
        f"INSERT INTO email_event ({', '.join(_EVENT_COLUMNS)}) "
        "SELECT s, d, m, p, e, o, %s, 'sendgrid', h, j::jsonb "
        "FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::text[], %b::text[], %b::timestamptz[], "
        "%b::text[], %b::text[]) AS u(s, d, m, p, e, o, h, j) "
        "ON CONFLICT DO NOTHING RETURNING sg_event_id"
    )
    # NO KEY UPDATE, taken in id order before the UPDATE: concurrent batches touching overlapping messages
    # then queue instead of deadlocking, and the lock is compatible with the KEY SHARE locks that other
    # batches' event inserts take on the same rows through the foreign key.
    _LOCK = "SELECT id, state FROM message WHERE id = ANY(%b::bigint[]) ORDER BY id FOR NO KEY UPDATE"
    _UPDATE = (
        "UPDATE message AS m SET state = v.state, updated_at = %s, "
        f"accepted_at = coalesce(m.accepted_at, {_FIRST_EVENT_SQL.format(m='m')}), "
        "delivered_at = CASE WHEN v.state IN ('delivered', 'bounced') "
        f"THEN coalesce(m.delivered_at, {_FIRST_DELIVERY_SQL.format(m='m')}) ELSE m.delivered_at END "
        "FROM unnest(%b::bigint[], %b::text[], %b::int[]) AS v(id, state, rnk) "
        # The redundant `= ANY` lets the planner find the rows through the primary key; joining on the
        # unnest alone, it would rather scan the whole table for a few hundred ids.
        f"WHERE m.id = v.id AND m.id = ANY(%b::bigint[]) AND {_CURRENT_RANK_SQL.format(m='m')} < v.rnk"
    )

    def message_ids_by_public_id(self, conn: Connection, public_ids: Sequence[str]) -> dict[str, int]:
        if not public_ids:
            return {}
        sql = "SELECT public_id, id FROM message WHERE public_id = ANY(%b::text[])"
        return dict(conn.exec_driver_sql(sql, (list(public_ids),)).all())

    def insert_events(self, conn: Connection, rows: Sequence[EventRow], *, now: datetime) -> set[str]:
        if not rows:
            return set()
        columns = list(zip(*rows, strict=True))
        params = (now, *(list(c) for c in columns))
        return set(conn.exec_driver_sql(self._INSERT, params).scalars().all())

    def advance_states(self, conn: Connection, targets: Sequence[StateTarget], *, now: datetime) -> int:
        if not targets:
            return 0
        ordered = sorted(targets)
        current = dict(conn.exec_driver_sql(self._LOCK, ([t.message_id for t in ordered],)).all())
        # The rows are locked now, so their states cannot move under us: update only those that advance
        # (usually a small share of a batch), which keeps the UPDATE an index lookup per row. The UPDATE
        # repeats the rank test anyway, so it stays correct on its own.
        moving = [t for t in ordered
                  if t.message_id in current and _RANK_OF.get(current[t.message_id], 99) < t.rank]
        if not moving:
            return 0
        ids = [t.message_id for t in moving]
        params = (now, ids, [t.state for t in moving], [t.rank for t in moving], ids)
        return conn.exec_driver_sql(self._UPDATE, params).rowcount or 0


def _ensure_write_transaction(conn: Connection) -> None:
    """BEGIN IMMEDIATE unless a transaction is open already (Python's sqlite3 opens one on the first DML;
    its commit and rollback work on whichever transaction is open)."""
    if not conn.connection.driver_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _max_variables(conn: Connection) -> int:
    """Host parameters one SQLite statement may take (32,766 since 3.32; 999 before)."""
    driver = conn.connection.driver_connection
    getlimit = getattr(driver, "getlimit", None)  # Python 3.11+
    if getlimit is None:
        return 999
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


_SQLITE = _SqliteEventSql()
_POSTGRES = _PostgresEventSql()
