"""Small value parsers shared by the ATS adapters (timestamps, ids, names)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def parse_iso_datetime(value: Any, *, field: str) -> datetime | None:
    """An ISO 8601 timestamp from an API as an aware datetime (UTC when the zone is missing).

    Raises ValueError naming the field when the value is present but unreadable.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected an ISO 8601 timestamp, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{field}: cannot parse timestamp {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def from_epoch_ms(value: Any, *, field: str) -> datetime | None:
    """Epoch milliseconds (Lever's format) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field}: expected epoch milliseconds, got {type(value).__name__}")
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)
    except OverflowError:
        raise ValueError(f"{field}: epoch milliseconds out of range: {value}") from None


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (how SQLite hands back stored watermarks)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_iso_ms_z(value: datetime) -> str:
    """`2026-11-01T00:00:00.000Z`, the form Greenhouse's date filters take."""
    utc = as_utc(value)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def to_epoch_ms(value: datetime) -> int:
    return int(as_utc(value).timestamp() * 1000)


def opt_id(value: Any) -> str | None:
    """An id from JSON (int or str) as a string; None/empty/bool stay None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def display_name(first: Any, last: Any) -> str | None:
    """Japanese names read family name first (山田 太郎); Western names first name first."""
    parts_first = first.strip() if isinstance(first, str) else ""
    parts_last = last.strip() if isinstance(last, str) else ""
    if not parts_first and not parts_last:
        return None
    if _CJK_RE.search(parts_first + parts_last):
        return " ".join(p for p in (parts_last, parts_first) if p)
    return " ".join(p for p in (parts_first, parts_last) if p)
