"""Overlapping ingests of one source: the second waits for the first (or gives up with a clear error),
and the database ends in exactly the state of one run. Threads and events, no sleeps."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, update

from junkan.ats.base import ApplicationRecord, BadRecord
from junkan.db.models import Application, DecisionLog
from junkan.db.models_ingest import IngestLock
from junkan.db.types import utcnow
from junkan.ingest import ingest
from junkan.ingest.service import IngestBusy
from tests.db_support import wipe
from tests.integration._ingest_support import RERUN_BOOKKEEPING, T0, FixedClock, ListAdapter, app, dump, rows

#: Generous bound for one thread to reach a point; only a broken build ever waits this long.
WAIT_S = 20


def _records(n: int = 25) -> list[ApplicationRecord | BadRecord]:
    records: list[ApplicationRecord | BadRecord] = [
        app(str(i), ("rejected", "in_process", "hired")[i % 3], at=T0 + timedelta(minutes=i),
            reason_external_id="r-skill" if i % 3 == 0 else None)
        for i in range(n)
    ]
    records.append(app("bad", "offer_extended"))  # an unknown status: cannot be stored
    return records


class GatedAdapter(ListAdapter):
    """Signals `entered` when its applications are first read, then waits for `gate` before yielding."""

    def __init__(self, *args: Any, gate: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered = threading.Event()
        self.gate = gate
        self.gate_opened: bool | None = None

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        self.entered.set()
        self.gate_opened = self.gate.wait(WAIT_S)
        yield from super().fetch_applications(since)


class _Signal(logging.Handler):
    """Sets `event` when the lock says a run is waiting for another one."""

    def __init__(self, event: threading.Event) -> None:
        super().__init__(logging.INFO)
        self.event = event

    def emit(self, record: logging.LogRecord) -> None:
        if "waiting" in record.getMessage():
            self.event.set()


@pytest.fixture
def waiting() -> Iterator[threading.Event]:
    event = threading.Event()
    logger = logging.getLogger("junkan.ingest.lock")
    handler, level = _Signal(event), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield event
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class _Run(threading.Thread):
    def __init__(self, engine: Engine, adapter: ListAdapter, **kwargs: Any) -> None:
        super().__init__(daemon=True)
        self.engine, self.adapter, self.kwargs = engine, adapter, kwargs
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = ingest(self.engine, self.adapter, clock=FixedClock(), batch_size=7, **self.kwargs)
        except BaseException as exc:
            self.error = exc

    def outcome(self) -> Any:
        self.join(WAIT_S * 3)
        assert not self.is_alive(), "the ingest run did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def test_two_overlapping_runs_end_in_exactly_the_state_of_one_run(
    engine: Engine, waiting: threading.Event
) -> None:
    ingest(engine, ListAdapter(_records()), clock=FixedClock(), batch_size=7)
    one_run = dump(engine, RERUN_BOOKKEEPING)
    wipe(engine)

    # The first run holds the source and is reading; it goes on only once the second one waits for it.
    first = _Run(engine, GatedAdapter(_records(), gate=waiting), full=True)
    first.start()
    assert first.adapter.entered.wait(WAIT_S)
    second = _Run(engine, ListAdapter(_records()), full=True)
    second.start()

    counts = sorted([first.outcome().as_dict(), second.outcome().as_dict()], key=lambda c: -c["new"])
    assert first.adapter.gate_opened, "the second run did not wait for the first"
    assert dump(engine, RERUN_BOOKKEEPING) == one_run
    assert (counts[0]["new"], counts[1]["new"], counts[1]["unchanged"]) == (25, 0, 25)
    assert len(rows(engine, DecisionLog)) == len(rows(engine, Application)) == 25


@contextmanager
def _reading_run(engine: Engine, n: int) -> Iterator[_Run]:
    """A run of n records that holds the source and is paused while reading, until the block ends."""
    gate = threading.Event()
    run = _Run(engine, GatedAdapter(_records(n), gate=gate))
    run.start()
    try:
        assert run.adapter.entered.wait(WAIT_S)
        yield run
    finally:
        gate.set()


def test_a_run_that_cannot_get_the_source_in_time_is_refused_and_writes_nothing(engine: Engine) -> None:
    with _reading_run(engine, 5) as first, pytest.raises(IngestBusy) as refused:
        ingest(engine, ListAdapter([app("other")]), clock=FixedClock(), lock_timeout_s=0.2)
    assert str(refused.value) == ("ingest of source 'test' is already running: gave up after waiting 0.2 s "
                                  "for it to finish (try again later)")
    assert first.outcome().new == 5
    assert "other" not in {a.external_id for a in rows(engine, Application)}
    # Once the first run is over, the source is free again.
    assert ingest(engine, ListAdapter([app("other")]), clock=FixedClock(), lock_timeout_s=0).new == 1


def test_other_sources_are_not_held_up(engine: Engine) -> None:
    with _reading_run(engine, 3) as first:
        other = ingest(engine, ListAdapter([app("x")], source="other"), clock=FixedClock(), lock_timeout_s=0)
    assert other.new == 1 and first.outcome().new == 3


# -- SQLite's lease ------------------------------------------------------------------------------------

def _hold(engine: Engine, holder: str, expires_at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(insert(IngestLock).values(source="test", holder=holder, acquired_at=T0,
                                               expires_at=expires_at))


@pytest.mark.sqlite_only
def test_a_lease_left_by_a_dead_run_is_taken_over_once_it_has_run_out(engine: Engine) -> None:
    _hold(engine, "dead-run", utcnow() - timedelta(seconds=1))
    assert ingest(engine, ListAdapter([app("1")]), clock=FixedClock(), lock_timeout_s=0).new == 1
    assert rows(engine, IngestLock) == []  # released at the end of the run


@pytest.mark.sqlite_only
def test_a_live_lease_is_respected(engine: Engine) -> None:
    _hold(engine, "running", utcnow() + timedelta(minutes=5))
    with pytest.raises(IngestBusy, match="already running"):
        ingest(engine, ListAdapter([app("1")]), clock=FixedClock(), lock_timeout_s=0)
    assert rows(engine, Application) == []


class _TakenOver(ListAdapter):
    """Another run takes the lock over (as after an expired lease) while this one starts reading."""

    def __init__(self, engine: Engine, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine = engine

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        with self.engine.begin() as conn:
            taken = update(IngestLock).where(IngestLock.source == self.source).values(holder="successor")
            conn.execute(taken)
        yield from super().fetch_applications(since)


@pytest.mark.sqlite_only
def test_a_run_that_lost_its_lease_commits_no_further_batch(engine: Engine) -> None:
    with pytest.raises(IngestBusy, match="lost its lock"):
        ingest(engine, _TakenOver(engine, [app("1"), app("2")]), clock=FixedClock(), batch_size=1)
    assert rows(engine, Application) == []
    assert [lock.holder for lock in rows(engine, IngestLock)] == ["successor"]  # the successor keeps it
