"""SendGrid signed event webhook: ECDSA P-256 over `timestamp + raw body`, plus a freshness window."""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable

from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

SIGNATURE_HEADER = EventWebhookHeader.SIGNATURE  # X-Twilio-Email-Event-Webhook-Signature
TIMESTAMP_HEADER = EventWebhookHeader.TIMESTAMP  # X-Twilio-Email-Event-Webhook-Timestamp


def normalize_public_key(key: str) -> str:
    """The base64 DER body SendGrid shows, also accepted with PEM armour or line breaks around it."""
    lines = [ln.strip() for ln in key.strip().splitlines()]
    return "".join(ln for ln in lines if ln and not ln.startswith("-----"))


class WebhookVerifier:
    def __init__(self, public_key: str, *, max_age_s: int, clock: Callable[[], float] = time.time) -> None:
        # Loading the key here makes a mistyped key fail at start-up rather than on the first batch.
        self._webhook = EventWebhook(normalize_public_key(public_key))
        self.max_age_s = max_age_s
        self._clock = clock

    def verify(self, body: bytes, signature: str | None, timestamp: str | None) -> bool:
        """True only for a valid signature over a timestamp within `max_age_s` of now (either side)."""
        if not signature or not timestamp or not timestamp.strip().isdigit():
            return False
        if abs(self._clock() - int(timestamp)) > self.max_age_s:
            return False
        try:
            payload = body.decode("utf-8")
            return bool(self._webhook.verify_signature(payload, signature, timestamp))
        except (UnicodeDecodeError, binascii.Error, ValueError):
            # Undecodable body or a signature that is not base64 DER: a forgery as far as we are concerned.
            return False
