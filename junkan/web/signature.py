"""SendGrid signed event webhook: ECDSA P-256 over `timestamp + raw body`, plus a freshness window.

Verification has two steps so the app can refuse a forged request before it reads any of the body:
`check_headers` looks only at the two headers (shape, freshness), `verify_body` checks the signature.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

SIGNATURE_HEADER = EventWebhookHeader.SIGNATURE  # X-Twilio-Email-Event-Webhook-Signature
TIMESTAMP_HEADER = EventWebhookHeader.TIMESTAMP  # X-Twilio-Email-Event-Webhook-Timestamp

#: Unix seconds in ASCII digits only. `str.isdigit()` also accepts '²' or '٣', which int() then refuses or
#: reads as a digit; 12 digits reach the year 33658, and a longer value is not a time we could accept.
_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
#: A DER-encoded ECDSA P-256 signature: SEQUENCE of two INTEGERs of at most 33 bytes each (72 bytes in all),
#: in base64 at most 96 characters. Anything outside these bounds is not a signature SendGrid made.
_MIN_SIGNATURE_BYTES, _MAX_SIGNATURE_BYTES = 8, 72
_MAX_SIGNATURE_CHARS = 96
_DER_SEQUENCE = 0x30


def normalize_public_key(key: str) -> str:
    """The base64 DER body SendGrid shows, also accepted with PEM armour or line breaks around it."""
    lines = [ln.strip() for ln in key.strip().splitlines()]
    return "".join(ln for ln in lines if ln and not ln.startswith("-----"))


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The two signature headers, checked for shape and freshness but not yet against a body."""

    signature: str
    timestamp: str


class WebhookVerifier:
    def __init__(self, public_key: str, *, max_age_s: int, clock: Callable[[], float] = time.time) -> None:
        # Loading the key here makes a mistyped key fail at start-up rather than on the first batch.
        self._webhook = EventWebhook(normalize_public_key(public_key))
        self.max_age_s = max_age_s
        self._clock = clock

    def check_headers(self, signature: str | None, timestamp: str | None) -> SignedHeaders | None:
        """The headers if they could belong to a genuine request now; None for anything else.

        Cheap and body-free: a timestamp of ASCII digits within `max_age_s` of now (either side), and a
        signature that is strict base64 of a plausible DER signature.
        """
        if not signature or not timestamp or not _TIMESTAMP_RE.fullmatch(timestamp):
            return None
        if abs(self._clock() - int(timestamp)) > self.max_age_s:
            return None
        if len(signature) > _MAX_SIGNATURE_CHARS:
            return None
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):  # ValueError: non-ASCII text
            return None
        if not _MIN_SIGNATURE_BYTES <= len(raw) <= _MAX_SIGNATURE_BYTES or raw[0] != _DER_SEQUENCE:
            return None
        return SignedHeaders(signature=signature, timestamp=timestamp)

    def verify_body(self, body: bytes, headers: SignedHeaders) -> bool:
        """True only for a valid signature over `headers.timestamp + body`."""
        try:
            payload = body.decode("utf-8")
            return bool(self._webhook.verify_signature(payload, headers.signature, headers.timestamp))
        except (UnicodeDecodeError, binascii.Error, ValueError):
            # Undecodable body or a signature that is not DER: a forgery as far as we are concerned.
            return False

    def verify(self, body: bytes, signature: str | None, timestamp: str | None) -> bool:
        """Both steps at once: plausible, fresh headers and a valid signature over the body."""
        headers = self.check_headers(signature, timestamp)
        return headers is not None and self.verify_body(body, headers)
