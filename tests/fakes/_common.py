"""Pieces shared by the vendor fakes: JSON responses, seeded fault injection, rate limits, a request log,
a controllable clock."""

from __future__ import annotations

import base64
import json
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from junkan.http import DEFAULT_RATE_LIMIT_WINDOW_S, RetryingClient, RetryPolicy


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


class FakeClock:
    """A wall clock that only moves when told to, or when code under test 'sleeps' on it.

    Hand `clock.sleep` and `clock` to the adapter and the fake: retries and rate-limit pauses then take
    no real time, and `clock.sleeps` records every wait for assertions.
    """

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def client_for(
    vendor: str,
    clock: FakeClock,
    *,
    max_retries: int = 5,
    rate_limit_window_s: float = DEFAULT_RATE_LIMIT_WINDOW_S,
    rng: random.Random | None = None,
) -> RetryingClient:
    """The vendor client an adapter is given, waiting on the fake clock (retries take no real time)."""
    policy = RetryPolicy(max_retries=max_retries, rate_limit_window_s=rate_limit_window_s)
    return RetryingClient(vendor=vendor, policy=policy, sleep=clock.sleep, clock=clock, rng=rng)


@dataclass
class RecordedRequest:
    method: str
    path: str
    args: dict[str, list[str]]
    status: int
    fault: bool = False


@dataclass
class FaultInjector:
    """Answers a seeded fraction of requests with 429 (with Retry-After) or a 5xx before real handling,
    and cuts a seeded fraction of successful answers short (truncated JSON, status 200), at most
    `max_truncated` of them when that is set."""

    rate: float = 0.0
    statuses: tuple[int, ...] = (429, 500, 502, 503)
    retry_after_s: int = 1
    seed: int = 0
    truncate_rate: float = 0.0
    max_truncated: int | None = None
    injected: int = 0
    truncated: int = 0
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def maybe_truncate(self, response: Response) -> bool:
        spent = self.max_truncated is not None and self.truncated >= self.max_truncated
        if self.truncate_rate <= 0 or response.status_code != 200 or spent \
                or self._rng.random() >= self.truncate_rate:
            return False
        body = response.get_data()
        response.set_data(body[: max(1, len(body) // 2)])
        self.truncated += 1
        return True

    def maybe_fault(self) -> Response | None:
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        self.injected += 1
        status = self._rng.choice(self.statuses)
        if status == 429:
            return json_response({"message": "Too many requests"}, 429,
                                 {"Retry-After": str(self.retry_after_s)})
        return Response("upstream hiccup", status=status, content_type="text/plain")


class WindowRateLimiter:
    """`limit` requests per `window_s` window of the fake clock, with X-RateLimit-* headers and 429 beyond."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._window = -1
        self._count = 0
        self.rejected = 0

    def check(self) -> tuple[dict[str, str], Response | None]:
        now = self.clock()
        window = int(now // self.window_s)
        if window != self._window:
            self._window = window
            self._count = 0
        self._count += 1
        remaining = max(0, self.limit - self._count)
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(remaining)}
        if self._count > self.limit:
            self.rejected += 1
            wait = math.ceil((window + 1) * self.window_s - now) or 1
            return headers, json_response({"message": "rate limit exceeded"}, 429,
                                          {**headers, "Retry-After": str(wait)})
        return headers, None


def record(request: Request, status: int, fault: bool = False) -> RecordedRequest:
    args = {key: request.args.getlist(key) for key in request.args}
    return RecordedRequest(method=request.method, path=request.path, args=args, status=status, fault=fault)


def default_clock() -> float:
    return time.time()


Handler = Callable[[Request], Response]


class FakeOptions(TypedDict, total=False):
    """What a test may ask of any vendor fake besides its data (see VendorFake)."""

    clock: Callable[[], float]
    fault_rate: float
    fault_statuses: tuple[int, ...]
    retry_after_s: int
    seed: int
    truncate_rate: float
    max_truncated: int | None
    rate_limit: tuple[int, float] | None


class VendorFake:
    """The frame of a vendor fake on a pytest-httpserver: every handler it installs through `guarded` gets
    seeded fault injection (a `fault_rate` of requests answered 429 + Retry-After or a 5xx, a
    `truncate_rate` of answers cut short, at most `max_truncated` of them), an optional
    `rate_limit` of (requests, window seconds) on the fake clock with X-RateLimit-* headers, and a line
    in `requests`."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        prefix: str,
        clock: Callable[[], float] = default_clock,
        fault_rate: float = 0.0,
        fault_statuses: tuple[int, ...] = (429, 500, 502, 503),
        retry_after_s: int = 1,
        seed: int = 0,
        truncate_rate: float = 0.0,
        max_truncated: int | None = None,
        rate_limit: tuple[int, float] | None = None,
    ) -> None:
        self.server = server
        self.clock = clock
        self.faults = FaultInjector(rate=fault_rate, statuses=fault_statuses, retry_after_s=retry_after_s,
                                    seed=seed, truncate_rate=truncate_rate, max_truncated=max_truncated)
        self.rate_limiter = WindowRateLimiter(rate_limit[0], rate_limit[1], clock) if rate_limit else None
        self.prefix = prefix.rstrip("/")
        self.requests: list[RecordedRequest] = []
        #: Called outside the fake's lock with each request's log line (a drill injects faults from it).
        self.on_request: Callable[[RecordedRequest], None] | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.server.url_for(self.prefix or "/").rstrip("/")

    def calls(self, path_suffix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith(path_suffix)]

    def route(self, path: str, handler: Handler, *, method: str = "GET", rate_limited: bool = True) -> None:
        """Answers `method` requests to the prefix + `path` with `handler`, `guarded`."""
        self.server.expect_request(f"{self.prefix}{path}", method=method).respond_with_handler(
            self.guarded(handler, rate_limited=rate_limited))

    def guarded(self, handler: Handler, *, rate_limited: bool = True) -> Handler:
        """`handler` behind the faults and (when `rate_limited`) the rate limit, one request at a time;
        `on_request`, when set, sees each request's log line before its answer goes out."""
        def answer(request: Request) -> tuple[Response, RecordedRequest]:
            with self._lock:
                fault = self.faults.maybe_fault()
                if fault is not None:
                    line = record(request, fault.status_code, fault=True)
                    self.requests.append(line)
                    return fault, line
                limit_headers: dict[str, str] = {}
                if rate_limited and self.rate_limiter is not None:
                    limit_headers, refused = self.rate_limiter.check()
                    if refused is not None:
                        line = record(request, 429)
                        self.requests.append(line)
                        return refused, line
                response = handler(request)
                for key, value in limit_headers.items():
                    response.headers[key] = value
                cut = self.faults.maybe_truncate(response)
                line = record(request, response.status_code, fault=cut)
                self.requests.append(line)
                return response, line

        def run(request: Request) -> Response:
            response, line = answer(request)
            if self.on_request is not None:
                self.on_request(line)
            return response
        return run
