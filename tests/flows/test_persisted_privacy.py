"""Nothing Prefect persists holds personal data: result files, states, logs, artifacts (issue 9 §5).

A failed run is the hard case: Prefect writes the flow's exception to result storage whatever
`persist_result` says, and a database error used to keep the statement's parameters and PostgreSQL's
DETAIL ("Failing row contains (…, hanako.yamada@example.jp, +819012345678, 山田 花子, …)") in that file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId
from sqlalchemy import Engine, text

from flows.daily import daily
from flows.ingest_decisions import ingest_decisions
from junkan.db.errors import ScrubbedDatabaseError
from tests.flows._persisted import api_records, leaks, private_prefect_home, stored_files, stored_results

EMAIL = "hanako.yamada@example.jp"
NAME = "山田 花子"
PHONE = "090-1234-5678"
#: Each personal value in every form it may take once stored: as typed, normalised (+819012345678).
NEEDLES = ("hanako.yamada", "花子", "9012345678", "1234-5678")
GUARD = "privacy_test_refuse"
#: A Wednesday: the notice for a decision of Monday 2026-11-16 is due.
AS_OF = date(2026, 11, 18)
pytestmark = pytest.mark.usefixtures("real_clock_in_the_window")


def _write_export(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["応募ID", "氏名", "メールアドレス", "電話番号", "応募日", "求人", "選考結果",
                         "不採用理由", "選考結果日"])
        writer.writerow(["A-1", NAME, EMAIL, PHONE, "2026/11/02", "営業職", "不採用", "スキル不足",
                         "2026/11/16"])


@pytest.fixture
def junkan_env(tmp_path: Path, database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest reads a CSV export holding one candidate; notices go to .eml files; no partner."""
    export = tmp_path / "export.csv"
    _write_export(export)
    for name, value in {
        "JUNKAN_DATABASE_URL": database_url,
        "JUNKAN_ATS__KIND": "csv",
        "JUNKAN_ATS__PATH": str(export),
        "JUNKAN_MAIL__BACKEND": "file",
        "JUNKAN_MAIL__OUTBOX_DIR": str(tmp_path / "outbox"),
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def refusing_candidate(engine: Engine) -> Iterator[None]:
    """The database refuses to store this candidate, as a real constraint would, with the row in the error:
    PostgreSQL's DETAIL quotes the whole failing row, SQLAlchemy keeps the bound values on SQLite."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE candidate ADD CONSTRAINT {GUARD} CHECK (email_key <> '{EMAIL}')"))
        else:
            conn.execute(text(f"CREATE TRIGGER {GUARD} BEFORE INSERT ON candidate "
                              f"WHEN NEW.email_key = '{EMAIL}' BEGIN SELECT RAISE(ABORT, '{GUARD}'); END"))
    yield
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE candidate DROP CONSTRAINT {GUARD}"))
        else:
            conn.execute(text(f"DROP TRIGGER {GUARD}"))


def _task_run_messages(flow_run_id: object) -> list[str]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[flow_run_id])))
        return [state.message or "" for run in runs for state in client.read_task_run_states(run.id)]


def _figures_only(value: object) -> bool:
    if isinstance(value, dict) and value.get("__class__") == "flows.results.FlowResult":
        # A flow's result: figures, yes/no flags and the flow's own fixed sentences (leaks() reads them too).
        data = value["data"]
        return (set(data) == {"counts", "flags", "notes"} and _figures_only(data["counts"])
                and _figures_only(data["flags"]) and all(isinstance(note, str) for note in data["notes"]))
    if isinstance(value, dict):
        return all(isinstance(k, str) and _figures_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_figures_only(v) for v in value)
    return isinstance(value, int)


def test_a_database_error_fails_the_run_with_a_useful_message_and_persists_no_personal_data(
    junkan_env: None, refusing_candidate: None, engine: Engine, tmp_path: Path
) -> None:
    started = datetime.now(UTC)
    with private_prefect_home(tmp_path / "prefect") as storage:
        state = ingest_decisions(return_state=True)

    assert state.is_failed()
    with pytest.raises(ScrubbedDatabaseError) as caught:
        state.result()
    # What an operator needs to find the fault: the constraint and table, and PostgreSQL's SQLSTATE.
    message = str(caught.value)
    assert GUARD in message and "candidate" in message
    if engine.dialect.name == "postgresql":
        assert "SQLSTATE 23514" in message
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    task_messages = _task_run_messages(state.state_details.flow_run_id)
    assert any(GUARD in m and "ScrubbedDatabaseError" in m for m in task_messages), task_messages
    assert GUARD in (state.message or "")

    files = stored_files(storage)
    assert files, "Prefect writes a failed flow run's exception to result storage"
    assert leaks(files, NEEDLES) == []
    assert leaks(stored_files(tmp_path / "prefect"), NEEDLES) == []
    assert leaks(api_records(started), NEEDLES) == []


def test_a_whole_daily_run_persists_counts_only(junkan_env: None, tmp_path: Path) -> None:
    """Results, artifacts and logs of every sub-flow and task, with result persistence on."""
    started = datetime.now(UTC)
    with private_prefect_home(tmp_path / "prefect") as storage:
        results = daily(as_of=AS_OF)

    assert results["ingest-decisions"]["new"] == 1
    assert results["send-rejections"]["sent"] == 1  # the notice did go to the candidate …
    assert EMAIL in "".join(p.read_text(errors="replace") for p in (tmp_path / "outbox").glob("*.eml"))
    for counts in results.values():  # … and what the run returns is figures
        assert all(isinstance(v, int) for v in counts.values()), counts
    files = stored_files(storage)
    assert len(files) >= 5, "results are persisted: one per flow run and task run at least"
    assert leaks(files, NEEDLES) == []
    # Readable JSON holding figures only, which anyone auditing the storage can check by eye.
    for path, (serializer, value) in stored_results(storage).items():
        assert serializer == "json", (path, value)
        assert _figures_only(value), (path, value)
    recorded = api_records(started)
    assert any(where.startswith("artifact ") for where in recorded)
    assert any(where.startswith("log ") for where in recorded)
    assert leaks(recorded, NEEDLES) == []
