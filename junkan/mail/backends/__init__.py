"""Mail delivery backends (SendGrid, SMTP, .eml files) behind one small protocol, see `base`."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from junkan.config import Settings
from junkan.http import Throttle
from junkan.mail.backends.base import (
    Attachment,
    BackendConfigError,
    MailBackend,
    OutgoingMail,
    SendResult,
    SendStatus,
)

__all__ = [
    "Attachment",
    "BackendConfigError",
    "MailBackend",
    "OutgoingMail",
    "SendResult",
    "SendStatus",
    "build_backend",
]


def build_backend(settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                  throttle: Throttle | None = None,
                  clock: Callable[[], datetime] | None = None) -> MailBackend:
    """The backend chosen by `JUNKAN_MAIL__BACKEND`. `sleep` is used for retry waits (tests record it).

    `clock` is the run's real clock, which dates the `.eml` files and SMTP messages (the demo's replayed
    days); SendGrid dates a mail by its own request time.

    `throttle` runs before every SendGrid request (the provider-wide rate limit); the file and SMTP
    backends make no API requests and ignore it.
    """
    kind = settings.mail.backend
    if kind == "file":
        from junkan.mail.backends.file import FileBackend

        return FileBackend.from_settings(settings, clock=clock)
    if kind == "smtp":
        from junkan.mail.backends.smtp import SmtpBackend

        return SmtpBackend.from_settings(settings, sleep=sleep, clock=clock)
    if kind == "sendgrid":
        from junkan.mail.backends.sendgrid import SendGridBackend

        return SendGridBackend.from_settings(settings, sleep=sleep, throttle=throttle)
    raise BackendConfigError(f"unknown mail backend {kind!r}")
