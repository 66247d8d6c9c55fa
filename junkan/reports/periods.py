"""Report periods: a month, a quarter or any range of local dates, with boundaries at midnight in the
business time zone (settings.business.timezone), converted to UTC instants for the queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from junkan.config import Settings


@dataclass(frozen=True, slots=True)
class Period:
    #: Local dates, both inclusive.
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) as UTC instants: local midnight of the first day and of the day after the last."""
        tz = ZoneInfo(timezone)
        lo = datetime.combine(self.start, datetime.min.time(), tz)
        hi = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tz)
        return lo.astimezone(UTC), hi.astimezone(UTC)

    @property
    def label(self) -> str:
        """"2026-10" for a calendar month, "2026-Q4" for a quarter, "2026-10-01_2026-10-15" otherwise."""
        if self == month(self.start.year, self.start.month):
            return f"{self.start:%Y-%m}"
        q = (self.start.month - 1) // 3 + 1
        if self.start.month % 3 == 1 and self == quarter(self.start.year, q):
            return f"{self.start.year}-Q{q}"
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def months(self) -> list[Period]:
        """The calendar months this period touches, each whole."""
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(month(y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def previous(self) -> Period:
        """The period of the same shape just before: the previous month for a month, else same length."""
        if self.label.count("-") == 1 and "Q" not in self.label:
            first = self.start - timedelta(days=1)
            return month(first.year, first.month)
        length = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=length), self.start - timedelta(days=1))


def month(year: int, month_: int) -> Period:
    first = date(year, month_, 1)
    nxt = date(year + (month_ == 12), month_ % 12 + 1, 1)
    return Period(first, nxt - timedelta(days=1))


def quarter(year: int, q: int) -> Period:
    if q not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1–4, not {q}")
    first = month(year, 3 * q - 2)
    return Period(first.start, month(year, 3 * q).end)


def previous_month(today: date) -> Period:
    last = today.replace(day=1) - timedelta(days=1)
    return month(last.year, last.month)


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)


def parse_period(value: str) -> Period:
    """"2026-10" (a month), "2026-Q4" (a quarter) or "2026-10-01..2026-10-15" (a range)."""
    value = value.strip()
    if m := _MONTH.match(value):
        return month(int(m.group(1)), int(m.group(2)))
    if m := _QUARTER.match(value):
        return quarter(int(m.group(1)), int(m.group(2)))
    if ".." in value:
        lo, hi = value.split("..", 1)
        return Period(date.fromisoformat(lo), date.fromisoformat(hi))
    raise ValueError(f"not a period: {value!r} (expected YYYY-MM, YYYY-Qn or YYYY-MM-DD..YYYY-MM-DD)")


def business_timezone(settings: Settings) -> str:
    """The business time zone's name: the one setting every report date and time is written in."""
    return settings.business.timezone


def business_zone(timezone: str) -> ZoneInfo:
    """The business time zone as a zone (its name from `business_timezone`)."""
    return ZoneInfo(timezone)


def local_midnight(day: date, timezone: str) -> datetime:
    """The first instant of a local day, in UTC."""
    return datetime.combine(day, datetime.min.time(), business_zone(timezone)).astimezone(UTC)
