"""Business days and the sending window (Japan): when a notice is due, and whether it may go out now.

A business day is a weekday that is neither a Japanese public holiday (the `holidays` package, which
knows 振替休日 and 国民の休日) nor one of the company's extra closing days, by default 年末年始
(Dec 31 – Jan 3). Datetimes must be timezone-aware: a naive value is ambiguous (UTC from a database?
local time from a spreadsheet?) and is rejected rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from junkan.config import NoticeSettings, month_day

DEFAULT_EXTRA_CLOSED_DAYS: tuple[str, ...] = tuple(NoticeSettings().extra_closed_days)


@cache
def _public_holidays(year: int) -> frozenset[date]:
    # A frozen per-year set: cheap lookups, and safe to share between the outbox's worker threads
    # (a live HolidayBase populates itself lazily on lookup).
    return frozenset(holidays.country_holidays("JP", years=year).keys())


@cache
def _parse_closed_days(days: tuple[str, ...]) -> frozenset[tuple[int, int]]:
    return frozenset(month_day(raw) for raw in days)


def _closed(extra_closed_days: Iterable[str] | None) -> frozenset[tuple[int, int]]:
    days = DEFAULT_EXTRA_CLOSED_DAYS if extra_closed_days is None else tuple(extra_closed_days)
    return _parse_closed_days(days)


def is_public_holiday(d: date) -> bool:
    return d in _public_holidays(d.year)


def is_business_day(d: date, *, extra_closed_days: Iterable[str] | None = None) -> bool:
    """Mon–Fri, not a Japanese public holiday, not an extra closing day (default: Dec 31 – Jan 3)."""
    if isinstance(d, datetime):
        raise TypeError("is_business_day takes a date; convert the datetime to local time first")
    if d.weekday() >= 5 or is_public_holiday(d):
        return False
    return (d.month, d.day) not in _closed(extra_closed_days)


def add_business_days(d: date, n: int, *, extra_closed_days: Iterable[str] | None = None) -> date:
    """The n-th business day after `d` (before it when n < 0); `d` itself for n == 0."""
    if isinstance(d, datetime):
        raise TypeError("add_business_days takes a date; convert the datetime to local time first")
    closed = tuple(DEFAULT_EXTRA_CLOSED_DAYS if extra_closed_days is None else extra_closed_days)
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    current = d
    while remaining:
        current += timedelta(days=step)
        if is_business_day(current, extra_closed_days=closed):
            remaining -= 1
    return current


def _zone(settings: NoticeSettings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def _local(moment: datetime, settings: NoticeSettings, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} is a naive datetime; attach a timezone (e.g. UTC) first")
    return moment.astimezone(_zone(settings))


def _check_window(settings: NoticeSettings) -> tuple[time, time]:
    start, end = settings.window_start, settings.window_end
    if not start < end:
        raise ValueError("the sending window must start before it ends on the same day")
    return start, end


def in_send_window(now: datetime, settings: NoticeSettings) -> bool:
    """True on a business day between window_start (inclusive) and window_end (exclusive), local time."""
    start, end = _check_window(settings)
    local = _local(now, settings, "now")
    if not is_business_day(local.date(), extra_closed_days=settings.extra_closed_days):
        return False
    return start <= local.time() < end


def next_window_start(now: datetime, settings: NoticeSettings) -> datetime:
    """The earliest moment at or after `now` when sending is allowed: `now` itself inside the window,
    otherwise the opening of the next window. Aware, in the notice timezone."""
    start, _ = _check_window(settings)
    zone = _zone(settings)
    local = _local(now, settings, "now")
    if in_send_window(local, settings):
        return local
    day = local.date()
    if not (is_business_day(day, extra_closed_days=settings.extra_closed_days) and local.time() < start):
        day = add_business_days(day, 1, extra_closed_days=settings.extra_closed_days)
    return datetime.combine(day, start, tzinfo=zone)


def due_at(decided_at: datetime, settings: NoticeSettings) -> datetime:
    """When a notice for a decision becomes due: the opening of the sending window on the N-th business
    day after the decision day (local time), and never before the decision itself. Aware, local tz."""
    start, _ = _check_window(settings)
    if settings.delay_business_days < 0:
        raise ValueError("delay_business_days must not be negative")
    local = _local(decided_at, settings, "decided_at")
    day = add_business_days(
        local.date(), settings.delay_business_days, extra_closed_days=settings.extra_closed_days
    )
    candidate = max(datetime.combine(day, start, tzinfo=_zone(settings)), local)
    return next_window_start(candidate, settings)


def closed_window_note(now: datetime, settings: NoticeSettings) -> str:
    """The sentence an operator reads when a run sent nothing because the sending window is closed."""
    start, end = _check_window(settings)
    opens = next_window_start(now, settings)
    return (f"送信時間帯（{start.hour}:{start:%M}–{end.hour}:{end:%M} {opens:%Z}）の外のため未送信。"
            f"次回: {opens:%m/%d %H:%M}")
