"""What a stored value may not be: text with control characters, and dates no hiring decision can have.

Control characters: PostgreSQL refuses NUL in text and `\\u0000` in JSONB outright (one such cell used to
fail a whole COPY), an unpaired surrogate cannot be encoded as UTF-8 at all, and the other C0/C1
controls are invisible corruption that would end up in a mail header or a report. Normalisation has
already turned the whitespace controls (tab, newline, \\x1c-\\x1f …) into spaces, so what is left in a
normalised field is never meant: the record is quarantined, on both databases alike, rather than
guessed at. The raw payload is kept for the operator, so there only what cannot be stored at all
(NUL, unpaired surrogates) is replaced by U+FFFD.

Dates: a record dated before 1990 or after the run's clock plus a small skew, or decided before it was
made, is quarantined as implausible, whatever the adapter. A date in the far future would otherwise
also move the source's watermark past every later change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from junkan.config import DEFAULT_BUSINESS_TIMEZONE

#: Left in normalised text: C0 controls that are not whitespace, DEL, C1 controls, unpaired surrogates.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")
#: What no text or JSON column of either database can hold.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"

#: Earliest plausible year of an application, decision or update (no ATS export goes back further).
EARLIEST_YEAR = 1990
#: How far past the run's clock a date may lie (clock skew, a day-only date in a zone ahead of ours).
DEFAULT_FUTURE_SKEW = timedelta(days=1)
#: A decision may precede the application by less than this: day-only dates meet timestamps.
DATE_GRANULARITY = timedelta(days=1)


def zone(name: str | tzinfo | None) -> tzinfo:
    """The business time zone: the given one, or the default of the `business.timezone` setting."""
    if name is None:
        name = DEFAULT_BUSINESS_TIMEZONE
    return ZoneInfo(name) if isinstance(name, str) else name


def control_character(text: str) -> str | None:
    """`U+0000` for the first control character or unpaired surrogate in `text`, None when clean."""
    if text.isprintable():  # a C loop, several times faster than the regex: the common case
        return None
    found = _CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def has_unstorable(text: str) -> bool:
    """Whether `text` holds NUL or an unpaired surrogate (checked without the regex: the common case)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def storable(text: str) -> str:
    """`text` with NUL and unpaired surrogates replaced by U+FFFD (for raw payloads and ids we keep)."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def _span(value: timedelta) -> str:
    if value % timedelta(days=1) == timedelta(0):
        days = value // timedelta(days=1)
        return f"{days} day" + ("s" if days != 1 else "")
    hours = value / timedelta(hours=1)
    return f"{hours:g} hours"


@dataclass(frozen=True, slots=True)
class DateBounds:
    """The window plausible dates lie in, fixed once per run."""

    earliest: datetime
    latest: datetime
    skew: timedelta

    @classmethod
    def around(cls, now: datetime, zone: tzinfo, skew: timedelta = DEFAULT_FUTURE_SKEW) -> DateBounds:
        """1 January 1990 in the business zone up to `now + skew` (both in UTC: the records' dates are,
        and comparing within one zone is the fast case)."""
        if skew < timedelta(0):
            raise ValueError("the future skew must not be negative")
        return cls(earliest=datetime(EARLIEST_YEAR, 1, 1, tzinfo=zone).astimezone(UTC),
                   latest=(now + skew).astimezone(UTC), skew=skew)

    def problem(self, name: str, value: datetime) -> str | None:
        """Why the date in field `name` is implausible (the field and the bound, never the value)."""
        if value < self.earliest:
            return f"implausible date in field {name}: before {EARLIEST_YEAR}"
        if value > self.latest:
            return (f"implausible date in field {name}: in the future (later than the run's clock "
                    f"plus {_span(self.skew)})")
        return None

    def problems(self, applied_at: datetime | None, decided_at: datetime | None,
                 updated_at: datetime | None) -> list[str]:
        """Readable reasons (field names and bounds only, never the value) for implausible dates."""
        earliest, latest = self.earliest, self.latest
        # The common case in a few comparisons; this runs for every record.
        if (applied_at is None or earliest <= applied_at <= latest) and \
                (decided_at is None or earliest <= decided_at <= latest) and \
                (updated_at is None or earliest <= updated_at <= latest) and \
                (applied_at is None or decided_at is None or decided_at >= applied_at
                 or decided_at >= applied_at - DATE_GRANULARITY):
            return []
        found: list[str] = []
        dated = (("applied_at", applied_at), ("decided_at", decided_at), ("updated_at", updated_at))
        for name, value in dated:
            if value is not None and (problem := self.problem(name, value)) is not None:
                found.append(problem)
        if applied_at is not None and decided_at is not None and decided_at < applied_at - DATE_GRANULARITY:
            found.append("implausible dates: the decision (decided_at) precedes the application (applied_at)")
        return found
