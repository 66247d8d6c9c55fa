"""The run clock: the as_of day chooses the work, the real clock is when things happen (junkan/clock.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from junkan.clock import EARLIEST_DAY, LATEST_DAY, DateRefused, RunClock, check_day

JST = ZoneInfo("Asia/Tokyo")


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


def at(moment: datetime, as_of: date | None = None, *, allow_future: bool = False) -> RunClock:
    return RunClock.start("Asia/Tokyo", as_of, real=lambda: moment, allow_future=allow_future)


def test_a_past_day_chooses_what_a_run_late_that_day_would_have_chosen() -> None:
    day = date(2026, 11, 18)
    # A re-run of a past day: the last second of that day's window.
    assert at(jst(2026, 11, 19, 8, 0), day).due_by() == jst(2026, 11, 18, 17, 59, 59)
    # `--as-of today` in the morning must not choose what falls due this afternoon.
    assert at(jst(2026, 11, 18, 10, 30), day).due_by() == jst(2026, 11, 18, 10, 30)
    assert at(jst(2026, 11, 18, 10, 30)).due_by() == jst(2026, 11, 18, 10, 30)


def test_the_real_clock_is_not_moved_by_as_of() -> None:
    clock = at(jst(2026, 12, 8, 6, 37), date(2026, 12, 7))
    assert clock.now() == jst(2026, 12, 8, 6, 37)
    assert clock.day == date(2026, 12, 7) and clock.today() == date(2026, 12, 8) and clock.is_rerun


def test_counts_of_a_past_day_end_with_that_day_but_never_in_the_future() -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    assert at(now).end_of_day() == now
    assert at(now, date(2026, 11, 10)).end_of_day() == datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    assert at(now, date(2026, 11, 20)).end_of_day() == now


def test_the_day_is_the_business_zones_day() -> None:
    # 23:30 UTC on the 7th is 08:30 on the 8th in Tokyo.
    assert at(datetime(2026, 12, 7, 23, 30, tzinfo=UTC)).day == date(2026, 12, 8)


def test_a_future_day_is_refused_in_one_line() -> None:
    with pytest.raises(DateRefused) as refused:
        at(jst(2026, 12, 8, 6, 40), date(2026, 12, 31))
    message = str(refused.value)
    assert "\n" not in message and "2026-12-31 is in the future" in message
    assert "today is 2026-12-08" in message
    # Tomorrow in Tokyo is refused even when it is still "today" in UTC.
    with pytest.raises(DateRefused):
        at(datetime(2026, 12, 8, 16, 0, tzinfo=UTC), date(2026, 12, 10))
    assert at(datetime(2026, 12, 8, 16, 0, tzinfo=UTC), date(2026, 12, 9)).day == date(2026, 12, 9)


def test_a_future_day_is_accepted_where_looking_ahead_is_the_point() -> None:
    assert at(jst(2026, 12, 8, 6, 40), date(2026, 12, 31), allow_future=True).day == date(2026, 12, 31)


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1989, 12, 31), date(2100, 1, 1), date(9999, 12, 31)])
def test_far_days_are_refused_in_one_line(day: date) -> None:
    with pytest.raises(DateRefused, match=r"out of range: Junkan works with days from 1990-01-01 to "
                                          r"2099-12-31$"):
        check_day(day, "--date")
    with pytest.raises(DateRefused, match="out of range"):
        at(jst(2026, 12, 8, 10, 0), day, allow_future=True)


def test_the_range_ends_are_usable_days() -> None:
    assert check_day(EARLIEST_DAY) == EARLIEST_DAY and check_day(LATEST_DAY) == LATEST_DAY
    far = at(jst(2026, 12, 8, 10, 0), LATEST_DAY, allow_future=True)
    assert far.due_by() == jst(2026, 12, 8, 10, 0) and far.end_of_day() == jst(2026, 12, 8, 10, 0)


def test_a_fixed_clock_needs_an_aware_moment() -> None:
    assert RunClock.fixed(jst(2026, 11, 18, 10, 0)).now() == jst(2026, 11, 18, 10, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        RunClock.fixed(datetime(2026, 11, 18, 10, 0))
