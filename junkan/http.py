"""The one retrying HTTP client of every vendor API Junkan reads: the ATS, the partner, SendGrid's lists.

Vendors throttle (429 with `Retry-After`, `X-RateLimit-*` headers) and have bad minutes (5xx, timeouts).
Everything here is synchronous and bounded: a request is tried at most `max_retries + 1` times, waits
follow `junkan.backoff.jittered_backoff` and are capped, and `sleep`/`clock` are injectable so tests can
assert the waits without really waiting. A call that fails for good raises `HttpError`, whose `retryable`
says whether running the whole batch again later could help.

A hand-written loop rather than tenacity/stamina: most of it is the vendor-specific waits (Retry-After,
rate-limit windows), which a generic retry library would only wrap.

Error messages name the method, the URL path and the status, never the query string or a body that
could carry personal data.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from junkan.backoff import jittered_backoff

log = logging.getLogger(__name__)

#: Called before every request a client sends (retries included); it blocks until the request may go.
#: The orchestration layer passes a provider-wide rate limit here (tasks/limits.py), so the library
#: throttles without knowing who enforces the limit.
Throttle = Callable[[], None]

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: When X-RateLimit-Remaining hits 0 without a reset header, wait this long (a vendor may say otherwise).
DEFAULT_RATE_LIMIT_WINDOW_S = 10.0
# Above this a value of X-RateLimit-Reset is a unix timestamp, below it a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000


class RetryableError(RuntimeError):
    """A library error that knows whether it is worth trying again (HttpError, PartnerError).

    `retryable` tells a caller (e.g. a Prefect task's retry condition) whether trying the whole batch
    again later could help: throttling, 5xx and timeouts yes; bad credentials, parameters or replies no.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class HttpError(RetryableError):
    """A vendor call failed for good. `status` is the HTTP status (None for transport errors)."""

    def __init__(
        self, message: str, *, vendor: str, status: int | None = None, retryable: bool = False
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.vendor = vendor
        self.status = status


def is_retryable(exc: BaseException) -> bool:
    """Whether a later retry of the whole batch could help: throttling, 5xx, timeouts, lost connections.

    A RetryableError decides for itself.
    """
    if isinstance(exc, RetryableError):
        return exc.retryable
    return isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 5
    #: First backoff delay; doubled on every further attempt, capped at `backoff_max_s`.
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    #: Never wait longer than this for one Retry-After / rate-limit reset, whatever the vendor says.
    max_wait_s: float = 120.0
    #: When X-RateLimit-Remaining hits 0 without a reset header, wait this long (the vendor's window).
    rate_limit_window_s: float = DEFAULT_RATE_LIMIT_WINDOW_S

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Seconds before retry number `retry` (1-based); jittered, so clients that failed together spread."""
        return jittered_backoff(retry, self.backoff_base_s, self.backoff_max_s, rng)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def parse_rate_limit_reset(value: str | None, now: float) -> float | None:
    """Seconds until the window resets, from X-RateLimit-Reset (unix seconds or a delta)."""
    if not value:
        return None
    try:
        reset = float(value.strip())
    except ValueError:
        return None
    if reset >= _EPOCH_THRESHOLD:
        return max(0.0, reset - now)
    return max(0.0, reset)


def _short_error_detail(response: httpx.Response) -> str:
    """A vendor's own error message, trimmed: helps an operator fix a 4xx without dumping the body."""
    try:
        body = response.json()
    except ValueError:
        return ""
    messages: list[str] = []
    if isinstance(body, dict):
        for key in ("message", "error", "error_description", "detail"):
            if isinstance(body.get(key), str):
                messages.append(body[key])
        errors = body.get("errors")
        if isinstance(errors, list):
            for item in errors[:3]:
                if isinstance(item, dict) and isinstance(item.get("message"), str):
                    messages.append(item["message"])
                elif isinstance(item, str):
                    messages.append(item)
    text = "; ".join(dict.fromkeys(messages))
    return text[:200]


_HINTS = {
    400: "bad request",
    401: "authentication failed (check the credentials)",
    403: "forbidden (the credentials lack a permission or scope)",
    404: "not found (check the base URL)",
    422: "unprocessable (invalid query parameters)",
}


class RetryingClient:
    """An httpx.Client wrapper that retries what is worth retrying and raises HttpError for the rest."""

    def __init__(
        self,
        *,
        vendor: str,
        timeout_s: float = 30.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.vendor = vendor
        self._throttle = throttle
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        #: The clock rate-limit resets are measured on; auth flows (token expiry) share it.
        self.clock = clock
        self._rng = rng or random.Random()
        self._not_before = 0.0
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            auth=auth,
            headers={"Accept": "application/json", "User-Agent": "junkan", **(headers or {})},
            transport=transport,
            follow_redirects=False,
        )
        #: Counters for operators and tests: requests sent, retries, and seconds spent waiting.
        self.stats: dict[str, float] = {"requests": 0, "retries": 0, "waited_s": 0.0}

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RetryingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.stats["waited_s"] += seconds
        self._sleep(seconds)

    def _respect_rate_limit_window(self) -> None:
        remaining = self._not_before - self.clock()
        if remaining > 0:
            self._wait(min(remaining, self.policy.max_wait_s))
        self._not_before = 0.0

    def _note_rate_limit(self, response: httpx.Response) -> None:
        """When the window is used up, hold the next request until it resets instead of earning a 429."""
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is None:
            return
        try:
            left = int(float(remaining))
        except ValueError:
            return
        if left > 0:
            return
        now = self.clock()
        wait = parse_rate_limit_reset(response.headers.get("X-RateLimit-Reset"), now)
        if wait is None:
            wait = self.policy.rate_limit_window_s
        self._not_before = now + min(wait, self.policy.max_wait_s)

    def _throttle_wait(self, response: httpx.Response, attempt: int) -> float:
        now = self.clock()
        wait = parse_retry_after(response.headers.get("Retry-After"), now)
        if wait is None:
            wait = parse_rate_limit_reset(response.headers.get("X-RateLimit-Reset"), now)
        if wait is None:
            wait = self.policy.backoff(attempt + 1, self._rng)
        return min(wait, self.policy.max_wait_s)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        allow_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send with retries. Returns a 2xx response (or one whose status is in `allow_statuses`).

        Note that httpx replaces a query already in `url` when `params` is given: pass a full next-page
        URL with `params=None`.
        """
        path = httpx.URL(url).path
        what = f"{self.vendor} {method} {path}"
        attempts = self.policy.max_retries + 1
        for attempt in range(attempts):
            self._respect_rate_limit_window()
            if self._throttle is not None:
                self._throttle()
            last_try = attempt == attempts - 1
            self.stats["requests"] += 1
            try:
                kwargs: dict[str, Any] = {"params": params, "data": data, "headers": headers}
                if json_body is not None:
                    kwargs["json"] = json_body
                if auth is not None:
                    kwargs["auth"] = auth
                response = self._client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
                if last_try:
                    raise HttpError(
                        f"{what} {kind} after {attempts} attempts ({type(exc).__name__})",
                        vendor=self.vendor,
                        retryable=True,
                    ) from exc
                delay = self.policy.backoff(attempt + 1, self._rng)
                self._retry_after(f"{what} {kind}", delay, attempt, attempts)
                continue

            status = response.status_code
            self._note_rate_limit(response)
            if response.is_success or status in allow_statuses:
                return response
            # An auth flow may have sent another request (a token endpoint): name the one that failed.
            answered = f"{self.vendor} {response.request.method} {response.request.url.path}"
            if status in RETRYABLE_STATUSES:
                if last_try:
                    raise HttpError(
                        f"{answered} answered {status} after {attempts} attempts; giving up for now",
                        vendor=self.vendor,
                        status=status,
                        retryable=True,
                    )
                if status == 429 or response.headers.get("Retry-After"):
                    delay = self._throttle_wait(response, attempt)
                    if response.headers.get("Retry-After"):
                        # The vendor said exactly when to come back; don't add a window pause on top.
                        self._not_before = 0.0
                else:
                    delay = self.policy.backoff(attempt + 1, self._rng)
                self._retry_after(f"{answered} answered {status}", delay, attempt, attempts)
                continue

            detail = _short_error_detail(response)
            hint = _HINTS.get(status, "client error" if status < 500 else "server error")
            message = f"{answered} failed with {status}: {hint}"
            if detail:
                message += f" — {detail}"
            raise HttpError(message, vendor=self.vendor, status=status, retryable=False)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_after(self, problem: str, delay: float, attempt: int, attempts: int) -> None:
        """Says why attempt `attempt + 1` of `attempts` failed and waits `delay` seconds before the next."""
        log.warning("%s; retrying in %.1fs (attempt %d/%d)", problem, delay, attempt + 1, attempts)
        self.stats["retries"] += 1
        self._wait(delay)

    def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> tuple[Any, httpx.Response]:
        response = self.request("GET", url, params=params, headers=headers, auth=auth)
        return decode_json(response, self.vendor), response


def decode_json(response: httpx.Response, vendor: str) -> Any:
    """The body as JSON, or an HttpError that says which call returned something else."""
    what = f"{vendor} {response.request.method} {response.request.url.path}"
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        content_type = response.headers.get("Content-Type", "?")
        raise HttpError(
            f"{what} returned malformed JSON (status {response.status_code}, content-type {content_type}, "
            f"{len(response.content)} bytes): {exc}",
            vendor=vendor,
            status=response.status_code,
            retryable=False,
        ) from exc


def next_link(response: httpx.Response) -> str | None:
    """The rel="next" URL of an RFC 8288 Link header, if any."""
    header = response.headers.get("Link")
    if not header:
        return None
    for link in response.links.values():
        if link.get("rel") == "next" and link.get("url"):
            return link["url"]
    return None


class ClientSettings(Protocol):
    """The settings a vendor's client is built from (AtsSettings, PartnerSettings, MailSettings have them)."""

    @property
    def timeout_s(self) -> float: ...

    @property
    def max_retries(self) -> int: ...


def build_client(
    vendor: str,
    settings: ClientSettings,
    *,
    rate_limit_window_s: float = DEFAULT_RATE_LIMIT_WINDOW_S,
    headers: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    transport: httpx.BaseTransport | None = None,
    throttle: Throttle | None = None,
) -> RetryingClient:
    """The configured client for one vendor; adapters take it ready-made instead of retry parameters."""
    return RetryingClient(
        vendor=vendor,
        timeout_s=settings.timeout_s,
        policy=RetryPolicy(max_retries=settings.max_retries, rate_limit_window_s=rate_limit_window_s),
        sleep=sleep,
        clock=clock,
        headers=headers,
        transport=transport,
        throttle=throttle,
    )
