"""Calendar months: the cooldown is "6 months after the rejection" as a person counts them."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np


def add_months(day: date, months: int) -> date:
    """`day` plus `months` calendar months, clamped to the month's end: 31 Aug + 6 = 28/29 Feb."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def local_day(moment: datetime, timezone: str) -> date:
    """The calendar day of an aware datetime in the company's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def cooldown_over(decided_at: datetime, as_of: date, months: int, timezone: str) -> bool:
    """True from the day exactly `months` calendar months after the decision (that day included)."""
    return as_of >= add_months(local_day(decided_at, timezone), months)


def last_decision_day_past_cooldown(as_of: date, months: int) -> date:
    """The latest decision day whose cooldown is over on `as_of` (`add_months` is monotonic, so every
    earlier day is over too)."""
    day = add_months(as_of, -months)
    while add_months(day + timedelta(days=1), months) <= as_of:
        day += timedelta(days=1)
    while add_months(day, months) > as_of:
        day -= timedelta(days=1)
    return day


def cooldown_over_mask(decided_ts: np.ndarray, as_of: date, months: int, timezone: str) -> np.ndarray:
    """`cooldown_over` for many POSIX timestamps at once (NaN = no decision = not over)."""
    last = last_decision_day_past_cooldown(as_of, months)
    cutoff = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=ZoneInfo(timezone)).timestamp()
    with np.errstate(invalid="ignore"):
        over: np.ndarray = np.nan_to_num(decided_ts, nan=np.inf) < cutoff
    return over
