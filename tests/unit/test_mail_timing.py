"""Business days (Japan), Golden Week, 年末年始, the sending window and when a notice is due."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from junkan.config import NoticeSettings
from junkan.mail.timing import (
    add_business_days,
    closed_window_note,
    due_at,
    in_send_window,
    is_business_day,
    next_window_start,
)

JST = ZoneInfo("Asia/Tokyo")
NOTICE = NoticeSettings()


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


# -- business days ---------------------------------------------------------------------------------
def test_weekdays_are_business_days_and_weekends_are_not() -> None:
    assert [is_business_day(date(2026, 6, d)) for d in range(1, 8)] == [True] * 5 + [False, False]


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (date(2026, 4, 28), True),  # Tue
        (date(2026, 4, 29), False),  # 昭和の日
        (date(2026, 4, 30), True),
        (date(2026, 5, 1), True),
        (date(2026, 5, 2), False),  # Sat
        (date(2026, 5, 3), False),  # 憲法記念日 (Sun)
        (date(2026, 5, 4), False),  # みどりの日
        (date(2026, 5, 5), False),  # こどもの日
        (date(2026, 5, 6), False),  # 振替休日 for May 3
        (date(2026, 5, 7), True),
        (date(2026, 9, 22), False),  # 国民の休日 between two holidays
    ],
)
def test_golden_week_and_other_public_holidays(day: date, business: bool) -> None:
    assert is_business_day(day) is business


def test_new_year_closing_days_by_default_and_configurable() -> None:
    for day in [date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3), date(2026, 1, 2)]:
        assert not is_business_day(day)
    assert is_business_day(date(2026, 12, 30)) and is_business_day(date(2027, 1, 4))
    # A company that works through the holidays (only the public holiday Jan 1 remains closed).
    assert is_business_day(date(2026, 12, 31), extra_closed_days=[])
    assert is_business_day(date(2026, 1, 2), extra_closed_days=[])
    assert not is_business_day(date(2027, 1, 1), extra_closed_days=[])
    # お盆 closing added by configuration.
    assert not is_business_day(date(2026, 8, 13), extra_closed_days=["08-13", "08-14"])


def test_bad_closed_day_is_reported_clearly() -> None:
    with pytest.raises(ValueError, match="13-01"):
        is_business_day(date(2026, 6, 1), extra_closed_days=["13-01"])


def test_add_business_days() -> None:
    assert add_business_days(date(2026, 6, 1), 0) == date(2026, 6, 1)
    assert add_business_days(date(2026, 6, 5), 1) == date(2026, 6, 8)  # Fri -> Mon
    assert add_business_days(date(2026, 4, 28), 2) == date(2026, 5, 1)  # skips 昭和の日
    assert add_business_days(date(2026, 5, 1), 1) == date(2026, 5, 7)  # whole Golden Week
    assert add_business_days(date(2026, 12, 28), 3) == date(2027, 1, 4)  # 年末年始
    assert add_business_days(date(2026, 5, 2), 2) == date(2026, 5, 8)  # from a holiday
    assert add_business_days(date(2026, 5, 7), -1) == date(2026, 5, 1)
    assert add_business_days(date(2026, 12, 28), 3, extra_closed_days=[]) == date(2026, 12, 31)


def test_datetimes_are_refused_where_a_date_is_meant() -> None:
    with pytest.raises(TypeError):
        is_business_day(jst(2026, 6, 1, 10))
    with pytest.raises(TypeError):
        add_business_days(jst(2026, 6, 1, 10), 1)


# -- sending window --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (jst(2026, 6, 1, 8, 59, 59), False),
        (jst(2026, 6, 1, 9, 0), True),  # window start is inclusive
        (jst(2026, 6, 1, 17, 59, 59), True),
        (jst(2026, 6, 1, 18, 0), False),  # window end is exclusive
        (jst(2026, 6, 6, 12, 0), False),  # Saturday
        (jst(2026, 5, 5, 12, 0), False),  # こどもの日
        (jst(2026, 12, 31, 12, 0), False),  # 年末
        (datetime(2026, 6, 1, 0, 0, tzinfo=UTC), True),  # 09:00 JST
        (datetime(2026, 5, 31, 23, 59, tzinfo=UTC), False),  # 08:59 JST
        (datetime(2026, 6, 1, 9, 0, tzinfo=UTC), False),  # 18:00 JST
    ],
)
def test_in_send_window(moment: datetime, inside: bool) -> None:
    assert in_send_window(moment, NOTICE) is inside


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        in_send_window(datetime(2026, 6, 1, 10, 0), NOTICE)
    with pytest.raises(ValueError, match="naive"):
        due_at(datetime(2026, 6, 1, 10, 0), NOTICE)
    with pytest.raises(ValueError, match="naive"):
        next_window_start(datetime(2026, 6, 1, 10, 0), NOTICE)


def test_custom_window_and_invalid_window() -> None:
    late = NoticeSettings(window_start=time(10, 30), window_end=time(20, 0))
    assert not in_send_window(jst(2026, 6, 1, 10, 0), late)
    assert in_send_window(jst(2026, 6, 1, 19, 30), late)
    with pytest.raises(ValueError, match="window"):
        in_send_window(jst(2026, 6, 1, 10), NoticeSettings(window_start=time(18), window_end=time(9)))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (jst(2026, 6, 1, 10, 15), jst(2026, 6, 1, 10, 15)),  # inside: now
        (jst(2026, 6, 1, 7, 0), jst(2026, 6, 1, 9, 0)),  # early morning: today 09:00
        (jst(2026, 6, 5, 18, 0), jst(2026, 6, 8, 9, 0)),  # Friday evening: Monday
        (jst(2026, 5, 1, 18, 30), jst(2026, 5, 7, 9, 0)),  # into Golden Week: after it
        (jst(2026, 5, 3, 11, 0), jst(2026, 5, 7, 9, 0)),
        (jst(2026, 12, 30, 18, 30), jst(2027, 1, 4, 9, 0)),  # 年末年始
        (datetime(2026, 6, 7, 23, 30, tzinfo=UTC), jst(2026, 6, 8, 9, 0)),  # Mon 08:30 JST
    ],
)
def test_next_window_start(now: datetime, expected: datetime) -> None:
    got = next_window_start(now, NOTICE)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == timedelta(hours=9)


# -- due time --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("decided", "expected"),
    [
        (jst(2026, 6, 1, 15, 0), jst(2026, 6, 3, 9, 0)),  # Mon -> Wed 09:00
        (jst(2026, 6, 4, 20, 0), jst(2026, 6, 8, 9, 0)),  # Thu evening -> Mon
        (jst(2026, 6, 6, 11, 0), jst(2026, 6, 9, 9, 0)),  # decided on Saturday -> Tue
        (jst(2026, 4, 28, 15, 0), jst(2026, 5, 1, 9, 0)),  # over 昭和の日
        (jst(2026, 4, 30, 10, 0), jst(2026, 5, 7, 9, 0)),  # over Golden Week
        (jst(2026, 12, 28, 10, 0), jst(2026, 12, 30, 9, 0)),  # just before 年末年始
        (jst(2026, 12, 29, 10, 0), jst(2027, 1, 4, 9, 0)),  # over 年末年始
        # 2026-04-28 23:30 UTC is 04-29 08:30 JST, a holiday: the local date counts.
        (datetime(2026, 4, 28, 23, 30, tzinfo=UTC), jst(2026, 5, 1, 9, 0)),
    ],
)
def test_due_at_default_two_business_days(decided: datetime, expected: datetime) -> None:
    got = due_at(decided, NOTICE)
    assert got == expected
    assert str(got.tzinfo) == "Asia/Tokyo"


def test_due_at_zero_delay_is_never_before_the_decision() -> None:
    now_ish = NoticeSettings(delay_business_days=0)
    assert due_at(jst(2026, 6, 1, 10, 20), now_ish) == jst(2026, 6, 1, 10, 20)
    assert due_at(jst(2026, 6, 1, 7, 0), now_ish) == jst(2026, 6, 1, 9, 0)
    assert due_at(jst(2026, 6, 1, 19, 0), now_ish) == jst(2026, 6, 2, 9, 0)
    assert due_at(jst(2026, 5, 3, 12, 0), now_ish) == jst(2026, 5, 7, 9, 0)


def test_due_at_honours_custom_delay_window_and_closing_days() -> None:
    cfg = NoticeSettings(
        delay_business_days=5, window_start=time(10), window_end=time(17), extra_closed_days=[]
    )
    assert due_at(jst(2026, 12, 25, 12, 0), cfg) == jst(2027, 1, 4, 10, 0)  # Dec 28-31, then Jan 4
    with pytest.raises(ValueError):
        due_at(jst(2026, 6, 1), NoticeSettings(delay_business_days=-1))


aware_moments = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from([UTC, JST, ZoneInfo("America/New_York")]),
)


@settings(max_examples=300, deadline=None)
@given(aware_moments)
def test_window_properties(now: datetime) -> None:
    start = next_window_start(now, NOTICE)
    assert start >= now
    assert in_send_window(start, NOTICE)
    assert (start == now) is in_send_window(now, NOTICE)


@settings(max_examples=300, deadline=None)
@given(aware_moments, st.integers(min_value=0, max_value=10))
def test_due_at_properties(decided: datetime, n: int) -> None:
    cfg = NoticeSettings(delay_business_days=n)
    due = due_at(decided, cfg)
    assert due >= decided
    assert in_send_window(due, cfg)
    local_day = decided.astimezone(JST).date()
    assert due.date() >= add_business_days(local_day, n)


@pytest.mark.parametrize(
    ("moment", "note"),
    [
        # After hours on Tuesday: Wednesday's window.
        (jst(2026, 12, 1, 19), "送信時間帯（9:00–18:00 JST）の外のため未送信。次回: 12/02 09:00"),
        # Saturday; Monday 23 November is a holiday (勤労感謝の日).
        (jst(2026, 11, 21, 10), "送信時間帯（9:00–18:00 JST）の外のため未送信。次回: 11/24 09:00"),
    ],
)
def test_a_closed_window_is_said_in_words_with_the_next_opening(moment: datetime, note: str) -> None:
    assert closed_window_note(moment, NOTICE) == note


def test_the_closed_window_note_shows_a_configured_window() -> None:
    late = NoticeSettings(window_start=time(10, 30), window_end=time(20, 0))
    assert closed_window_note(jst(2026, 12, 1, 21), late) == (
        "送信時間帯（10:30–20:00 JST）の外のため未送信。次回: 12/02 10:30")
