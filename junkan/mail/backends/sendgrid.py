"""SendGrid v3 Mail Send through the official `sendgrid` package (docs/outbox.md "Sending").

One request per mail, one personalization per request, so that one bad address fails one message and the
provider's X-Message-Id maps to exactly one outbox row. `custom_args` carries only the opaque message id:
it comes back on every webhook event, and nothing personal ever sits in SendGrid's event store.

Outcomes: 2xx -> accepted (X-Message-Id); 429 -> wait for X-RateLimit-Reset (bounded) and retry, and
every worker of this backend holds back until then; 5xx / 408 and failures to connect or to write the
request -> jittered exponential backoff up to `max_retries`, then `retry` (the outbox leaves the message
pending); 400 / 413 / other 4xx -> `failed` with SendGrid's messages.

`fatal` (the run stops, the message goes back to pending) is for whatever is about us rather than the
message, since every further message would fail the same way: 401 / 403 (bad key, missing scope,
unverified sender), 404 / 405 / 415 (wrong host or API), a 400 whose field errors all point at our own
settings (`from`, `reply_to`, `asm` …) and a TLS failure (untrusted certificate, TLS spoken to a plain
port). A host setting that is no http(s) URL is refused when the backend is built.

Exactly once: SendGrid's Mail Send has no idempotency key, so a request that went out whole but got no
answer (read timeout, connection reset or closed while waiting) may have been accepted, and retrying it
could mail the candidate twice. urllib tells the two apart for us: everything that fails while connecting
or writing the request (DNS, refused or timed-out connect, TLS handshake, a reset mid-write) is raised as
`URLError`, wrapped, and SendGrid cannot have received a complete request; whatever fails afterwards, in
`getresponse()` or reading the body, is raised bare (`TimeoutError`, `ConnectionResetError`,
`RemoteDisconnected`, `IncompleteRead` …). The first kind is retried, the second ends as `unknown`.

Requests go through the library's public call, `client.mail.send.post(request_body=..., timeout=...)`.
It sends over urllib, which opens one connection per request (no keep-alive), so there is no pool to
share; the client objects keep mutable per-request state (headers), so each thread gets its own.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from python_http_client.client import Response
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import From, ReplyTo

from junkan.config import Settings
from junkan.http import Throttle
from junkan.mail.backends.base import (
    BackendConfigError,
    OutgoingMail,
    Retrying,
    SendResult,
    scrub_error,
)
from junkan.mail.backends.mime import list_unsubscribe_headers
from junkan.mail.headers import clean_display_name, clean_subject
from junkan.mail.sender_identity import SenderHeaders, date_header

CUSTOM_ARG_MESSAGE_ID = "junkan_message_id"
_MAX_CATEGORIES = 10
_MAX_CATEGORY_CHARS = 255
_FATAL_STATUSES = frozenset({401, 403, 404, 405, 415})
_RETRY_STATUSES = frozenset({408})
#: Top-level request fields filled from our settings, not from the message: a 400 naming only these
#: would refuse every message alike.
_SETTINGS_FIELDS = frozenset({"from", "reply_to", "asm", "mail_settings", "tracking_settings"})
#: TLS errors that are the connection breaking (retried like a reset), not a TLS configuration problem.
_TLS_TRANSIENT = (ssl.SSLEOFError, ssl.SSLZeroReturnError)

# python_http_client logs every request body (recipient addresses, names, the whole notice) at DEBUG.
# Nothing personal may reach the logs, whatever level an operator turns on.
logging.getLogger("python_http_client.client").setLevel(logging.INFO)


def _errors(exc: HTTPError) -> list[tuple[str | None, str]]:
    """SendGrid's `{"errors": [{"message", "field", "help"}]}` as (field, message) pairs."""
    body = exc.body
    try:
        payload = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
        out: list[tuple[str | None, str]] = []
        for err in payload.get("errors") or []:
            field = err.get("field")
            message = str(err.get("message") or "").strip()
            out.append((str(field) if field and field != "null" else None, message))
        return out
    except (ValueError, AttributeError, TypeError):
        return []


def _error_text(exc: HTTPError, errors: list[tuple[str | None, str]]) -> str:
    text = "; ".join(f"{f}: {m}" if f else m for f, m in errors if m)
    return scrub_error(f"HTTP {exc.status_code}: {text or exc.reason or 'no error message'}")


def _usable_host(host: str) -> bool:
    try:
        parts = urlsplit(host)
        parts.port  # noqa: B018  (raises ValueError for a port that is no number or out of range)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _about_our_settings(errors: list[tuple[str | None, str]]) -> bool:
    fields = [f for f, _m in errors if f]
    return bool(fields) and all(f.split(".")[0] in _SETTINGS_FIELDS for f in fields)


def _describe(exc: object) -> str:
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}"
    return str(exc)


def _unknown(exc: BaseException, timeout_s: float, attempts: int) -> SendResult:
    """The outcome of a request that was sent but not answered: never retried, left to the operator."""
    if isinstance(exc, TimeoutError):
        code, what = "read_timeout", f"no answer within {timeout_s:g} s"
    elif isinstance(exc, (ConnectionError, http.client.RemoteDisconnected)):
        code, what = "connection_lost", "the connection broke before the answer"
    else:
        code, what = "no_answer", "the answer could not be read"
    return SendResult(
        "unknown",
        error=scrub_error(
            f"request sent, {what} ({_describe(exc)}); SendGrid may have accepted it, so it is not retried. "
            f"Look it up by custom arg {CUSTOM_ARG_MESSAGE_ID} in the activity feed, then "
            "`junkan outbox resolve <id> --sent` or `--resend`"
        ),
        attempts=attempts,
        code=code,
    )


def _categories(*values: str) -> list[str]:
    out: list[str] = []
    for value in values:
        value = clean_display_name(value, _MAX_CATEGORY_CHARS)
        if value and value not in out:
            out.append(value)
    return out[:_MAX_CATEGORIES]


class SendGridBackend:
    name = "sendgrid"

    def __init__(
        self,
        api_key: str,
        sender: SenderHeaders,
        *,
        host: str = "https://api.sendgrid.com",
        asm_group_id: int | None = None,
        timeout_s: float = 30.0,
        retrying: Retrying | None = None,
        rate_limit_retries: int = 10,
        clock: Callable[[], float] = time.time,
        throttle: Throttle | None = None,
    ) -> None:
        if not api_key:
            raise BackendConfigError("the sendgrid backend needs JUNKAN_MAIL__SENDGRID_API_KEY")
        if not _usable_host(host):
            raise BackendConfigError(
                f"JUNKAN_MAIL__SENDGRID_HOST must be an http(s) URL such as https://api.sendgrid.com, "
                f"got {host!r}"
            )
        self._api_key = api_key
        self.host = host.rstrip("/")
        self._sender = sender
        name = clean_display_name(sender.from_name) or None
        self._from: dict[str, str] = From(sender.from_email, name).get()
        # Replies reach the same desk the From line names.
        self._reply_to: dict[str, str] | None = (
            ReplyTo(sender.reply_to, name).get() if sender.reply_to else None
        )
        self._asm_group_id = asm_group_id
        self.timeout_s = timeout_s
        self._retrying = retrying or Retrying()
        self.rate_limit_retries = rate_limit_retries
        self._clock = clock
        self._throttle = throttle
        self._local = threading.local()
        self._gate_lock = threading.Lock()
        self._blocked_until = 0.0
        self._closed = False

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        throttle: Throttle | None = None,
    ) -> SendGridBackend:
        mail = settings.mail
        key = mail.sendgrid_api_key.get_secret_value() if mail.sendgrid_api_key else ""
        return cls(
            key,
            SenderHeaders.from_settings(settings),
            host=mail.sendgrid_host,
            asm_group_id=mail.asm_group_id,
            timeout_s=mail.timeout_s,
            retrying=Retrying.from_settings(mail, sleep=sleep),
            rate_limit_retries=mail.rate_limit_retries,
            clock=clock,
            throttle=throttle,
        )

    def __repr__(self) -> str:  # never show the key
        return f"SendGridBackend(host={self.host!r})"

    # -- request ----------------------------------------------------------------------------------------
    def build_request(self, mail: OutgoingMail, *, dry_run: bool) -> dict[str, Any]:
        to: dict[str, str] = {"email": mail.to_email}
        if name := clean_display_name(mail.to_name):
            to["name"] = name
        content = [{"type": "text/plain", "value": mail.text}]
        if mail.html:
            content.append({"type": "text/html", "value": mail.html})
        body: dict[str, Any] = {
            "personalizations": [
                {
                    "to": [to],
                    "subject": clean_subject(mail.subject),
                    "custom_args": {CUSTOM_ARG_MESSAGE_ID: mail.message_id},
                }
            ],
            "from": dict(self._from),
            "content": content,
            "categories": _categories(mail.kind, mail.template_name),
            # Our links are already signed and tracked; SendGrid's click tracking would wrap them in its
            # own redirect domain and break the referral attribution.
            "tracking_settings": {"click_tracking": {"enable": False, "enable_text": False}},
        }
        if mail.attachments:
            body["attachments"] = [
                {"content": base64.b64encode(a.content).decode("ascii"), "type": a.mime_type,
                 "filename": a.filename, "disposition": "attachment"} for a in mail.attachments]
        if self._reply_to:
            body["reply_to"] = dict(self._reply_to)
        # `Date` is not among the headers the Mail Send contract reserves, so the mail carries the time
        # of the request in the business time zone (+0900) instead of the one SendGrid would add (UTC).
        moment = datetime.fromtimestamp(self._clock(), UTC)
        body["headers"] = {"Date": date_header(moment, self._sender.timezone),
                           **list_unsubscribe_headers(mail, self._sender.unsubscribe_mailto)}
        # Only advertising mail honours the unsubscribe group: the rejection notice itself must reach every
        # candidate (docs/privacy.md "The send gate"), whatever they chose about partner news.
        if self._asm_group_id is not None and mail.advertising:
            body["asm"] = {"group_id": self._asm_group_id}
        if dry_run:
            body["mail_settings"] = {"sandbox_mode": {"enable": True}}
        return body

    # -- sending ----------------------------------------------------------------------------------------
    def _post(self, body: dict[str, Any]) -> Response:
        """`POST /v3/mail/send` through this thread's client, once the provider-wide throttle lets it go."""
        if self._throttle is not None:
            self._throttle()
        api = getattr(self._local, "api", None)
        if api is None:
            api = self._local.api = SendGridAPIClient(api_key=self._api_key, host=self.host)
        response: Response = api.client.mail.send.post(request_body=body, timeout=self.timeout_s)
        return response

    def _wait_for_gate(self) -> None:
        with self._gate_lock:
            wait = self._blocked_until - self._clock()
        if wait > 0:
            self._retrying.sleep(wait)

    def _hold_all(self, wait: float) -> None:
        with self._gate_lock:
            self._blocked_until = max(self._blocked_until, self._clock() + wait)

    def _rate_limit_wait(self, exc: HTTPError, throttles: int) -> float:
        headers = exc.headers
        raw = headers.get("X-RateLimit-Reset") if headers is not None else None
        try:
            wait = float(raw) - self._clock() if raw is not None else None
        except ValueError:
            wait = None
        if wait is None:
            wait = self._retrying.backoff(throttles)
        return min(max(wait, 0.0), self._retrying.policy.max_wait_s)

    def send(self, mail: OutgoingMail, *, dry_run: bool) -> SendResult:
        if self._closed:
            raise RuntimeError("the sendgrid backend is closed")
        body = self.build_request(mail, dry_run=dry_run)
        attempts = failures = throttles = 0
        while True:
            self._wait_for_gate()
            attempts += 1
            try:
                response = self._post(body)
            except HTTPError as exc:
                status = int(exc.status_code)
                errors = _errors(exc)
                if status == 429:
                    throttles += 1
                    # Hold back every worker until the reset, also when this one gives up.
                    self._hold_all(self._rate_limit_wait(exc, throttles))
                    if throttles > self.rate_limit_retries:
                        return SendResult("retry", error="HTTP 429: still rate limited", attempts=attempts)
                    continue
                if status >= 500 or status in _RETRY_STATUSES:
                    failures += 1
                    if self._retrying.gives_up(failures):
                        return SendResult("retry", error=_error_text(exc, errors), attempts=attempts)
                    self._retrying.wait(failures)
                    continue
                about_us = status in _FATAL_STATUSES or (status == 400 and _about_our_settings(errors))
                return SendResult("fatal" if about_us else "failed", error=_error_text(exc, errors),
                                  attempts=attempts)
            except URLError as exc:
                # Connecting or writing the request failed: SendGrid never got it whole, a retry is safe.
                reason = exc.reason
                if isinstance(reason, ssl.SSLError) and not isinstance(reason, _TLS_TRANSIENT):
                    return SendResult("fatal", error=scrub_error(f"TLS failed: {_describe(reason)}"),
                                      attempts=attempts, code="tls_error")
                failures += 1
                if self._retrying.gives_up(failures):
                    return SendResult(
                        "retry",
                        error=scrub_error(f"not sent: {_describe(reason)}"),
                        attempts=attempts,
                        code="connect_error",
                    )
                self._retrying.wait(failures)
                continue
            except (OSError, http.client.HTTPException) as exc:
                # The request went out whole and the answer never came: SendGrid may have accepted it.
                return _unknown(exc, self.timeout_s, attempts)
            provider_id = response.headers.get("X-Message-Id") if response.headers is not None else None
            return SendResult("accepted", provider_message_id=provider_id, attempts=attempts)

    def close(self) -> None:
        # urllib keeps no connections open; closing only stops further use.
        self._closed = True
