"""`daily` calls the six flows of a day in order; one failure does not stop the rest, and its summary reads
each flow's own result (counts and notes)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from prefect import Flow, flow, get_client
from prefect.serializers import JSONSerializer

import flows.daily
from flows.catalog import IN_DAILY
from flows.daily import SubFlowsFailed, daily
from flows.results import FlowResult
from tests.flows._artifacts import labelled_counts, newest, table_rows

CLOSED = "送信時間帯（9:00–18:00 JST）の外のため未送信。次回: 11/24 09:00"

#: What each fake returns; None: it fails.
RESULTS: dict[str, FlowResult | None] = {
    "ingest-decisions": FlowResult({"new": 3}),
    "sync-email-events": FlowResult({"suppressions_added": 1}),
    "send-rejections": FlowResult({"sent": 2}, {"outside_window": True, "dry_run": True}, [CLOSED]),
    "sync-partner-stats": FlowResult({"credits_earned": 1}),
    "recontact": FlowResult({"matches": 4}),
    "retention": FlowResult({"anonymised_rejected_days": 0}),
}

calls: list[tuple[str, dict[str, Any]]] = []


def _fake(name: str, result: FlowResult | None, takes_dry_run: bool) -> Flow[..., FlowResult]:
    def outcome(**kwargs: Any) -> FlowResult:
        calls.append((name, kwargs))
        if result is None:
            raise RuntimeError("partner API down")
        return result

    if takes_dry_run:
        def with_dry_run(as_of: date | None = None, dry_run: bool = False) -> FlowResult:
            return outcome(as_of=as_of, dry_run=dry_run)
        return flow(name=name)(with_dry_run)

    def without(as_of: date | None = None) -> FlowResult:
        return outcome(as_of=as_of)
    return flow(name=name)(without)


def _use_fakes(monkeypatch: pytest.MonkeyPatch, failing: str | None = None) -> None:
    """Put a recording fake in place of each flow `daily` calls (the same names and parameters)."""
    for entry in IN_DAILY:
        result = None if entry.name == failing else RESULTS[entry.name]
        monkeypatch.setattr(flows.daily, entry.target.split(":")[1],
                            _fake(entry.name, result, entry.takes_dry_run))
    calls.clear()


@pytest.fixture
def migrated(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    # `daily` checks the schema revision before it starts its sub-flows: it needs a migrated database.
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, migrated: None) -> None:
    _use_fakes(monkeypatch)


@pytest.fixture
def partner_down(monkeypatch: pytest.MonkeyPatch, migrated: None) -> None:
    _use_fakes(monkeypatch, failing="sync-partner-stats")


def test_daily_runs_all_in_order_and_fails_naming_the_broken_sub_flow(partner_down: None) -> None:
    state = daily(as_of=date(2026, 11, 24), dry_run=True, return_state=True)
    assert state.is_failed()
    with pytest.raises(SubFlowsFailed, match=r"sub-flows failed: sync-partner-stats$"):
        state.result()
    assert [name for name, _ in calls] == ["ingest-decisions", "sync-email-events", "send-rejections",
                                           "sync-partner-stats", "recontact", "retention"]
    # as_of reaches every flow; dry_run only the ones that take it.
    by_name = dict(calls)
    assert by_name["ingest-decisions"] == {"as_of": date(2026, 11, 24)}
    assert by_name["sync-partner-stats"] == {"as_of": date(2026, 11, 24)}
    assert by_name["send-rejections"] == {"as_of": date(2026, 11, 24), "dry_run": True}
    assert by_name["retention"] == {"as_of": date(2026, 11, 24), "dry_run": True}


def test_daily_returns_each_sub_flow_result_when_all_succeed(fakes: None) -> None:
    assert daily() == RESULTS
    assert daily()["send-rejections"] == {"sent": 2, "outside_window": 1, "dry_run": 1}


def test_retention_runs_last_in_daily(fakes: None) -> None:
    daily()
    assert [name for name, _ in calls][-2:] == ["recontact", "retention"]


def test_a_dry_run_is_named_so_and_keeps_its_summary_apart(partner_down: None) -> None:
    state = daily(as_of=date(2026, 11, 24), dry_run=True, return_state=True)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        summary = newest("daily-summary-dry-run")
    assert run.name == "daily 2026-11-24 (dry run)"
    # One row per count, in the order run; the flags are no rows; the failed flow and the dry run in words.
    assert labelled_counts(table_rows(summary)) == {
        "ingest-decisions：新規": 3,
        "sync-email-events：配信停止リストへの追加（合計）": 1,
        "send-rejections：送信済み": 2,
        "recontact：マッチ": 4,
        "retention：匿名化：保存期間を過ぎた不採用・辞退者": 0,
    }
    assert [row["item"] for row in table_rows(summary)] == [
        "ingest-decisions: new", "sync-email-events: suppressions added (total)", "send-rejections: sent",
        "recontact: matches", "retention: anonymised: rejected or withdrawn past the retention days"]
    assert "sync-partner-stats: 失敗" in summary.description
    assert "ingest-decisions stores the ATS's decisions" in summary.description
    # The sending flow's own note, as it said it (not worked out again from as_of).
    assert f"send-rejections: {CLOSED}" in summary.description


def test_a_real_run_is_named_by_its_day_and_publishes_the_real_summary(fakes: None) -> None:
    state = daily(as_of=date(2026, 11, 25), return_state=True)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        summary = newest("daily-summary")
    assert run.name == "daily 2026-11-25"
    assert summary.flow_run_id == run.id


def test_a_flow_result_is_stored_as_json_with_its_notes() -> None:
    stored = JSONSerializer().dumps(RESULTS["send-rejections"])
    assert json.loads(stored)["data"] == {"counts": {"sent": 2}, "flags": {"outside_window": True,
                                                                          "dry_run": True}, "notes": [CLOSED]}
    assert JSONSerializer().loads(stored) == RESULTS["send-rejections"]
