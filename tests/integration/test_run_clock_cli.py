"""Days on the command line (issue 19 §4): far days and future as_of are refused in one line, exit 2;
`junkan preview` defaults to the next sending window that has not closed yet, today included."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from junkan.cli import app
from junkan.config import Settings
from junkan.runtime import simulated_time
from tests.integration.test_preview import seed_notices

JST = ZoneInfo("Asia/Tokyo")
runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("JUNKAN_DATABASE_URL", settings.database_url)
    return settings


def refused(args: list[str]) -> str:
    result = runner.invoke(app, args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("args", [
    ["preview", "--date", "9999-12-31"],
    ["preview", "--date", "0001-01-01"],
    ["report", "--from", "0001-01-01", "--to", "9999-12-31"],
    ["privacy", "due", "--as-of", "9999-12-31"],
    ["partner", "status", "--as-of", "0001-01-01"],
    ["run", "send-rejections", "--as-of", "9999-12-31"],
])
def test_far_days_are_refused_in_one_line(cli_env: Settings, args: list[str]) -> None:
    line = refused(args)
    assert "is out of range: Junkan works with days from 1990-01-01 to 2099-12-31" in line


@pytest.mark.parametrize("command", [
    ["privacy", "due"], ["partner", "status"], ["partner", "sync"], ["run", "daily", "--dry-run"],
    ["run", "send-rejections"], ["run", "sync-partner-stats"], ["run", "retention"],
])
def test_a_future_as_of_is_refused_in_one_line(cli_env: Settings, command: list[str]) -> None:
    tomorrow = (datetime.now(JST) + timedelta(days=1)).date().isoformat()
    line = refused([*command, "--as-of", tomorrow])
    assert f"as_of {tomorrow} is in the future" in line and "junkan preview --date" in line


def test_preview_looks_at_a_day_to_come(cli_env: Settings) -> None:
    later = (datetime.now(JST) + timedelta(days=30)).date().isoformat()
    result = runner.invoke(app, ["preview", "--date", later])
    assert result.exit_code == 0, result.output


def test_preview_by_default_shows_today_until_its_window_closes(engine: Engine, cli_env: Settings) -> None:
    seed_notices(engine, cli_env)
    # 06:40 on Wednesday 2026-11-18, the day the seeded notices fall due at 09:00.
    with simulated_time(datetime(2026, 11, 18, 6, 40, tzinfo=JST)):
        morning = runner.invoke(app, ["preview"])
    assert morning.exit_code == 0, morning.output
    assert morning.output.startswith("Preview of Wed 2026-11-18")
    assert "Rejection and withdrawal notices (send-rejections): 5" in morning.output
    with simulated_time(datetime(2026, 11, 18, 18, 0, tzinfo=JST)):
        evening = runner.invoke(app, ["preview"])
    assert evening.output.startswith("Preview of Thu 2026-11-19"), evening.output
