"""`ingest()`: stream an adapter's applications into the database in bounded batches.

Watermark semantics: a source's watermark is the newest `updated_at` the source reported, and it moves
only forward, in the same transaction as the last batch of a run. A run reads from the watermark minus a
small overlap (late commits and clock skew in the ATS); a crash mid-run leaves the watermark where it
was, so the next run re-reads the whole window, which is safe because every write is idempotent.
The watermark never passes the run's own clock: a record dated in the future (quarantined as
implausible) or an ATS clock running ahead would otherwise make every later run skip new changes. A
stored watermark beyond the clock plus the plausibility skew (left by an older version) is not
trusted: that run reads everything and sets the watermark anew.

Runs of one source are serialised (junkan.ingest.lock): a second run waits for the first, and fails
with `IngestBusy` after `lock_timeout_s`.

Reading and writing overlap: a background thread pulls the adapter's records and validates them a
bounded number of batches ahead (memory stays flat), while this thread writes; the database does its
share of the work while the reader parses. The writer still looks one batch ahead before it writes,
so a source that fails mid-stream leaves the same committed batches as a strictly sequential run.

Adapters whose jobs and reasons are read from the application rows themselves (spreadsheets:
`reference_from_applications = True`) get their reference data synced after the applications, from
the same pass over the file, in the transaction of the last batch. Until then a job or reason the run
has not stored yet is created as a placeholder by the batch that needs it; the sync completes it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import islice

from sqlalchemy import Connection, Engine, select

from junkan.ats.base import ApplicationRecord, AtsAdapter, BadRecord
from junkan.config import ConsentSettings
from junkan.db.models import Quarantine, Watermark
from junkan.db.types import utcnow
from junkan.ingest.batch import BatchWriter, IngestCounts
from junkan.ingest.lock import DEFAULT_LOCK_TIMEOUT_S, IngestBusy, SourceLock, source_lock
from junkan.ingest.pgcopy import without_prepared_statements
from junkan.ingest.reasons import ReasonMapping, default_mapping
from junkan.ingest.reference import ReferenceData
from junkan.ingest.validate import ADDRESS_REVIEW, BatchResult, Validator
from junkan.plausibility import DEFAULT_FUTURE_SKEW, DateBounds, zone

log = logging.getLogger(__name__)

W = Watermark.__table__
Q = Quarantine.__table__

#: Re-read this much before the watermark: an ATS may commit a change with a slightly older timestamp.
WATERMARK_OVERLAP = timedelta(minutes=10)
DEFAULT_BATCH_SIZE = 5000
#: Validated batches the reader may hold ready beyond the two the writer holds (current and next).
READ_AHEAD = 1

__all__ = ["IngestBusy", "IngestCounts", "ingest", "read_watermark", "window_start"]


def read_watermark(conn: Connection, source: str) -> datetime | None:
    return conn.execute(select(W.c.value).where(W.c.source == source)).scalar_one_or_none()


def window_start(watermark: datetime | None, as_of: date | None,
                 timezone: str | tzinfo | None = None) -> datetime | None:
    """Where to start reading. No watermark: everything. `as_of` can only move the start back, so an
    analyst can re-ingest from a past day (a calendar day in `timezone`, the employer's); it never
    narrows a first full load."""
    if watermark is None:
        return None
    since = watermark - WATERMARK_OVERLAP
    if as_of is not None:
        day_start = datetime.combine(as_of, time.min, tzinfo=zone(timezone)).astimezone(UTC)
        since = min(since, day_start)
    return since


@dataclass(slots=True)
class _Batch:
    result: BatchResult
    size: int
    #: Newest plausible `updated_at` among the batch's records (valid or quarantined), for the watermark.
    newest: datetime | None


@dataclass(slots=True)
class _Failed:
    error: BaseException


_END = object()


class _Reader:
    """Pulls records from the adapter and validates them in batches on a background thread.

    At most READ_AHEAD batches wait in the queue, so memory stays bounded however large the source.
    An exception of the adapter is handed to the writer as it is (its type decides about retries).
    """

    def __init__(self, records: Iterable[ApplicationRecord | BadRecord], validator: Validator,
                 batch_size: int) -> None:
        self._records = records
        self._validator = validator
        self._batch_size = batch_size
        self._queue: queue.Queue[object] = queue.Queue(maxsize=READ_AHEAD)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._run, name="junkan-ingest-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        records = self._records
        try:
            iterator = iter(records)
            while not self._stop.is_set():
                chunk = list(islice(iterator, self._batch_size))
                if not chunk:
                    break
                result = self._validator.validate(chunk)
                newest = None
                latest = self._validator.dates.latest
                stamps = [v.updated_at for v in result.valid] + [q.updated_at for q in result.quarantined]
                for stamp in stamps:
                    # An implausible (future) stamp was quarantined; it says nothing about the source.
                    if stamp is not None and (newest is None or stamp > newest) and stamp <= latest:
                        newest = stamp
                self._queue.put(_Batch(result, len(chunk), newest))
            self._queue.put(_END)
        except BaseException as exc:  # handed over to the writer, which re-raises it
            self._queue.put(_Failed(exc))
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()  # an adapter generator stopped early releases its file or connection

    def next(self) -> _Batch | None:
        """The next validated batch, None at the end; re-raises what the adapter raised."""
        item = self._queue.get()
        if item is _END:
            self._finished = True
            return None
        if isinstance(item, _Failed):
            self._finished = True
            raise item.error
        assert isinstance(item, _Batch)
        return item

    def close(self) -> None:
        """Stop reading (the writer is done or failed) and wait for the thread to end."""
        self._stop.set()
        while not self._finished:
            # Taking items frees the reader if it waits on a full queue; it then sees the stop flag.
            item = self._queue.get()
            self._finished = item is _END or isinstance(item, _Failed)
        self._thread.join()


def _open_entries(conn: Connection, source: str, record_type: str) -> set[str]:
    """External ids of the source's unresolved quarantine (or review) entries of `record_type`."""
    return set(conn.execute(
        select(Q.c.external_id).where(Q.c.source == source, Q.c.record_type == record_type,
                                      Q.c.resolved_at.is_(None), Q.c.external_id.is_not(None))
    ).scalars())


def _settle_watermark(conn: Connection, source: str, newest: datetime | None, started: datetime,
                      now: datetime, *, untrusted: bool) -> None:
    """Move the watermark forward to the newest update seen, never past the run's start (what lies
    beyond was not necessarily read). An untrusted watermark is replaced, or removed when the run saw
    no dated record."""
    if newest is None:
        if untrusted:
            conn.execute(W.delete().where(W.c.source == source))
        return
    value = min(newest, started)
    stored = read_watermark(conn, source)
    if stored is None:
        conn.execute(W.insert().values(source=source, value=value, updated_at=now))
    elif value > stored or (untrusted and value != stored):
        conn.execute(W.update().where(W.c.source == source).values(value=value, updated_at=now))


def ingest(
    engine: Engine,
    adapter: AtsAdapter,
    *,
    source: str | None = None,
    as_of: date | None = None,
    run_id: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    mapping: ReasonMapping | None = None,
    phone_region: str = "JP",
    full: bool = False,
    clock: Callable[[], datetime] = utcnow,
    timezone: str | tzinfo | None = None,
    future_skew: timedelta = DEFAULT_FUTURE_SKEW,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    consent: ConsentSettings | None = None,
    hash_key: bytes | None = None,
) -> IngestCounts:
    """Ingest the source's applications changed since its watermark; returns counts only.

    `full=True` ignores the watermark and reads everything (still idempotent). `timezone` is the
    employer's (setting `business.timezone`): `as_of` days and the 1990 plausibility bound are its
    calendar days. Dates later than the run's clock plus `future_skew` are implausible. Consent records
    expire as `consent` (setting `consent`, its defaults when None) says. A run waits up to
    `lock_timeout_s` for another run of the same source, then raises IngestBusy. Records of erased or
    anonymised people are skipped and counted as `erased`; `hash_key` (`retention.hash_key`) lets the
    erasure tombstones' address hashes match too. The adapter is not closed here: whoever built it owns it.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    source = source or adapter.source
    business_zone = zone(timezone)
    with source_lock(engine, source, timeout_s=lock_timeout_s) as lock:
        return _ingest_locked(
            engine, adapter, lock, source=source, as_of=as_of, run_id=run_id, batch_size=batch_size,
            mapping=mapping, phone_region=phone_region, full=full, clock=clock, business_zone=business_zone,
            future_skew=future_skew, consent=consent or ConsentSettings(), hash_key=hash_key,
        )


def _ingest_locked(
    engine: Engine, adapter: AtsAdapter, lock: SourceLock, *, source: str, as_of: date | None,
    run_id: str | None, batch_size: int, mapping: ReasonMapping | None, phone_region: str, full: bool,
    clock: Callable[[], datetime], business_zone: tzinfo, future_skew: timedelta, consent: ConsentSettings,
    hash_key: bytes | None,
) -> IngestCounts:
    started = clock()
    dates = DateBounds.around(started, business_zone, future_skew)
    reference = ReferenceData(source, mapping or default_mapping(), clock)
    reference_after = bool(getattr(adapter, "reference_from_applications", False))
    counts = IngestCounts()
    with engine.begin() as conn, without_prepared_statements(conn):
        lock.renew(conn)
        if reference_after:
            reference.load(conn)
        else:
            counts.reference_quarantined += reference.sync(conn, adapter).quarantined
        watermark = read_watermark(conn, source)
        open_quarantine = _open_entries(conn, source, "application")
        open_review = _open_entries(conn, source, ADDRESS_REVIEW)
    untrusted = watermark is not None and watermark > dates.latest
    if untrusted:
        log.warning("ingest %s: the stored watermark lies in the future; reading everything and setting "
                    "it anew", source)
    since = None if full or untrusted else window_start(watermark, as_of, business_zone)
    log.info("ingest %s: reading applications %s", source,
             f"updated since {since.isoformat()}" if since else "(full load)")

    writer = BatchWriter(source=source, run_id=run_id, reference=reference, clock=clock,
                         open_quarantine=open_quarantine, open_review=open_review, consent=consent,
                         hash_key=hash_key)
    newest: datetime | None = None
    validator = Validator(phone_region=phone_region, dates=dates)
    reader = _Reader(adapter.fetch_applications(since), validator, batch_size)
    try:
        current = reader.next()
        number = 0
        while current is not None:
            # Read ahead before writing, so the last batch (watermark, reference sync) is known.
            following = reader.next()
            number += 1
            if current.newest is not None and (newest is None or current.newest > newest):
                newest = current.newest
            with engine.begin() as conn, without_prepared_statements(conn):
                lock.renew(conn)
                counts.add(writer.write(conn, current.result))
                if following is None:
                    if reference_after:
                        counts.reference_quarantined += reference.sync(conn, adapter).quarantined
                    _settle_watermark(conn, source, newest, started, clock(), untrusted=untrusted)
            log.debug("ingest %s: batch %d committed (%d records)", source, number, current.size)
            current = following
        if number == 0 and (reference_after or untrusted):
            with engine.begin() as conn, without_prepared_statements(conn):
                lock.renew(conn)
                if reference_after:
                    counts.reference_quarantined += reference.sync(conn, adapter).quarantined
                _settle_watermark(conn, source, None, started, clock(), untrusted=untrusted)
    finally:
        reader.close()
    log.info("ingest %s: %s", source, counts.as_dict())
    return counts
