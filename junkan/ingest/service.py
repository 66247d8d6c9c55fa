"""`ingest()`: stream an adapter's applications into the database in bounded batches.

Watermark semantics: a source's watermark is the newest `updated_at` the source reported, and it moves
only forward, in the same transaction as the last batch of a run. A run reads from the watermark minus a
small overlap (late commits and clock skew in the ATS); a crash mid-run leaves the watermark where it
was, so the next run re-reads the whole window, which is safe because every write is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select

from junkan.ats.base import ApplicationRecord, AtsAdapter, BadRecord
from junkan.db.models import Quarantine, Watermark
from junkan.db.types import utcnow
from junkan.ingest.batch import BatchWriter, IngestCounts
from junkan.ingest.reasons import ReasonMapping, default_mapping
from junkan.ingest.reference import ReferenceData
from junkan.ingest.validate import Validator

log = logging.getLogger(__name__)

T = TypeVar("T")

W = Watermark.__table__
Q = Quarantine.__table__

#: Re-read this much before the watermark: an ATS may commit a change with a slightly older timestamp.
WATERMARK_OVERLAP = timedelta(minutes=10)
#: `as_of` days are calendar days in Japan, where the employer works.
BUSINESS_TZ = ZoneInfo("Asia/Tokyo")
DEFAULT_BATCH_SIZE = 1000

__all__ = ["IngestCounts", "ingest", "read_watermark", "window_start"]


def read_watermark(conn: Connection, source: str) -> datetime | None:
    return conn.execute(select(W.c.value).where(W.c.source == source)).scalar_one_or_none()


def window_start(watermark: datetime | None, as_of: date | None) -> datetime | None:
    """Where to start reading. No watermark: everything. `as_of` can only move the start back, so an
    analyst can re-ingest from a past day; it never narrows a first full load."""
    if watermark is None:
        return None
    since = watermark - WATERMARK_OVERLAP
    if as_of is not None:
        day_start = datetime.combine(as_of, time.min, tzinfo=BUSINESS_TZ).astimezone(UTC)
        since = min(since, day_start)
    return since


def _batches(items: Iterable[T], size: int) -> Iterator[tuple[list[T], bool]]:
    """Batches of `size`, each with `is_last`, reading one batch ahead so the last one is known."""
    iterator = iter(items)
    current = list(islice(iterator, size))
    while current:
        following = list(islice(iterator, size))
        yield current, not following
        current = following


def _advance_watermark(conn: Connection, source: str, value: datetime, now: datetime) -> None:
    stored = read_watermark(conn, source)
    if stored is None:
        conn.execute(W.insert().values(source=source, value=value, updated_at=now))
    elif value > stored:
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
) -> IngestCounts:
    """Ingest the source's applications changed since its watermark; returns counts only.

    `full=True` ignores the watermark and reads everything (still idempotent). The adapter is not
    closed here: whoever built it owns it.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    source = source or adapter.source
    reference = ReferenceData(source, mapping or default_mapping(), clock)
    with engine.begin() as conn:
        reference.sync(conn, adapter)
        watermark = read_watermark(conn, source)
        open_quarantine = set(conn.execute(
            select(Q.c.external_id).where(Q.c.source == source, Q.c.record_type == "application",
                                          Q.c.resolved_at.is_(None), Q.c.external_id.is_not(None))
        ).scalars())
    since = None if full else window_start(watermark, as_of)
    log.info("ingest %s: reading applications %s", source,
             f"updated since {since.isoformat()}" if since else "(full load)")

    writer = BatchWriter(source=source, run_id=run_id, reference=reference, clock=clock,
                         open_quarantine=open_quarantine)
    validator = Validator(phone_region=phone_region)
    counts = IngestCounts()
    newest: datetime | None = None
    records: Iterable[ApplicationRecord | BadRecord] = adapter.fetch_applications(since)
    for number, (batch, is_last) in enumerate(_batches(records, batch_size), start=1):
        result = validator.validate(batch)
        for stamp in [v.updated_at for v in result.valid] + [q.updated_at for q in result.quarantined]:
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
        with engine.begin() as conn:
            counts.add(writer.write(conn, result))
            if is_last and newest is not None:
                _advance_watermark(conn, source, newest, clock())
        log.debug("ingest %s: batch %d committed (%d records)", source, number, len(batch))
    log.info("ingest %s: %s", source, counts.as_dict())
    return counts
