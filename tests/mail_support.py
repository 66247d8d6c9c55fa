"""Pieces the mail backend tests share: one rendered notice as the backends receive it, the sender its
headers name, the check that retry waits follow the jittered schedule, and a real-looking sender
identity for live sends."""

from __future__ import annotations

import email
import email.utils
from collections.abc import Sequence
from dataclasses import replace
from email.header import decode_header, make_header
from typing import Any

import pytest

from junkan.config import SenderSettings
from junkan.http import RetryPolicy
from junkan.mail.backends import OutgoingMail
from junkan.mail.backends.base import DEFAULT_RETRY
from junkan.mail.sender_identity import SenderHeaders
from junkan.mail.templates import NoticeContext, PartnerBlock, TemplateStore, render_notice

UNSUB = "https://junkan.example/u/UNSUB-token"
STORE = TemplateStore()
#: The sender the backend tests build their backends with.
SENDER = SenderHeaders(from_email="recruit@junkan.example", from_name="株式会社サンプル 採用担当",
                       unsubscribe_mailto="privacy@junkan.example")


def notice_mail(
    message_id: str = "msg_0001",
    *,
    partner: bool = True,
    job_title: str = "営業職",
    unsubscribe: str = UNSUB,
    **overrides: object,
) -> OutgoingMail:
    """A real rendered rejection notice for 山田 太郎 <taro.yamada@example.com>, with the partner section
    unless `partner=False`, rendered with the `unsubscribe` link (also its `unsubscribe_url`);
    `overrides` then replace OutgoingMail fields."""
    rendered = render_notice(
        STORE,
        NoticeContext(
            kind="rejection",
            sender=SenderSettings(),
            candidate_name="山田 太郎",
            job_title=job_title,
            partner=PartnerBlock("キャリアリレー", "https://junkan.example/r/tok") if partner else None,
            unsubscribe_url=unsubscribe,
        ),
    )
    values: dict[str, object] = {
        "message_id": message_id,
        "to_email": "taro.yamada@example.com",
        "to_name": "山田 太郎",
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "kind": "rejection",
        "template_name": rendered.template_name,
        "unsubscribe_url": unsubscribe,
        "advertising": rendered.advertising,
    }
    values.update(overrides)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def retries(max_retries: int, **policy: Any) -> RetryPolicy:
    """The backends' default retry policy with `max_retries` and any other `policy` field changed."""
    return replace(DEFAULT_RETRY, max_retries=max_retries, **policy)


def assert_backoff(sleeps: Sequence[float], nominal: Sequence[float]) -> None:
    """Each wait lies in [d/2, d] of its nominal exponential step d (equal jitter, junkan.backoff)."""
    assert len(sleeps) == len(nominal), f"waits {list(sleeps)}, expected {len(nominal)}"
    for got, d in zip(sleeps, nominal, strict=True):
        assert d / 2 <= got <= d, f"wait {got} outside [{d / 2}, {d}] (all: {list(sleeps)})"


#: What an operator configures before the first live send (junkan.mail.identity_guard refuses the samples).
LIVE_SENDER: dict[str, Any] = {
    "company_name": "株式会社ジュンカン商事",
    "postal_address": "〒150-0002 東京都渋谷区渋谷2-24-12",
    "contact_email": "privacy@junkan.example",
    "recruiting_contact": {"email": "saiyo@junkan.example", "phone": "03-1234-5678"},
}
LIVE_FROM_EMAIL = "recruit@junkan.example"
LIVE_LINKS: dict[str, Any] = {"secret": "test-link-secret-0123456789abcdef",
                              "public_base_url": "https://junkan.example"}
#: The retention hash key of a live install: not the demo's, and at least 32 bytes.
LIVE_HASH_KEY = "test-retention-hash-key-0123456789abcdef"


def live_identity(mail: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings keyword arguments (sender, links, mail, retention) with a real-looking identity; `mail` is
    merged over the From address, so a test passes its backend settings through here."""
    return {"sender": dict(LIVE_SENDER), "links": dict(LIVE_LINKS),
            "mail": {"from_email": LIVE_FROM_EMAIL, **(mail or {})}, "retention": {"hash_key": LIVE_HASH_KEY}}


def live_identity_vars() -> dict[str, str]:
    """The same identity as JUNKAN_* variables, for tests that build settings from the environment."""
    return {
        "JUNKAN_SENDER__COMPANY_NAME": LIVE_SENDER["company_name"],
        "JUNKAN_SENDER__POSTAL_ADDRESS": LIVE_SENDER["postal_address"],
        "JUNKAN_SENDER__CONTACT_EMAIL": LIVE_SENDER["contact_email"],
        "JUNKAN_SENDER__RECRUITING_CONTACT__EMAIL": LIVE_SENDER["recruiting_contact"]["email"],
        "JUNKAN_SENDER__RECRUITING_CONTACT__PHONE": LIVE_SENDER["recruiting_contact"]["phone"],
        "JUNKAN_MAIL__FROM_EMAIL": LIVE_FROM_EMAIL,
        "JUNKAN_LINKS__SECRET": LIVE_LINKS["secret"],
        "JUNKAN_LINKS__PUBLIC_BASE_URL": LIVE_LINKS["public_base_url"],
        "JUNKAN_RETENTION__HASH_KEY": LIVE_HASH_KEY,
    }


def live_identity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in live_identity_vars().items():
        monkeypatch.setenv(name, value)


def shown_headers(raw: bytes) -> dict[str, str]:
    """From, Reply-To, To, Subject and Date of a raw message as a mail client shows them: RFC 2047
    encoded words decoded the way RFC 2047 says (whitespace between adjacent encoded words dropped).

    Python's own `policy.default` parser puts a space between two adjacent encoded words of a display
    name (株式会社ジュンカン商事 採用担 当) when the encoder split a long name, which no mail client does."""
    parsed = email.message_from_bytes(raw)  # compat32: the header values exactly as sent
    out: dict[str, str] = {}
    for name in ("From", "Reply-To", "To", "Subject", "Date"):
        value = parsed[name]
        if value is not None:
            out[name] = str(make_header(decode_header(str(value))))
    return out


def shown_address(value: str) -> tuple[str, str]:
    """(display name, address) of a decoded From / Reply-To value."""
    return email.utils.parseaddr(value)
