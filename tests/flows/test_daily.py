"""`daily` runs every registered sub-flow in order; one failure does not stop the rest."""

from __future__ import annotations

import sys
import types
from datetime import date

import pytest
from prefect import flow, get_client

from flows import registry
from flows.daily import SubFlowsFailed, daily
from tests.flows._artifacts import newest, table_rows

calls: list[tuple[str, dict]] = []


@flow(name="fake-first")
def fake_first(as_of: date | None = None) -> dict[str, int]:
    calls.append(("first", {"as_of": as_of}))
    return {"new": 3}


@flow(name="fake-broken")
def fake_broken(as_of: date | None = None, dry_run: bool = False) -> dict[str, int]:
    calls.append(("broken", {"as_of": as_of, "dry_run": dry_run}))
    raise RuntimeError("partner API down")


@flow(name="fake-sender")
def fake_sender(as_of: date | None = None, dry_run: bool = False) -> dict[str, int]:
    calls.append(("sender", {"as_of": as_of, "dry_run": dry_run}))
    return {"sent": 2}


@pytest.fixture
def fake_registry(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    # `daily` checks the schema revision before it starts its sub-flows: it needs a migrated database.
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    module = types.ModuleType("fake_daily_flows")
    module.first, module.broken, module.sender = fake_first, fake_broken, fake_sender
    monkeypatch.setitem(sys.modules, "fake_daily_flows", module)
    monkeypatch.setattr(
        registry,
        "FLOWS",
        {
            "first": "fake_daily_flows:first",
            "broken": "fake_daily_flows:broken",
            "sender": "fake_daily_flows:sender",
        },
    )
    calls.clear()


def test_daily_runs_all_in_order_and_fails_naming_the_broken_sub_flow(fake_registry: None) -> None:
    state = daily(as_of=date(2026, 11, 24), dry_run=True, return_state=True)
    assert state.is_failed()
    with pytest.raises(SubFlowsFailed, match="sub-flows failed: broken"):
        state.result()
    assert [name for name, _ in calls] == ["first", "broken", "sender"]
    # as_of reaches every flow; dry_run only the ones that declare it.
    assert calls[0][1] == {"as_of": date(2026, 11, 24)}
    assert calls[2][1] == {"as_of": date(2026, 11, 24), "dry_run": True}


def test_daily_returns_each_sub_flow_result_when_all_succeed(
    fake_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        registry, "FLOWS", {"first": "fake_daily_flows:first", "sender": "fake_daily_flows:sender"}
    )
    assert daily() == {"first": {"new": 3}, "sender": {"sent": 2}}


def test_retention_runs_last_in_daily() -> None:
    assert list(registry.FLOWS)[-2:] == ["recontact", "retention"]


def test_a_dry_run_is_named_so_and_keeps_its_summary_apart(fake_registry: None) -> None:
    state = daily(as_of=date(2026, 11, 24), dry_run=True, return_state=True)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        summary = newest("daily-summary-dry-run")
    assert run.name == "daily 2026-11-24 (dry run)"
    table = table_rows(summary)
    # One row per count, in registry order; the failed flow and the dry run in words.
    assert table == [{"metric": "first: new", "count": 3}, {"metric": "sender: sent", "count": 2}]
    assert "broken: 失敗" in summary.description
    assert "ingest-decisions stores the ATS's decisions" in summary.description


def test_a_real_run_is_named_by_its_day_and_publishes_the_real_summary(
    fake_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "FLOWS", {"first": "fake_daily_flows:first"})
    state = daily(as_of=date(2026, 11, 25), return_state=True)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        summary = newest("daily-summary")
    assert run.name == "daily 2026-11-25"
    assert summary.flow_run_id == run.id
