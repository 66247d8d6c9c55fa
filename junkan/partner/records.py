"""The protocol every partner adapter implements, the records it yields, and the shared value parsing.

Adapters only parse. Whether a code is genuine, whose it is and whether it counts is decided by
`junkan.partner.attribution` and `junkan.partner.ledger`, the same for every adapter.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal, Protocol

from junkan.http import RetryableError
from junkan.unparsed import Unparsed

ReferralStatus = Literal["registered", "interviewed", "placed"]
STATUSES: tuple[str, ...] = ("registered", "interviewed", "placed")

#: Status words seen in partner reports, mapped onto the contract's statuses (NFKC + case-folded keys).
STATUS_ALIASES: dict[str, str] = {
    "registered": "registered",
    "registration": "registered",
    "登録": "registered",
    "登録済": "registered",
    "登録済み": "registered",
    "interviewed": "interviewed",
    "interview": "interviewed",
    "面談": "interviewed",
    "面談済": "interviewed",
    "面談済み": "interviewed",
    "placed": "placed",
    "placement": "placed",
    "hired": "placed",
    "入社": "placed",
    "入社決定": "placed",
    "決定": "placed",
}

_DATETIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d")


class PartnerError(RetryableError):
    """A partner source failed as a whole (unreachable, bad credentials, unreadable report).

    `retryable` tells the task's retry condition whether trying the whole sync later could help.
    """


@dataclass(frozen=True, slots=True)
class ReferralRecord:
    """One status report for one referral code, parsed. The code is normalised but not yet verified."""

    ref_code: str
    status: str
    occurred_at: datetime
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BadReferral(Unparsed):
    """An item the adapter could not parse; it is quarantined with this reason and never counted."""

    ref_code: str | None = None


class PartnerSource(Protocol):
    #: "http" or "csv": recorded on the referrals it brings in.
    kind: str

    def fetch(self, since: datetime | None) -> Iterator[ReferralRecord | BadReferral]:
        """Every item reported since `since` (a source may return more; re-imports are harmless)."""
        ...


def normalise_code(value: object) -> str | None:
    """Codes are lowercase base32; partners may upper-case them or add spaces / full-width letters."""
    if not isinstance(value, str):
        return None
    code = unicodedata.normalize("NFKC", value).strip().lower()
    return code or None


def parse_status(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    key = unicodedata.normalize("NFKC", value).strip().casefold()
    return STATUS_ALIASES.get(key)


def parse_occurred_at(value: object, tz: tzinfo) -> datetime | None:
    """ISO 8601 (with or without offset), "YYYY/MM/DD HH:MM[:SS]" or a bare date; naive means `tz`."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not text:
            return None
        parsed_or_none = _parse_text(text)
        if parsed_or_none is None:
            return None
        parsed = parsed_or_none
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # 0001-01-01 in a zone ahead of UTC (or 9999-12-31 behind it) has no UTC datetime. Kept at the
        # edge it lies beyond, the plausibility check of attribution quarantines the line with its reason.
        return datetime.min.replace(tzinfo=UTC) if parsed.year == 1 else datetime.max.replace(tzinfo=UTC)


def _parse_text(text: str) -> datetime | None:
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_item(item: object, tz: tzinfo, *, where: str) -> ReferralRecord | BadReferral:
    """One reported item → a record, or a BadReferral saying exactly what is wrong with it.

    Only the three contract fields are kept in `raw`: a partner's extra columns could carry personal data.
    """
    if not isinstance(item, dict):
        kind = type(item).__name__
        return BadReferral(f"{where}: item is {kind}, not an object", {"item_type": kind})
    raw = {k: _jsonable(item.get(k)) for k in ("ref_code", "status", "occurred_at") if k in item}
    code = normalise_code(item.get("ref_code"))
    if code is None:
        return BadReferral(f"{where}: ref_code missing or empty", raw)
    status = parse_status(item.get("status"))
    if status is None:
        shown, expected = _shown(item.get("status")), ", ".join(STATUSES)
        return BadReferral(f"{where}: unknown status {shown} (expected {expected})", raw, code)
    occurred = parse_occurred_at(item.get("occurred_at"), tz)
    if occurred is None:
        shown = _shown(item.get("occurred_at"))
        return BadReferral(f"{where}: occurred_at missing or not a date/time: {shown}", raw, code)
    return ReferralRecord(ref_code=code, status=status, occurred_at=occurred, raw=raw)


def _shown(value: object) -> str:
    """A reported value for a quarantine reason, bounded so a garbage field cannot flood the reason."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
