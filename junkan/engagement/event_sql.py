"""The webhook's hot statements, written per dialect and run at the driver level.

A webhook batch is a thousand rows. Through the ORM or Core with typed columns, every row paid for bind
processing (two datetimes and a JSON document) and every IN list was re-rendered per call; that was most
of the per-event cost. Here each step is one statement whose parameters the driver takes as they are:

- SQLite: `executemany` of one prepared INSERT, JSON as text, all inside one `BEGIN IMMEDIATE` write
  transaction. Times are converted once per value by the columns' own type (UtcDateTime's bind
  processor, SQLAlchemy's public type API), so they are stored exactly as the ORM stores them.
- PostgreSQL: one binary array parameter per column and `unnest`, so a batch is one round trip whatever
  its size, `INSERT … ON CONFLICT DO NOTHING RETURNING`.

Either unique key (`sg_event_id`, `dedup_key`) settles a duplicate, also between concurrent batches.
Message states: the batch's messages are read once (on PostgreSQL locked, in id order), and one
`UPDATE … FROM` moves those that advance. Tests run the same scenarios on both dialects.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection

from junkan.db.types import UtcDateTime

T = TypeVar("T")

#: States an event may move a message out of, ranked; anything else (sending, bounced, failed, cancelled,
#: pending …) is never moved.
_RANK_OF = {"unknown": 0, "accepted": 1, "delivered": 2}
_CURRENT_RANK_SQL = ("CASE {m}.state WHEN 'unknown' THEN 0 WHEN 'accepted' THEN 1 "
                     "WHEN 'delivered' THEN 2 ELSE 99 END")
#: States that have a delivery time to fill.
_DELIVERY_STATES = frozenset({"delivered", "bounced"})
# Times come from the stored events, and only fill a column that is still empty. The correlated
# subqueries run only for those rows (COALESCE stops at the first non-null on both dialects).
_FIRST_EVENT_SQL = "(SELECT min(e.occurred_at) FROM email_event e WHERE e.message_id = {m}.id)"
_FIRST_DELIVERY_SQL = ("(SELECT min(e.occurred_at) FROM email_event e "
                       "WHERE e.message_id = {m}.id AND e.event = 'delivered')")
_ADVANCE_SET_SQL = (
    "state = v.state, updated_at = {p}, "
    f"accepted_at = coalesce({{m}}.accepted_at, {_FIRST_EVENT_SQL}), "
    "delivered_at = CASE WHEN v.state IN ('delivered', 'bounced') "
    f"THEN coalesce({{m}}.delivered_at, {_FIRST_DELIVERY_SQL}) ELSE {{m}}.delivered_at END"
)
# For a message that an `open` or a bounce moved before its `delivered` event arrived. The caller picked
# the rows by state under its lock; a state condition here would tempt PostgreSQL's planner into the
# state index (a scan of every delivered message) instead of the primary key.
_FILL_DELIVERY_SQL = (
    f"UPDATE message SET delivered_at = {_FIRST_DELIVERY_SQL.format(m='message')}, updated_at = {{p}} "
    "WHERE id {ids} AND delivered_at IS NULL"
)

_SQLITE_BATCH_PRAGMAS = (
    "PRAGMA synchronous=FULL",
    "PRAGMA cache_size=-65536",  # KiB: 64 MiB at most, allocated only as pages are touched
    "PRAGMA wal_autocheckpoint=16384",  # pages (64 MiB of WAL): a safety net, see junkan.web.checkpoint
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


class EventSql(ABC):
    """The dialect-independent part; subclasses supply the statements."""

    def begin_batch(self, conn: Connection) -> None:  # noqa: B027 (optional hook; PostgreSQL needs none)
        """Connection settings for a webhook write; call before the batch's first statement."""

    @abstractmethod
    def message_ids_by_public_id(self, conn: Connection, public_ids: Sequence[str]) -> dict[str, int]:
        ...

    @abstractmethod
    def insert_events(self, conn: Connection, rows: Sequence[EventRow], *, now: datetime) -> set[str]:
        """Insert, skipping duplicates on either unique key; returns the `sg_event_id`s actually stored."""
        ...

    def advance_states(self, conn: Connection, targets: Sequence[StateTarget], *, now: datetime,
                       delivered: Collection[int] = ()) -> int:
        """Move messages up to their target state, never backwards; returns how many moved.

        `delivered`: messages with a stored `delivered` event. One that an `open` or a bounce moved
        before that event arrived has no state left to change, but gains its missing delivery time.
        """
        if not targets:
            return 0
        ordered = sorted(targets)
        current = self._read_states(conn, [t.message_id for t in ordered])
        # Under the write lock (SQLite) or the row locks (PostgreSQL) these states cannot change before
        # our UPDATE, so only messages that advance are written: usually a small share of a batch. The
        # UPDATE repeats the rank test anyway, so it is right on its own.
        moving = [t for t in ordered
                  if t.message_id in current and _RANK_OF.get(current[t.message_id][0], 99) < t.rank]
        moved = {t.message_id for t in moving}
        fill = sorted(mid for mid in delivered
                      if mid not in moved and mid in current
                      and current[mid][0] in _DELIVERY_STATES and current[mid][1])
        changed = self._advance(conn, moving, now) if moving else 0
        if fill:
            self._fill_delivery_times(conn, fill, now)
        return changed

    @abstractmethod
    def _read_states(self, conn: Connection, ids: list[int]) -> dict[int, tuple[str, bool]]:
        """id → (state, delivered_at is empty) for the ids given (sorted)."""
        ...

    @abstractmethod
    def _advance(self, conn: Connection, moving: list[StateTarget], now: datetime) -> int:
        ...

    @abstractmethod
    def _fill_delivery_times(self, conn: Connection, ids: list[int], now: datetime) -> None:
        ...


def event_sql(conn: Connection) -> EventSql:
    name = conn.dialect.name
    if name == "sqlite":
        return _SQLITE
    if name == "postgresql":
        return _POSTGRES
    raise ValueError(f"unsupported database dialect {name!r}: Junkan runs on SQLite or PostgreSQL")


def _stored_time(conn: Connection) -> Callable[[datetime], Any]:
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


class _SqliteEventSql(EventSql):
    # Driver level, not Core: Core's per-row parameter processing doubled the cost of a thousand-row
    # insert (measured with bench/webhook.py). Times still go through the column type (`_stored_time`).
    _INSERT = (f"INSERT INTO email_event ({', '.join(_EVENT_COLUMNS)}) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, 'sendgrid', ?, ?) ON CONFLICT DO NOTHING")

    def begin_batch(self, conn: Connection) -> None:
        """- synchronous=FULL: the WAL is synced at commit, so an event acknowledged with 2xx survives a
          power cut too, not only a crash of the process (NORMAL, the engine default, would not).
        - a page cache that holds a whole batch: its random-key index inserts otherwise spill dirty
          pages to the WAL in the middle of the transaction and read them back.
        - automatic checkpoints only as a safety net: the web app checkpoints after answering, so the
          copy back into the database file is not on any request's path.
        - the write lock up front: the whole batch (message lookup included) sees one state of the
          database, and a writer in another process makes us wait (busy_timeout), not fail later.
        """
        for pragma in _SQLITE_BATCH_PRAGMAS:
            conn.exec_driver_sql(pragma)
        _ensure_write_transaction(conn)

    def message_ids_by_public_id(self, conn: Connection, public_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in _parts(conn, public_ids):
            sql = f"SELECT public_id, id FROM message WHERE public_id IN ({', '.join('?' * len(part))})"
            found.update(conn.exec_driver_sql(sql, tuple(part)).all())
        return found

    def insert_events(self, conn: Connection, rows: Sequence[EventRow], *, now: datetime) -> set[str]:
        if not rows:
            return set()
        # Which rows were new, without RETURNING (which costs a quarter of the insert): ids are rowids,
        # allocated above the current maximum, and inside one write transaction nobody else inserts. So
        # the new rows are exactly those above the maximum read first in this transaction.
        _ensure_write_transaction(conn)
        before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM email_event").scalar_one()
        stored_time = _stored_time(conn)
        received = stored_time(now)
        conn.exec_driver_sql(self._INSERT, [
            (r.sg_event_id, r.dedup_key, r.message_id, r.provider_message_id, r.event,
             stored_time(r.occurred_at), received, r.email_hash, r.payload_json)
            for r in rows
        ])
        return set(conn.exec_driver_sql("SELECT sg_event_id FROM email_event WHERE id > ?", (before,))
                   .scalars().all())

    def _read_states(self, conn: Connection, ids: list[int]) -> dict[int, tuple[str, bool]]:
        _ensure_write_transaction(conn)  # read and update in one transaction, under the write lock
        current: dict[int, tuple[str, bool]] = {}
        for part in _parts(conn, ids):
            sql = (f"SELECT id, state, delivered_at IS NULL FROM message "
                   f"WHERE id IN ({', '.join('?' * len(part))})")
            current.update((mid, (state, bool(empty))) for mid, state, empty
                           in conn.exec_driver_sql(sql, tuple(part)))
        return current

    def _advance(self, conn: Connection, moving: list[StateTarget], now: datetime) -> int:
        changed = 0
        stamp = _stored_time(conn)(now)
        for part in _parts(conn, moving, per_item=3, reserved=1):
            params: list[Any] = [stamp]
            for t in part:
                params += t
            values = ", ".join(["(?, ?, ?)"] * len(part))
            # The statement must start with UPDATE (not WITH): Python's sqlite3 opens its implicit
            # transaction, and reports rowcount, only for statements it recognises as DML by their first word.
            sql = (f"UPDATE message SET {_ADVANCE_SET_SQL.format(m='message', p='?')} "
                   "FROM (SELECT column1 AS id, column2 AS state, column3 AS rnk "
                   f"FROM (VALUES {values})) AS v "
                   f"WHERE message.id = v.id AND {_CURRENT_RANK_SQL.format(m='message')} < v.rnk")
            changed += conn.exec_driver_sql(sql, tuple(params)).rowcount or 0
        return changed

    def _fill_delivery_times(self, conn: Connection, ids: list[int], now: datetime) -> None:
        stamp = _stored_time(conn)(now)
        for part in _parts(conn, ids, reserved=1):
            sql = _FILL_DELIVERY_SQL.format(p="?", ids=f"IN ({', '.join('?' * len(part))})")
            conn.exec_driver_sql(sql, (stamp, *part))


class _PostgresEventSql(EventSql):
    # Arrays go as binary parameters (%b): psycopg's text array format escapes every element with a
    # regular expression, which cost more than everything else in the request.
    _INSERT = (
        f"INSERT INTO email_event ({', '.join(_EVENT_COLUMNS)}) "
        "SELECT s, d, m, p, e, o, %s, 'sendgrid', h, j::jsonb "
        "FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::text[], %b::text[], %b::timestamptz[], "
        "%b::text[], %b::text[]) AS u(s, d, m, p, e, o, h, j) "
        "ON CONFLICT DO NOTHING RETURNING sg_event_id"
    )
    # NO KEY UPDATE, in id order: concurrent batches touching the same messages queue instead of
    # deadlocking, and the lock is compatible with the KEY SHARE locks that other batches' event inserts
    # take on the same rows through the foreign key.
    _LOCK = ("SELECT id, state, delivered_at IS NULL FROM message WHERE id = ANY(%b::bigint[]) "
             "ORDER BY id FOR NO KEY UPDATE")
    _ADVANCE = (
        f"UPDATE message AS m SET {_ADVANCE_SET_SQL.format(m='m', p='%s')} "
        "FROM unnest(%b::bigint[], %b::text[], %b::int[]) AS v(id, state, rnk) "
        # The redundant `= ANY` lets the planner reach the rows through the primary key; joining on the
        # unnest alone, it would rather scan the whole table for a few hundred ids.
        f"WHERE m.id = v.id AND m.id = ANY(%b::bigint[]) AND {_CURRENT_RANK_SQL.format(m='m')} < v.rnk"
    )
    _FILL = _FILL_DELIVERY_SQL.format(p="%s", ids="= ANY(%b::bigint[])")

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

    def _read_states(self, conn: Connection, ids: list[int]) -> dict[int, tuple[str, bool]]:
        return {mid: (state, empty) for mid, state, empty in conn.exec_driver_sql(self._LOCK, (ids,))}

    def _advance(self, conn: Connection, moving: list[StateTarget], now: datetime) -> int:
        ids = [t.message_id for t in moving]
        params = (now, ids, [t.state for t in moving], [t.rank for t in moving], ids)
        return conn.exec_driver_sql(self._ADVANCE, params).rowcount or 0

    def _fill_delivery_times(self, conn: Connection, ids: list[int], now: datetime) -> None:
        conn.exec_driver_sql(self._FILL, (now, ids))  # rows locked by _read_states, in id order


def _ensure_write_transaction(conn: Connection) -> None:
    """BEGIN IMMEDIATE unless a transaction is open already (Python's sqlite3 opens one on the first DML;
    its commit and rollback work on whichever transaction is open)."""
    driver = conn.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _parts(conn: Connection, items: Sequence[T], *, per_item: int = 1,
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


_SQLITE = _SqliteEventSql()
_POSTGRES = _PostgresEventSql()
