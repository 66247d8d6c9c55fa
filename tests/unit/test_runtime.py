"""One Runtime per run: settings read once per configuration, one engine per database, the run clock."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from junkan.clock import DateRefused
from junkan.runtime import runtime, settings, simulated_time

JST = ZoneInfo("Asia/Tokyo")


@pytest.fixture(autouse=True)
def _own_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.upper().startswith("JUNKAN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", f"sqlite:///{tmp_path / 'one.db'}")


def test_the_tasks_of_a_run_share_one_settings_object_and_one_engine() -> None:
    first, second = runtime(), runtime(date(2026, 11, 18))
    assert first.settings is second.settings and first.engine is second.engine
    assert first.sender.timezone == "Asia/Tokyo" and second.clock.as_of == date(2026, 11, 18)


def test_a_changed_environment_or_file_gives_fresh_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = settings()
    monkeypatch.setenv("JUNKAN_BUSINESS__TIMEZONE", "Europe/Berlin")
    berlin = settings()
    assert berlin is not before and berlin.business.timezone == "Europe/Berlin"
    assert runtime().clock.zone == ZoneInfo("Europe/Berlin")
    (tmp_path / "junkan.toml").write_text("[notice]\ndelay_business_days = 3\n", encoding="utf-8")
    assert settings().notice.delay_business_days == 3
    (tmp_path / "junkan.toml").write_text("[notice]\ndelay_business_days = 4\n", encoding="utf-8")
    os.utime(tmp_path / "junkan.toml", ns=(1, 1))  # a rewrite within the same clock tick is still seen
    assert settings().notice.delay_business_days == 4


def test_a_runs_clock_is_the_simulated_one_only_inside_simulated_time() -> None:
    opening = datetime(2026, 11, 19, 9, 0, tzinfo=JST)
    with simulated_time(opening):
        clock = runtime(date(2026, 11, 18)).clock
        assert opening <= clock.now() < opening.replace(minute=5) and clock.is_rerun
    wall = runtime().clock
    before = datetime.now(UTC)
    assert before <= wall.now() <= datetime.now(UTC)


def test_a_future_day_is_refused_unless_looking_ahead_is_the_point() -> None:
    with simulated_time(datetime(2026, 12, 8, 6, 40, tzinfo=JST)):
        with pytest.raises(DateRefused, match="2026-12-31 is in the future"):
            runtime(date(2026, 12, 31))
        assert runtime(date(2026, 12, 31), allow_future=True).clock.day == date(2026, 12, 31)
