"""The run's time: one `RunClock` per run, read by every flow and command.

Two times meet in a run, and they are never mixed up:

- the **real clock** (`now()`): when things happen. A mail leaves only inside the sending window of a
  business day of the real clock; leases, Date headers and audit timestamps are real times.
- the **as_of day** (`day`): which work is chosen. `--as-of` re-runs a past day: decisions up to that
  day, renewals and re-contacts due by that day (`due_by()`), retention judged on that day. It never
  moves the moment of sending.

A day in the future is refused (a run cannot choose work that is not due yet); `junkan preview --date`,
whose point is a day to come, asks for `allow_future`. Days outside `EARLIEST_DAY`..`LATEST_DAY` are
refused in one line: no hiring record is older, and far dates only overflow the time-zone arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

#: The earliest day a run, report or preview may name: no ATS export goes back further (ingest's own bound).
EARLIEST_DAY = date(1990, 1, 1)
#: The latest day a preview or report may name.
LATEST_DAY = date(2099, 12, 31)


class DateRefused(ValueError):
    """A day no run may use: its message is the one line the operator reads."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def check_day(day: date, what: str = "date") -> date:
    """`day` itself when Junkan can work with it; DateRefused otherwise."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise DateRefused(f"{what} {day.isoformat()} is out of range: Junkan works with days from "
                          f"{EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}")
    return day


@dataclass(frozen=True)
class RunClock:
    """The time of one run: the real clock, the as_of day, the business time zone.

    `window_end` is the local end of the sending window: a past day's work is what a run late that day
    would have chosen (the last second of its window).
    """

    zone: tzinfo
    window_end: time = time(18, 0)
    as_of: date | None = None
    real: Callable[[], datetime] = field(default=_utc_now, compare=False)

    @classmethod
    def start(cls, zone: str | tzinfo, as_of: date | None = None, *, window_end: time = time(18, 0),
              real: Callable[[], datetime] = _utc_now, allow_future: bool = False) -> RunClock:
        """The clock of a run starting now; DateRefused for a far day, or a future one unless allowed."""
        clock = cls(ZoneInfo(zone) if isinstance(zone, str) else zone, window_end, as_of, real)
        if as_of is not None:
            check_day(as_of, "as_of")
            if not allow_future and clock.is_future(as_of):
                raise DateRefused(
                    f"as_of {as_of.isoformat()} is in the future (today is {clock.today().isoformat()}, "
                    f"{clock.zone}): a run chooses work due by a day that has begun; "
                    "`junkan preview --date` looks ahead")
        return clock

    @classmethod
    def fixed(cls, moment: datetime, zone: str | tzinfo = "Asia/Tokyo", *,
              window_end: time = time(18, 0), as_of: date | None = None) -> RunClock:
        """A clock whose real time stands at `moment` (tests, benchmarks)."""
        if moment.tzinfo is None:
            raise ValueError("a fixed run clock needs a timezone-aware moment")
        return cls(ZoneInfo(zone) if isinstance(zone, str) else zone, window_end, as_of,
                   lambda: moment)

    def in_zone(self, zone: tzinfo) -> RunClock:
        """The same run read in another time zone (a partner's contract days)."""
        return RunClock(zone, self.window_end, self.as_of, self.real)

    def at(self, as_of: date | None) -> RunClock:
        """The same real clock, choosing the work of another day (checks are the caller's)."""
        return RunClock(self.zone, self.window_end, as_of, self.real)

    # -- the real clock -----------------------------------------------------------------------------
    def now(self) -> datetime:
        """The real time, aware UTC: when a mail may leave, leases, Date headers, audit rows."""
        moment = self.real()
        if moment.tzinfo is None:
            raise ValueError("the run clock returned a naive datetime")
        return moment.astimezone(UTC)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def today(self) -> date:
        """The real clock's day in the business time zone."""
        return self.local(self.now()).date()

    def is_future(self, day: date) -> bool:
        return day > self.today()

    # -- the as_of day: which work is chosen --------------------------------------------------------
    @property
    def day(self) -> date:
        """The day the run does the work of: `as_of`, or today."""
        return self.as_of if self.as_of is not None else self.today()

    @property
    def is_rerun(self) -> bool:
        return self.as_of is not None and self.as_of < self.today()

    def due_by(self) -> datetime:
        """Work due up to this moment is chosen: the last second of `as_of`'s sending window, never
        later than the real time (so `--as-of today` does not pick what falls due later today)."""
        now = self.now()
        if self.as_of is None:
            return now
        window_end = datetime.combine(self.as_of, self.window_end, tzinfo=self.zone) - timedelta(seconds=1)
        return min(window_end.astimezone(UTC), now)

    def end_of_day(self) -> datetime:
        """The end of the as_of day (UTC), never later than the real time: what counts and expiries of a
        re-run day are measured against."""
        now = self.now()
        if self.as_of is None:
            return now
        end = datetime.combine(self.as_of + timedelta(days=1), time(0, 0), tzinfo=self.zone)
        return min(end.astimezone(UTC), now)
