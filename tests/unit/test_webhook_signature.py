"""The webhook verifier on its own: header shapes are judged before any body, and nothing odd raises."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from junkan.web.signature import WebhookVerifier
from tests.integration._engagement_data import WebhookKeys

NOW = 1_795_000_000
KEYS = WebhookKeys()
BODY = b'[{"event":"delivered","timestamp":1795000000}]'


def verifier() -> WebhookVerifier:
    return WebhookVerifier(KEYS.public_key, max_age_s=600, clock=lambda: float(NOW))


def good() -> tuple[str, str]:
    headers = KEYS.sign(BODY, NOW)
    return (headers["X-Twilio-Email-Event-Webhook-Signature"],
            headers["X-Twilio-Email-Event-Webhook-Timestamp"])


def test_a_genuine_request_passes_both_steps() -> None:
    signature, stamp = good()
    signed = verifier().check_headers(signature, stamp)
    assert signed is not None
    assert verifier().verify_body(BODY, signed)
    assert verifier().verify(BODY, signature, stamp)
    assert not verifier().verify(BODY + b" ", signature, stamp)


@pytest.mark.parametrize("stamp", [
    "²",  # passes str.isdigit(), then int() refuses it
    "1" * 5000,  # int() refuses more than 4,300 digits
    "1" * 13,  # converts, but is no time we could accept
    "١٧٩٥٠٠٠٠٠٠",  # Arabic-Indic digits: int() reads them as the right time
    "１７９５０００００００",  # full-width digits, likewise
    "-1795000000", "+1795000000", " 1795000000", "1795000000 ", "1795000000\n", "", "1.795e9", "0x6afc",
    "1795000000" + "\x00", str(NOW - 601), str(NOW + 601), "0",
])
def test_implausible_timestamps_are_refused_without_raising(stamp: str) -> None:
    signature, _ = good()
    assert verifier().check_headers(signature, stamp) is None
    assert verifier().verify(BODY, signature, stamp) is False


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize("signature", [
    "not base64!", "AAAA====", "A", _b64(b"\x30" * 7), _b64(b"\x30" * 73),  # lengths no DER signature has
    _b64(b"\x02" * 70),  # right length, not a DER SEQUENCE
    _b64(b"\x30\x06\x02\x01\x01\x02\x01\x01"),  # DER-shaped, not a valid signature
    "ＭＥＵＣ", "MEUC\x00", "A" * 10_000, " " + "A" * 92,
])
def test_malformed_signatures_are_refused_without_raising(signature: str) -> None:
    _, stamp = good()
    assert verifier().verify(BODY, signature, stamp) is False


@settings(max_examples=300, deadline=None)
@given(signature=st.one_of(st.none(), st.text(max_size=120)),
       stamp=st.one_of(st.none(), st.text(max_size=20)), body=st.binary(max_size=64))
def test_arbitrary_headers_and_bodies_only_ever_give_false(signature: str | None, stamp: str | None,
                                                           body: bytes) -> None:
    assert verifier().verify(body, signature, stamp) is False
