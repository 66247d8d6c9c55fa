"""SMTP backend: stdlib smtplib with STARTTLS, implicit TLS ("ssl") or plain, and login when configured.

Each worker thread keeps its own connection and reuses it for the next mail (one TLS handshake and login
per thread, not per mail); a connection the server dropped is reopened. Outcomes by SMTP reply:
4xx -> retried with jittered backoff, then `retry`; 5xx for the recipient or the data -> `failed`.
Whatever is about us rather than the message is `fatal` (the run stops, the message goes back to
pending), because every further message would meet the same refusal: a refused login (535, 530
"authentication required"), STARTTLS missing or failing, an untrusted certificate, a 5xx to the
greeting, EHLO or STARTTLS, and a refused sender.

Exactly once: once the message and its terminating "." are written after DATA, the relay may queue it
even if its reply never reaches us (timeout, dropped connection). SMTP has no idempotency key, so that
outcome is `unknown`, never retried; the connections below record when the data went out. Failures before
that point (connect, TLS, MAIL FROM, RCPT TO, the DATA command itself) cannot have queued the mail and are
retried.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from junkan.config import MailSettings, Settings
from junkan.mail.backends.base import OutgoingMail, Retrying, SendResult, scrub_error
from junkan.mail.backends.mime import build_message, message_id_header
from junkan.mail.sender_identity import SenderHeaders

Security = Literal["starttls", "ssl", "none"]


class _Fatal(Exception):
    pass


#: "Authentication required": the relay wants a login we did not give, whatever the message.
_AUTH_REQUIRED = 530
#: TLS errors that are the connection breaking (retried like a reset), not a TLS configuration problem.
_TLS_TRANSIENT = (ssl.SSLEOFError, ssl.SSLZeroReturnError)


_LEADING_DOT = re.compile(rb"(?m)^\.")
_BARE_EOL = re.compile(r"(?:\r\n|\n|\r(?!\n))")


class _TrackedSMTP(smtplib.SMTP):
    """`SMTP.data` (same wire behaviour as the stdlib's) that records when the message has gone out whole."""

    #: True once the message and its final "." were written: from then on a missing reply means "maybe
    #: queued". Reset by the backend before every message.
    data_sent = False

    def data(self, msg: bytes | str) -> tuple[int, bytes]:  # type: ignore[override]
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = _BARE_EOL.sub("\r\n", msg).encode("ascii")
        payload = _LEADING_DOT.sub(b"..", msg)  # RFC 5321 dot-stuffing
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        self.send(payload + b".\r\n")
        self.data_sent = True
        return self.getreply()


class _TrackedSMTPSSL(_TrackedSMTP, smtplib.SMTP_SSL):
    pass


def _no_reply(exc: BaseException, attempts: int) -> SendResult:
    """The relay has the whole message and may have queued it; only its reply is missing."""
    return SendResult(
        "unknown",
        error=scrub_error(
            f"message data sent, no reply from the SMTP server ({type(exc).__name__}: {exc}); it may have "
            "been queued, so it is not retried. Check the relay's log for the Message-ID, then "
            "`junkan outbox resolve <id> --sent` or `--resend`"
        ),
        attempts=attempts,
        code="no_reply_after_data",
    )


def _reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", errors="replace") if isinstance(message, bytes) else str(message)
    return scrub_error(f"SMTP {code}: {text}")


@dataclass(frozen=True, slots=True)
class SmtpRelay:
    """Where the SMTP backend hands mail over, and how it secures the connection and logs in."""

    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: CA bundle that signs the relay's certificate (a private relay); the system store otherwise.
    ca_file: Path | None = None
    #: Socket timeout for one SMTP command.
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, mail: MailSettings) -> SmtpRelay:
        return cls(
            mail.smtp_host,
            mail.smtp_port,
            security=mail.smtp_security,
            username=mail.smtp_username,
            password=mail.smtp_password.get_secret_value() if mail.smtp_password else None,
            ca_file=mail.smtp_ca_file,
            timeout_s=mail.timeout_s,
        )


class SmtpBackend:
    name = "smtp"

    def __init__(
        self,
        relay: SmtpRelay,
        sender: SenderHeaders,
        *,
        retrying: Retrying | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.relay = relay
        self._sender = sender
        self._retrying = retrying or Retrying()
        self._clock = clock
        if ssl_context is None and relay.security != "none":
            ca_file = relay.ca_file
            ssl_context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._ssl_context = ssl_context
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[smtplib.SMTP] = set()

    @classmethod
    def from_settings(cls, settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], datetime] | None = None) -> SmtpBackend:
        return cls(
            SmtpRelay.from_settings(settings.mail),
            SenderHeaders.from_settings(settings),
            retrying=Retrying.from_settings(settings.mail, sleep=sleep),
            clock=clock or (lambda: datetime.now(UTC)),
        )

    def __repr__(self) -> str:
        relay = self.relay
        return f"SmtpBackend(host={relay.host!r}, port={relay.port}, security={relay.security!r})"

    # -- connections ------------------------------------------------------------------------------------
    def _connect(self) -> _TrackedSMTP:
        conn: _TrackedSMTP
        relay = self.relay
        try:
            if relay.security == "ssl":
                conn = _TrackedSMTPSSL(
                    relay.host, relay.port, timeout=relay.timeout_s, context=self._ssl_context
                )
            else:
                conn = _TrackedSMTP(relay.host, relay.port, timeout=relay.timeout_s)
        except smtplib.SMTPConnectError as exc:  # the greeting: "554 no service for you" refuses us
            if exc.smtp_code >= 500:
                raise _Fatal(_reply_text(exc.smtp_code, exc.smtp_error)) from exc
            raise
        try:
            conn.ehlo()
            if relay.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise _Fatal("the SMTP server does not offer STARTTLS")
                conn.starttls(context=self._ssl_context)
                conn.ehlo()
            if relay.username:
                conn.login(relay.username, relay.password or "")
        except smtplib.SMTPResponseException as exc:
            self._quietly_close(conn)
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                # A 5xx before any message (greeting, EHLO, STARTTLS) refuses the session, not this mail.
                raise _Fatal(_reply_text(exc.smtp_code, exc.smtp_error)) from exc
            raise
        except BaseException:
            self._quietly_close(conn)
            raise
        with self._lock:
            self._open.add(conn)
        return conn

    def _connection(self) -> _TrackedSMTP:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not self._alive(conn):
            # Relays close idle connections; finding out now, before MAIL FROM, means nothing was sent.
            self._drop_connection()
            conn = None
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @staticmethod
    def _alive(conn: smtplib.SMTP) -> bool:
        try:
            return conn.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                self._open.discard(conn)
            self._quietly_close(conn)

    @staticmethod
    def _quietly_close(conn: smtplib.SMTP) -> None:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    # -- sending ----------------------------------------------------------------------------------------
    def send(self, mail: OutgoingMail, *, dry_run: bool) -> SendResult:
        try:
            msg = build_message(mail, self._sender, readable=False, now=self._clock())
        except (ValueError, TypeError) as exc:
            return SendResult("failed", error=scrub_error(f"message could not be built: {exc}"))
        provider_id = message_id_header(mail.message_id, self._sender.from_email)
        if dry_run:
            # Built and checked, never handed to the relay.
            return SendResult("accepted", provider_message_id=None, attempts=0)
        failures = attempts = 0
        while True:
            attempts += 1
            conn: _TrackedSMTP | None = None
            try:
                conn = self._connection()
                conn.data_sent = False
                conn.send_message(msg, from_addr=self._sender.from_email, to_addrs=[mail.to_email])
                return SendResult("accepted", provider_message_id=provider_id, attempts=attempts)
            except _Fatal as exc:
                self._drop_connection()
                return SendResult("fatal", error=str(exc), attempts=attempts)
            except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as exc:
                self._drop_connection()
                return SendResult(
                    "fatal", error=scrub_error(f"{type(exc).__name__}: {exc}"), attempts=attempts
                )
            except ssl.SSLError as exc:
                self._drop_connection()
                if conn is not None and conn.data_sent:
                    return _no_reply(exc, attempts)
                if not isinstance(exc, _TLS_TRANSIENT):  # untrusted certificate, no common protocol ...
                    return SendResult(
                        "fatal", error=scrub_error(f"{type(exc).__name__}: {exc}"), attempts=attempts,
                        code="tls_error",
                    )
                outcome, error = "retry", scrub_error(f"{type(exc).__name__}: {exc}")
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
                if code == _AUTH_REQUIRED:
                    self._drop_connection()
                    return SendResult("fatal", error=_reply_text(code, text), attempts=attempts)
                if 400 <= code < 500:
                    outcome = "retry"
                else:
                    return SendResult("failed", error=_reply_text(code, text), attempts=attempts)
                error = _reply_text(code, text)
            except smtplib.SMTPSenderRefused as exc:
                self._drop_connection()
                if exc.smtp_code >= 500:
                    return SendResult(
                        "fatal", error=_reply_text(exc.smtp_code, exc.smtp_error), attempts=attempts
                    )
                outcome, error = "retry", _reply_text(exc.smtp_code, exc.smtp_error)
            except smtplib.SMTPResponseException as exc:  # SMTPDataError and other replies
                if exc.smtp_code >= 500:
                    self._drop_connection()
                    return SendResult(
                        "failed", error=_reply_text(exc.smtp_code, exc.smtp_error), attempts=attempts
                    )
                self._drop_connection()
                outcome, error = "retry", _reply_text(exc.smtp_code, exc.smtp_error)
            except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused connections, timeouts
                self._drop_connection()
                if conn is not None and conn.data_sent:
                    return _no_reply(exc, attempts)
                outcome, error = "retry", scrub_error(f"{type(exc).__name__}: {exc}")
            failures += 1
            if self._retrying.gives_up(failures):
                return SendResult(outcome, error=error, attempts=attempts)  # type: ignore[arg-type]
            self._retrying.wait(failures)

    def close(self) -> None:
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            self._quietly_close(conn)
        self._local = threading.local()
