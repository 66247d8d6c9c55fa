"""`junkan run ingest-decisions`, configured only through the documented env vars, ingests all pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from junkan.cli import app
from junkan.db.models import Application
from tests.fakes.greenhouse import GreenhouseFake, sample_data


def test_junkan_run_ingests_every_greenhouse_page_and_prints_counts(
    httpserver: HTTPServer, engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # All in the past: a record dated in the future would be quarantined as implausible.
    fake = GreenhouseFake(httpserver, sample_data(700, seed=3, start=datetime(2026, 5, 1, tzinfo=UTC)))
    # The ATS comes from the file JUNKAN_CONFIG_FILE names, read when the flow builds its settings.
    ats = {name.removeprefix("JUNKAN_ATS__").lower(): value for name, value in fake.env().items()}
    config = tmp_path / "etc" / "junkan.toml"
    config.parent.mkdir()
    lines = "".join(f'{key} = "{value}"\n' for key, value in ats.items())
    config.write_text(f"[ats]\n{lines}", encoding="utf-8")
    monkeypatch.setenv("JUNKAN_CONFIG_FILE", str(config))
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)

    result = CliRunner().invoke(app, ["run", "ingest-decisions", "--as-of", "2026-11-24"])

    assert result.exit_code == 0, result.output
    # stdout only: Prefect's console log handler may report its own errors on stderr.
    counts = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert counts["new"] == 700
    assert len(fake.calls("/v3/applications")) == 2  # 500 + 200, the cursor page followed
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Application)).scalar_one() == 700
    assert fake.client_secret not in result.output


def test_junkan_run_reports_a_failed_flow_with_exit_1_and_no_traceback(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_PARTNER__KIND", "csv")
    monkeypatch.setenv("JUNKAN_PARTNER__PATH", f"{tmp_path}/no-such-report.csv")

    result = CliRunner().invoke(app, ["run", "sync-partner-stats"])

    assert result.exit_code == 1, result.output
    verdict = "flow sync-partner-stats failed: PartnerSyncFailed: partner sync failed: careerrelay"
    assert verdict in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
