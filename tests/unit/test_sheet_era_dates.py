"""Japanese era dates: year 0 and dates outside an era's span are typos, quarantined like any bad date."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from junkan.ats.sheet_cells import parse_date

JST = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和元年5月1日", datetime(2019, 5, 1, tzinfo=JST)),
        ("平成31年4月30日", datetime(2019, 4, 30, tzinfo=JST)),
        ("平成元年1月8日", datetime(1989, 1, 8, tzinfo=JST)),
        ("昭和64年1月7日", datetime(1989, 1, 7, tzinfo=JST)),
        ("R8.11.1", datetime(2026, 11, 1, tzinfo=JST)),
    ],
)
def test_era_dates_at_the_edges_of_their_era(text: str, expected: datetime) -> None:
    assert parse_date(text, JST) == expected


@pytest.mark.parametrize(
    "text",
    [
        "令和0年5月1日",  # used to read as 2018-05-01
        "平成0年1月8日",
        "令和元年4月30日",  # still 平成
        "平成31年5月1日",  # already 令和
        "平成元年1月7日",  # still 昭和
        "昭和64年1月8日",  # already 平成
        "R0.11.1",
    ],
)
def test_era_year_zero_and_dates_outside_the_era_raise(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text, JST)
