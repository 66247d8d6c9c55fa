"""Implausible dates are quarantined, whatever the adapter, and the watermark never passes the run's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, insert, select

from junkan.ats.greenhouse import GreenhouseAdapter
from junkan.ats.lever import LeverAdapter
from junkan.db.models import Application, Quarantine, Watermark
from junkan.ingest import ingest
from junkan.ingest.service import WATERMARK_OVERLAP, window_start
from tests.fakes._common import FakeClock, client_for
from tests.fakes.greenhouse import GreenhouseFake
from tests.fakes.greenhouse import sample_data as greenhouse_data
from tests.fakes.lever import LeverFake, ms
from tests.fakes.lever import sample_data as lever_data
from tests.integration._ingest_support import T0, FixedClock, ListAdapter, app, rows

FUTURE = "implausible date in field {}: in the future (later than the run's clock plus 1 day)"


def _watermark(engine: Engine, source: str = "test") -> datetime | None:
    with engine.connect() as conn:
        return conn.execute(select(Watermark.value).where(Watermark.source == source)).scalar_one_or_none()


def _reasons(engine: Engine) -> dict[str | None, str]:
    return {q.external_id: q.reason for q in rows(engine, Quarantine)}


def test_a_record_updated_in_9999_is_quarantined_and_later_runs_see_new_decisions(engine: Engine) -> None:
    clock = FixedClock()  # 2026-11-05
    far = datetime(9999, 12, 31, tzinfo=UTC)
    adapter = ListAdapter([app("1"), app("2", at=far, applied_at=T0, decided_at=T0)])

    first = ingest(engine, adapter, clock=clock)

    assert (first.new, first.quarantined) == (1, 1)
    assert _reasons(engine) == {"2": FUTURE.format("updated_at")}
    assert _watermark(engine) == T0  # the newest plausible update, not 9999

    clock.advance(days=1)
    adapter.applications.append(app("3", at=T0 + timedelta(days=1)))
    second = ingest(engine, adapter, clock=clock)
    assert second.new == 1
    assert {a.external_id for a in rows(engine, Application)} == {"1", "3"}


def test_the_watermark_stops_at_the_runs_clock_even_for_a_record_within_the_skew(engine: Engine) -> None:
    clock = FixedClock()
    ahead = clock.now + timedelta(hours=3)  # an ATS clock running ahead: plausible, ingested
    adapter = ListAdapter([app("1"), app("2", at=ahead, applied_at=T0)])

    counts = ingest(engine, adapter, clock=clock)

    assert (counts.new, counts.quarantined) == (2, 0)
    assert _watermark(engine) == clock.now
    clock.advance(hours=1)
    ingest(engine, adapter, clock=clock)
    assert adapter.since_calls[-1] == clock.now - timedelta(hours=1) - WATERMARK_OVERLAP


def test_a_watermark_left_in_the_future_is_not_trusted(engine: Engine) -> None:
    clock = FixedClock()
    with engine.begin() as conn:  # what an earlier version left behind after a 9999 record
        conn.execute(insert(Watermark).values(source="test", value=datetime(9999, 12, 31, tzinfo=UTC),
                                              updated_at=T0))
    adapter = ListAdapter([app("1"), app("2", at=T0 + timedelta(hours=5))])

    counts = ingest(engine, adapter, clock=clock)

    assert adapter.since_calls == [None]  # everything re-read
    assert counts.new == 2
    assert _watermark(engine) == T0 + timedelta(hours=5)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"applied_at": datetime(1989, 12, 31, 14, 59, tzinfo=UTC)},
     "implausible date in field applied_at: before 1990"),
    ({"applied_at": datetime(1985, 3, 1, tzinfo=UTC), "decided_at": datetime(1985, 4, 1, tzinfo=UTC)},
     "implausible date in field applied_at: before 1990; implausible date in field decided_at: before 1990"),
    ({"status": "in_process", "applied_at": T0 + timedelta(days=30)}, FUTURE.format("applied_at")),
    ({"decided_at": T0 + timedelta(days=30)}, FUTURE.format("decided_at")),
    ({"applied_at": T0, "decided_at": T0 - timedelta(days=3)},
     "implausible dates: the decision (decided_at) precedes the application (applied_at)"),
])
def test_implausible_dates_are_quarantined_with_their_field(engine: Engine, fields: dict[str, Any],
                                                            expected: str) -> None:
    counts = ingest(engine, ListAdapter([app("1"), app("2", **fields)]), clock=FixedClock())
    assert (counts.new, counts.quarantined) == (1, 1)
    assert _reasons(engine) == {"2": expected}


def test_the_edges_of_plausible_are_ingested_and_just_beyond_them_quarantined(engine: Engine) -> None:
    clock = FixedClock()
    new_year_tokyo = datetime(1989, 12, 31, 15, 0, tzinfo=UTC)  # 1990-01-01 00:00 in Tokyo
    adapter = ListAdapter([
        app("1", applied_at=new_year_tokyo),
        app("2", applied_at=T0 + timedelta(hours=9), decided_at=T0),  # day-only decision, timed application
        app("3", at=clock.now + timedelta(hours=23)),
        app("4", applied_at=new_year_tokyo - timedelta(seconds=1)),
        app("5", applied_at=T0 + timedelta(days=1, hours=1), decided_at=T0),
        app("6", at=clock.now + timedelta(hours=25)),
    ])
    counts = ingest(engine, adapter, clock=clock)
    assert (counts.new, counts.quarantined) == (3, 3)
    assert sorted(_reasons(engine)) == ["4", "5", "6"]


def test_the_1990_bound_follows_the_business_time_zone(engine: Engine) -> None:
    # 1989-12-31 15:00 UTC is already 1990 in Tokyo, not yet in UTC.
    adapter = ListAdapter([app("1", applied_at=datetime(1989, 12, 31, 15, 0, tzinfo=UTC))])
    counts = ingest(engine, adapter, clock=FixedClock(), timezone="UTC")
    assert counts.quarantined == 1


def test_as_of_days_are_calendar_days_of_the_given_time_zone(engine: Engine) -> None:
    adapter = ListAdapter([app("1", at=T0)])
    ingest(engine, adapter, clock=FixedClock(), timezone="America/New_York")
    ingest(engine, adapter, as_of=date(2026, 10, 30), clock=FixedClock(), timezone="America/New_York")
    assert adapter.since_calls[-1].isoformat() == "2026-10-30T04:00:00+00:00"
    assert window_start(T0, date(2026, 10, 30), "UTC") == datetime(2026, 10, 30, tzinfo=UTC)


# -- the same validator for every adapter ----------------------------------------------------------------

def test_greenhouse_records_with_implausible_dates_are_quarantined(httpserver: HTTPServer,
                                                                   engine: Engine) -> None:
    data = greenhouse_data(6, seed=2)
    data.applications[1]["rejected_at"] = "9999-12-31T00:00:00Z"
    data.applications[1]["status"] = "rejected"
    data.applications[2]["applied_at"] = "1970-01-01T00:00:00Z"
    fake_clock = FakeClock()
    fake = GreenhouseFake(httpserver, data, clock=fake_clock)
    adapter = GreenhouseAdapter(client_for("greenhouse", fake_clock), **fake.adapter_kwargs())

    counts = ingest(engine, adapter, clock=FixedClock(datetime(2026, 12, 1, tzinfo=UTC)))

    reasons = _reasons(engine)
    assert (counts.new, counts.quarantined) == (4, 2)
    assert reasons[str(data.applications[1]["id"])] == FUTURE.format("decided_at")
    assert reasons[str(data.applications[2]["id"])] == "implausible date in field applied_at: before 1990"


def test_lever_records_with_implausible_dates_are_quarantined(httpserver: HTTPServer, engine: Engine) -> None:
    data = lever_data(5, seed=4)
    data.opportunities[0]["updatedAt"] = ms(datetime(9999, 12, 31, tzinfo=UTC))
    fake_clock = FakeClock()
    fake = LeverFake(httpserver, data, clock=fake_clock)
    adapter = LeverAdapter(client_for("lever", fake_clock), **fake.adapter_kwargs())

    counts = ingest(engine, adapter, clock=FixedClock(datetime(2026, 12, 1, tzinfo=UTC)))

    assert (counts.new, counts.quarantined) == (4, 1)
    (entry,) = rows(engine, Quarantine)
    assert entry.reason == FUTURE.format("updated_at")
    assert _watermark(engine, adapter.source) < datetime(2026, 12, 1, tzinfo=UTC)
