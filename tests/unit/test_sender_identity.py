"""From display name, the signature's desk address and the Date header, from the settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from junkan.config import Settings
from junkan.mail.sender_identity import date_header, from_display_name, recruiting_contact


def _settings(**values: object) -> Settings:
    return Settings(**values, _env_file=None)  # type: ignore[arg-type]


def test_the_from_name_is_company_and_desk_unless_configured() -> None:
    assert from_display_name(_settings()) == "株式会社サンプル 採用担当"
    assert from_display_name(_settings(sender={"company_name": "株式会社ジュンカン",
                                               "recruiting_contact": {"name": "人事部 採用チーム"}})) \
        == "株式会社ジュンカン 人事部 採用チーム"
    # A configured name is one header-safe line.
    assert from_display_name(_settings(mail={"from_name": "ジュンカン採用\r\nBcc: x"})) \
        == "ジュンカン採用 Bcc: x"


@pytest.mark.parametrize(("values", "expected"), [
    ({}, "recruit@example.co.jp"),
    ({"mail": {"reply_to": "desk@junkan.example"}}, "desk@junkan.example"),
    ({"mail": {"reply_to": "desk@junkan.example"},
      "sender": {"recruiting_contact": {"email": "saiyo@junkan.example"}}}, "saiyo@junkan.example"),
])
def test_the_desk_address_is_its_own_then_reply_to_then_from(values: dict[str, object],
                                                             expected: str) -> None:
    desk = recruiting_contact(_settings(**values))
    assert desk.email == expected
    assert desk.email != _settings().sender.contact_email  # never the privacy address


def test_the_date_header_is_in_the_notice_time_zone() -> None:
    moment = datetime(2026, 11, 18, 0, 30, tzinfo=UTC)
    assert date_header(moment, "Asia/Tokyo") == "Wed, 18 Nov 2026 09:30:00 +0900"
    with pytest.raises(ValueError, match="timezone-aware"):
        date_header(datetime(2026, 11, 18), "Asia/Tokyo")
