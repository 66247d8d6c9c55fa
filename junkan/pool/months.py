"""Calendar months: the cooldown is "6 months after the rejection" as a person counts them."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo


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
