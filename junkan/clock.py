"""The moment a run judges by: now, or the end of a past local day when an analyst re-runs that day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo


def reference_time(as_of: date | None, tz: tzinfo, now: datetime) -> datetime:
    """The end of `as_of` in `tz` (as UTC), never later than `now`; `now` itself when `as_of` is None."""
    if as_of is None:
        return now
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0, 0), tzinfo=tz)
    return min(end_of_day.astimezone(UTC), now)
