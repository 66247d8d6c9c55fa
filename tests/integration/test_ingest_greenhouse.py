"""Greenhouse Harvest v3 (local fake) through the real adapter into the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, func, select

from junkan.ats.greenhouse import RATE_LIMIT_WINDOW_S, GreenhouseAdapter
from junkan.db.models import Application, Quarantine
from junkan.http import HttpError
from junkan.ingest import ingest
from tests.db_support import wipe
from tests.fakes._common import FakeClock, client_for
from tests.fakes.greenhouse import GreenhouseData, GreenhouseFake, sample_data
from tests.integration._ingest_support import RERUN_BOOKKEEPING, FixedClock, dump

#: The ingest clock: after the company's last update (700 applications 3 h apart from 2026-10-01), so
#: no record is dated in the future (such a record is quarantined as implausible).
AFTER_THE_DATA = datetime(2027, 1, 15, tzinfo=UTC)


def company() -> GreenhouseData:
    data = sample_data(700, seed=3)
    # One candidate without an e-mail address: stored with no identity key and listed for review.
    data.candidates.append({"id": 999_001, "first_name": "名無", "last_name": "権兵衛",
                            "email_addresses": []})
    data.applications.append({**data.applications[0], "id": 299_001, "candidate_id": 999_001})
    return data


def adapter_for(fake: GreenhouseFake, clock: FakeClock, *, max_retries: int = 5) -> GreenhouseAdapter:
    client = client_for("greenhouse", clock, max_retries=max_retries, rate_limit_window_s=RATE_LIMIT_WINDOW_S)
    return GreenhouseAdapter(client, **fake.adapter_kwargs(), per_page=100)


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AFTER_THE_DATA)


@pytest.fixture
def fake_clock() -> FakeClock:
    """The fake's clock, which the adapter waits on: retries and Retry-After pauses take no real time."""
    return FakeClock()


def test_ingesting_the_same_window_twice_leaves_the_database_unchanged(
    httpserver: HTTPServer, engine: Engine, clock: FixedClock, fake_clock: FakeClock
) -> None:
    fake = GreenhouseFake(httpserver, company(), clock=fake_clock)

    first = ingest(engine, adapter_for(fake, fake_clock), as_of=None, clock=clock)
    assert (first.new, first.quarantined, first.no_address) == (701, 0, 1)
    assert _count(engine, Application) == 701
    before = dump(engine, RERUN_BOOKKEEPING)

    clock.advance(days=1)
    again = ingest(engine, adapter_for(fake, fake_clock), as_of=None, full=True, clock=clock)
    assert (again.new, again.updated, again.unchanged, again.quarantined) == (0, 0, 701, 0)
    assert dump(engine, RERUN_BOOKKEEPING) == before

    # The incremental run after it asks Greenhouse only for what changed since the watermark.
    incremental = ingest(engine, adapter_for(fake, fake_clock), as_of=None, clock=clock)
    assert incremental.new == 0 and incremental.unchanged < 5
    assert fake.calls("/v3/applications")[-1].args["updated_at"][0].startswith("gte|2026-")


def _clean_state_then_faults(
    httpserver: HTTPServer, engine: Engine, clock: FixedClock, fake_clock: FakeClock, *, seed: int,
    statuses: tuple[int, ...]
) -> tuple[dict[str, list[Any]], GreenhouseFake]:
    """What a fault-free ingest of the company stores (the database and the fake are emptied after it),
    and then the same company behind a fake that answers a seeded fifth of its requests with `statuses`."""
    clean_fake = GreenhouseFake(httpserver, company(), clock=FakeClock())
    ingest(engine, adapter_for(clean_fake, FakeClock()), as_of=None, clock=clock)
    clean = dump(engine)
    wipe(engine)
    httpserver.clear()
    return clean, GreenhouseFake(httpserver, company(), clock=fake_clock, fault_rate=0.2, seed=seed,
                                 fault_statuses=statuses)


def test_a_run_with_20_percent_faults_ends_in_the_same_state_as_a_clean_run(
    httpserver: HTTPServer, engine: Engine, clock: FixedClock, fake_clock: FakeClock
) -> None:
    clean, faulty = _clean_state_then_faults(httpserver, engine, clock, fake_clock, seed=11,
                                             statuses=(429, 500, 502, 503, 504))
    counts = ingest(engine, adapter_for(faulty, fake_clock), as_of=None, clock=clock)

    assert faulty.faults.injected >= 5
    assert any(r.status == 429 for r in faulty.requests) and any(r.status >= 500 for r in faulty.requests)
    assert fake_clock.sleeps, "the adapter waited (Retry-After / backoff) on the injected faults"
    assert (counts.new, counts.quarantined, counts.no_address) == (701, 0, 1)
    assert dump(engine) == clean


def test_a_run_that_gives_up_mid_way_is_completed_by_the_retry(
    httpserver: HTTPServer, engine: Engine, clock: FixedClock, fake_clock: FakeClock
) -> None:
    clean, flaky = _clean_state_then_faults(httpserver, engine, clock, fake_clock, seed=5,
                                            statuses=(500, 503))
    # Without adapter-level retries, the first 5xx ends the run: what a Prefect task retry then repeats.
    with pytest.raises(HttpError) as failure:
        ingest(engine, adapter_for(flaky, fake_clock, max_retries=0), as_of=None, clock=clock)
    assert failure.value.retryable
    assert _count(engine, Quarantine) <= 1

    flaky.faults.rate = 0.0
    ingest(engine, adapter_for(flaky, fake_clock), as_of=None, clock=clock)
    assert dump(engine) == clean
