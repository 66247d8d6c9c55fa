"""The contract between the outbox and a mail provider.

The outbox hands over one rendered `OutgoingMail` at a time, from a bounded pool of worker threads, and
acts on the `SendResult`:

- `accepted`: the provider took the mail; store `provider_message_id`.
- `retry`:    a transient problem outlasted the backend's own retries; leave the message pending.
- `failed`:   the provider refused this message itself (an invalid address or field, too large, a hard
              bounce); don't retry it.
- `fatal`:    the provider refuses us, not the message (bad key, missing permission, a refused login, a
              TLS failure, a wrong host, our sender address): stop the batch, every further message would
              fail the same way. The message goes back to `pending` with the error recorded and is sent
              by the first run after the fix.
- `unknown`:  the mail was handed over completely but no answer came back (a read timeout, a connection
              reset after the request or the SMTP DATA was written). The provider may have accepted it, and
              neither SendGrid nor SMTP has an idempotency key, so a retry could deliver it twice: the
              outbox records it as `unknown` for an operator (or later webhook events) to settle.

Only outcomes that provably did not hand the mail over (refused or timed-out connects, DNS failures, a
request that could not be written completely, 5xx / 429 / SMTP 4xx answers) are ever retried, after a
jittered exponential wait (`junkan.backoff.jittered_backoff`) so that workers failing together do not
retry in lockstep.

`error` never contains personal data: recipient addresses are scrubbed out of provider messages.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from junkan.config import MailSettings
from junkan.http import RetryPolicy

SendStatus = Literal["accepted", "retry", "failed", "fatal", "unknown"]

_EMAIL_RE = re.compile(r"[^\s<>\"'(),;:@\[\]]+@[^\s<>\"'(),;:@\[\]]+")
_ERROR_MAX_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with the mail (the monthly report's PDF)."""

    #: ASCII, no path: what the reader's mail client saves it as.
    filename: str
    content: bytes = field(repr=False)
    mime_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    #: Opaque outbox id; it travels to the provider (custom_args, Message-ID) and comes back in events.
    message_id: str
    to_email: str = field(repr=False)
    to_name: str | None = field(repr=False)
    subject: str = field(repr=False)
    text: str = field(repr=False)
    html: str | None = field(repr=False)
    kind: str
    template_name: str
    unsubscribe_url: str | None = field(default=None, repr=False)
    #: RFC 8058 one-click target; falls back to `unsubscribe_url` in the List-Unsubscribe header.
    unsubscribe_post_url: str | None = field(default=None, repr=False)
    #: Advertising mail (partner section, re-contact) under 特定電子メール法.
    advertising: bool = False
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    provider_message_id: str | None = None
    error: str | None = None
    #: Provider calls made for this mail (1 when the first call settled it).
    attempts: int = 1
    #: Short, stable cause for the outbox's `last_error_code` ("read_timeout", "connection_lost" …);
    #: derived from the error text ("http_503") or the status when None.
    code: str | None = None


@runtime_checkable
class MailBackend(Protocol):
    name: str

    def send(self, mail: OutgoingMail, *, dry_run: bool) -> SendResult:
        """Deliver one mail. Thread-safe. Never raises for provider errors: they become a SendResult."""
        ...

    def close(self) -> None: ...


def retry_policy(mail: MailSettings) -> RetryPolicy:
    """The provider retries of the mail settings, the same for SendGrid and SMTP: how often a transient
    failure is tried again, the backoff between tries, and the longest wait for one rate-limit reset."""
    return RetryPolicy(max_retries=mail.max_retries, backoff_base_s=mail.backoff_base_s,
                       backoff_max_s=mail.backoff_max_s, max_wait_s=mail.rate_limit_max_wait_s)


#: The retries of a backend built without settings: the settings' defaults.
DEFAULT_RETRY = retry_policy(MailSettings())


@dataclass(frozen=True, slots=True)
class Retrying:
    """How a backend tries one mail again after a transient failure: the retry policy, and the sleep and
    random jitter of its waits (tests pass a fake clock's sleep, and a seeded random)."""

    policy: RetryPolicy = DEFAULT_RETRY
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def from_settings(cls, mail: MailSettings, *, sleep: Callable[[float], None] = time.sleep) -> Retrying:
        return cls(retry_policy(mail), sleep=sleep)

    def gives_up(self, failures: int) -> bool:
        """True once a mail has failed more often than the policy tries it again."""
        return failures > self.policy.max_retries

    def backoff(self, failures: int) -> float:
        return self.policy.backoff(failures, self.rng)

    def wait(self, failures: int) -> None:
        """Sleep the jittered backoff before the try after failure number `failures`."""
        self.sleep(self.backoff(failures))


class BackendConfigError(ValueError):
    """The backend cannot be built from the settings (missing key, unknown backend)."""


def scrub_error(text: str | bytes | None) -> str:
    """Provider error text fit for the outbox row and logs: addresses removed, length capped."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = _EMAIL_RE.sub("<redacted>", text).strip()
    return text[:_ERROR_MAX_CHARS]

