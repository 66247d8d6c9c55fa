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
The message states the events advance are the outbox's to write (junkan/outbox/delivery.py). Tests run
the same scenarios on both dialects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, TypeVar

from sqlalchemy import Connection

from junkan.db.driver_sql import by_dialect, ensure_write_transaction, parts, stored_time

T = TypeVar("T")

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


def event_sql(conn: Connection) -> EventSql:
    return by_dialect(conn, sqlite=_SQLITE, postgresql=_POSTGRES)


class _SqliteEventSql(EventSql):
    # Driver level, not Core: Core's per-row parameter processing doubled the cost of a thousand-row
    # insert (measured with bench/webhook.py). Times still go through the column type (`stored_time`).
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
        ensure_write_transaction(conn)

    def message_ids_by_public_id(self, conn: Connection, public_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in parts(conn, public_ids):
            sql = f"SELECT public_id, id FROM message WHERE public_id IN ({', '.join('?' * len(part))})"
            found.update(conn.exec_driver_sql(sql, tuple(part)).all())
        return found

    def insert_events(self, conn: Connection, rows: Sequence[EventRow], *, now: datetime) -> set[str]:
        if not rows:
            return set()
        # Which rows were new, without RETURNING (which costs a quarter of the insert): ids are rowids,
        # allocated above the current maximum, and inside one write transaction nobody else inserts. So
        # the new rows are exactly those above the maximum read first in this transaction.
        ensure_write_transaction(conn)
        before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM email_event").scalar_one()
        as_stored = stored_time(conn)
        received = as_stored(now)
        conn.exec_driver_sql(self._INSERT, [
            (r.sg_event_id, r.dedup_key, r.message_id, r.provider_message_id, r.event,
             as_stored(r.occurred_at), received, r.email_hash, r.payload_json)
            for r in rows
        ])
        return set(conn.exec_driver_sql("SELECT sg_event_id FROM email_event WHERE id > ?", (before,))
                   .scalars().all())


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


_SQLITE = _SqliteEventSql()
_POSTGRES = _PostgresEventSql()
