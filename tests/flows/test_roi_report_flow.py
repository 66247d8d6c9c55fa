"""`roi-report` end to end: files written, summary and one table artifact per section published."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy import Engine

from flows.roi_report import roi_report
from tasks.report import ARTIFACT_KEY
from tests.flows._artifacts import newest_text
from tests.integration._report_data import load_october


def test_roi_report_defaults_to_the_previous_month(engine: Engine, database_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    load_october(engine)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_REPORT__OUTPUT_DIR", str(tmp_path))
    state = roi_report(as_of=date(2026, 11, 1), return_state=True)
    result = state.result()
    assert result["period"] == "2026-10"
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(state.state_details.flow_run_id).name == "roi-report 2026-10"
    assert result["rejections"] == 6 and result["follow_up_rate"] == 0.25
    for ext in ("html", "pdf", "xlsx", "json"):
        assert (tmp_path / f"roi-2026-10.{ext}").is_file(), ext
    assert (tmp_path / "roi-2026-10.pdf").read_bytes().startswith(b"%PDF")
    # The headline cards as a table in Japanese, with their change and baseline columns.
    summary = newest_text(ARTIFACT_KEY)
    assert "| 指標 | 値 | 前期間比 | 導入前 | 備考 |" in summary and "| フォローアップ率 | 25.0% |" in summary
    assert f"{ARTIFACT_KEY}-follow-up" in result["artifacts"]
    assert "25.0%" in newest_text(f"{ARTIFACT_KEY}-follow-up")


def test_roi_report_takes_a_period_from_the_form(engine: Engine, database_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    load_october(engine)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_REPORT__OUTPUT_DIR", str(tmp_path))
    # As the API hands it over from the form: JSON strings.
    state = roi_report(period={"start": "2026-10-01", "end": "2026-10-31"}, lang="en", return_state=True)
    assert state.result()["period"] == "2026-10"
    backwards = roi_report(period={"start": "2026-10-31", "end": "2026-10-01"}, return_state=True)
    assert backwards.is_failed()
    assert "period ends (2026-10-01) before it starts (2026-10-31)" in str(backwards.message)
