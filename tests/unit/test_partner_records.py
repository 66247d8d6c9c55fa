"""Parsing of partner data and the small calendar/contract helpers (no database, no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from junkan.partner.csv_report import decode_report
from junkan.partner.ledger import ContractRule, add_months, month_bounds
from junkan.partner.records import PartnerError, normalise_code, parse_occurred_at, parse_status

JST = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-02T10:00:00Z", datetime(2026, 11, 2, 10, 0, tzinfo=UTC)),
        ("2026-11-02T19:00:00+09:00", datetime(2026, 11, 2, 10, 0, tzinfo=UTC)),
        ("2026-11-02 19:00", datetime(2026, 11, 2, 10, 0, tzinfo=UTC)),  # naive = partner zone (JST)
        ("2026/11/02 19:00:30", datetime(2026, 11, 2, 10, 0, 30, tzinfo=UTC)),
        ("2026/11/02", datetime(2026, 11, 1, 15, 0, tzinfo=UTC)),
        ("２０２６/１１/０２", datetime(2026, 11, 1, 15, 0, tzinfo=UTC)),  # full-width digits
    ],
)
def test_occurred_at_formats(text: str, expected: datetime) -> None:
    assert parse_occurred_at(text, JST) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", None, 12])
def test_unparseable_times_are_refused(text: object) -> None:
    assert parse_occurred_at(text, JST) is None


def test_status_and_code_normalisation() -> None:
    assert parse_status(" Registered ") == "registered"
    assert parse_status("面談") == "interviewed"
    assert parse_status("入社") == "placed"
    assert parse_status("maybe") is None
    assert normalise_code(" ＡＢＣ２３ ") == "abc23"
    assert normalise_code("   ") is None


def test_report_decoding() -> None:
    text = "ref_code,status\nabc,登録\n"
    assert decode_report(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_report(text.encode("cp932")) == text
    with pytest.raises(PartnerError, match="neither UTF-8 nor CP932"):
        decode_report(b"\x81\xff\xfe", name="broken.csv")


def test_months_are_calendar_months_clamped_to_month_end() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 3, 31, tzinfo=UTC), -13) == datetime(2025, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 15, tzinfo=UTC), 2) == datetime(2027, 1, 15, tzinfo=UTC)
    assert month_bounds(date(2026, 12, 9)) == (date(2026, 12, 1), date(2027, 1, 1))


def test_contract_rule_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ContractRule(partner="p", registrations_per_credit=0)
    with pytest.raises(ValueError, match="counted_status"):
        ContractRule(partner="p", counted_status="hired")
