"""The cooldown counts calendar months: exactly six months later is the first day a person may be matched."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from junkan.pool.months import add_months, cooldown_over, cooldown_over_mask

JST = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2027, 8, 31), 6, date(2028, 2, 29)),  # leap year
    (date(2026, 3, 31), 6, date(2026, 9, 30)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 5, 15), 6, date(2026, 11, 15)),
    (date(2026, 9, 30), 6, date(2027, 3, 30)),
    (date(2026, 12, 1), 0, date(2026, 12, 1)),
    (date(2026, 7, 10), 18, date(2028, 1, 10)),
])
def test_add_months_clamps_to_the_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_exactly_six_months_later_the_cooldown_is_over_and_the_day_before_it_is_not() -> None:
    decided = datetime(2026, 5, 15, 16, 0, tzinfo=JST)
    assert not cooldown_over(decided, date(2026, 11, 14), 6, "Asia/Tokyo")
    assert cooldown_over(decided, date(2026, 11, 15), 6, "Asia/Tokyo")


def test_31_august_plus_six_months_is_the_end_of_february() -> None:
    decided = datetime(2026, 8, 31, 10, 0, tzinfo=JST)
    assert not cooldown_over(decided, date(2027, 2, 27), 6, "Asia/Tokyo")
    assert cooldown_over(decided, date(2027, 2, 28), 6, "Asia/Tokyo")


def test_the_decision_day_is_the_company_calendar_day_not_the_utc_one() -> None:
    # 2026-08-31 20:00 UTC is already 1 September in Tokyo: the cooldown ends on 1 March, not 28 February.
    decided = datetime(2026, 8, 31, 20, 0, tzinfo=UTC)
    assert not cooldown_over(decided, date(2027, 2, 28), 6, "Asia/Tokyo")
    assert cooldown_over(decided, date(2027, 3, 1), 6, "Asia/Tokyo")


@pytest.mark.parametrize("as_of", [date(2027, 2, 27), date(2027, 2, 28), date(2027, 3, 1), date(2028, 2, 29),
                                   date(2026, 11, 15), date(2026, 9, 30), date(2026, 10, 1)])
def test_the_vectorised_cooldown_agrees_with_the_day_by_day_rule(as_of: date) -> None:
    start = datetime(2025, 12, 1, 0, 30, tzinfo=JST)
    moments = [start + timedelta(hours=7 * k) for k in range(3000)]
    stamps = np.array([m.timestamp() for m in moments] + [np.nan])
    mask = cooldown_over_mask(stamps, as_of, 6, "Asia/Tokyo")
    assert mask.tolist() == [cooldown_over(m, as_of, 6, "Asia/Tokyo") for m in moments] + [False]
