"""One ingest run per source at a time, whoever starts it (a flow, the CLI, a second worker).

Two overlapping runs of one source would each find the other's new applications missing and write
them, and their decision log entries, twice. Prefect's concurrency limit is not enough: the library
serialises runs itself, and a second run waits for the first, then fails with `IngestBusy` once its
timeout has passed.

- PostgreSQL: a session advisory lock on a hash of the source, held by a dedicated connection in
  autocommit mode for the whole run (no transaction stays open). The server releases it when that
  connection ends, so a killed run never blocks the next one.
- SQLite: a row in `ingest_lock` with a lease. The run renews the lease in every batch transaction
  and refuses to commit a batch once another run has taken over an expired lease, so even a stalled
  holder cannot write alongside its successor. A run that died leaves its row behind until the lease
  ends.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError

from junkan.backoff import jittered_backoff
from junkan.db.dialect import conflict_insert
from junkan.db.models_ingest import IngestLock
from junkan.db.types import utcnow

log = logging.getLogger(__name__)

L = IngestLock.__table__

#: How long a second run waits for the first before giving up.
DEFAULT_LOCK_TIMEOUT_S = 600.0
#: SQLite: how long a run's lock outlives its last renewal (one batch is written in seconds).
DEFAULT_LEASE = timedelta(minutes=10)
_POLL_BASE_S = 0.05
_POLL_MAX_S = 1.0
_LOCK_NOT_AVAILABLE = "55P03"


class IngestBusy(RuntimeError):
    """Another ingest of the same source holds its lock; the message names the source, never data."""


class SourceLock(Protocol):
    def renew(self, conn: Connection) -> None:
        """Called in every write transaction of the run; raises IngestBusy if the lock was lost."""


def _advisory_key(source: str) -> int:
    # Not the key of the per-batch transaction lock (batch.py), which the run's own batches take.
    digest = hashlib.sha256(f"junkan.ingest-run:{source}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _busy(source: str, timeout_s: float) -> IngestBusy:
    return IngestBusy(f"ingest of source {source!r} is already running: gave up after waiting "
                      f"{timeout_s:g} s for it to finish (try again later)")


@contextmanager
def source_lock(engine: Engine, source: str, *, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
                lease: timedelta = DEFAULT_LEASE) -> Iterator[SourceLock]:
    """Hold the source's ingest lock for the block, waiting up to `timeout_s` for another run."""
    if timeout_s < 0:
        raise ValueError("the lock timeout must not be negative")
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, source, timeout_s) as held:
            yield held
    else:
        with _lease_lock(engine, source, timeout_s, lease) as held:
            yield held


class _Held:
    """PostgreSQL: the session lock cannot be lost while its connection lives; nothing to renew."""

    def renew(self, conn: Connection) -> None:
        return None


@contextmanager
def _advisory_lock(engine: Engine, source: str, timeout_s: float) -> Iterator[SourceLock]:
    key = _advisory_key(source)
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
            if timeout_s == 0:  # lock_timeout = 0 would mean "wait for ever"
                raise _busy(source, timeout_s)
            log.info("ingest %s: waiting up to %g s for the running ingest of this source", source, timeout_s)
            conn.execute(text(f"SET lock_timeout = {max(1, round(timeout_s * 1000))}"))
            try:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                    raise _busy(source, timeout_s) from None
                raise
            finally:
                conn.execute(text("RESET lock_timeout"))
    except BaseException:
        conn.close()
        raise
    try:
        yield _Held()
    finally:
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        except BaseException:
            # Never hand a connection that may still hold the lock back to the pool.
            conn.invalidate()
            raise
        finally:
            conn.close()


class _Lease:
    def __init__(self, engine: Engine, source: str, lease: timedelta) -> None:
        self.engine = engine
        self.source = source
        self.lease = lease
        self.holder = uuid.uuid4().hex

    def try_take(self) -> datetime | None:
        """Take the lock if it is free or its lease has run out; else the current lease's end."""
        now = utcnow()  # wall clock: leases are about real time, whatever clock the run is given
        with self.engine.begin() as conn:
            stmt = conflict_insert(conn, L).values(source=self.source, holder=self.holder, acquired_at=now,
                                                  expires_at=now + self.lease)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["source"],
                set_={"holder": self.holder, "acquired_at": now, "expires_at": now + self.lease},
                where=L.c.expires_at < now,
            ))
            holder, expires_at = conn.execute(
                select(L.c.holder, L.c.expires_at).where(L.c.source == self.source)).one()
        return None if holder == self.holder else expires_at

    def renew(self, conn: Connection) -> None:
        renewed = conn.execute(
            update(L).where(L.c.source == self.source, L.c.holder == self.holder)
            .values(expires_at=utcnow() + self.lease)
        ).rowcount
        if not renewed:
            raise IngestBusy(f"ingest of source {self.source!r} lost its lock: its lease ran out and "
                             "another run took over; this run stops (its committed batches are kept)")

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(L).where(L.c.source == self.source, L.c.holder == self.holder))


@contextmanager
def _lease_lock(engine: Engine, source: str, timeout_s: float, lease: timedelta) -> Iterator[SourceLock]:
    held = _Lease(engine, source, lease)
    deadline = time.monotonic() + timeout_s
    attempt = 0
    while (expires_at := held.try_take()) is not None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _busy(source, timeout_s)
        if attempt == 0:
            log.info("ingest %s: waiting up to %g s for the running ingest of this source (its lease "
                     "ends %s)", source, timeout_s, expires_at.isoformat())
        attempt += 1
        time.sleep(min(remaining, jittered_backoff(attempt, _POLL_BASE_S, _POLL_MAX_S)))
    try:
        yield held
    finally:
        held.release()
