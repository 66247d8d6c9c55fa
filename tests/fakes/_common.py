"""Pieces shared by the vendor fakes: JSON responses, seeded fault injection, a controllable clock."""

from __future__ import annotations

import base64
import json
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

from junkan.http import RetryingClient, RetryPolicy


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
    rate_limit_window_s: float = RetryPolicy.rate_limit_window_s,
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
    """Answers a seeded fraction of requests with 429 (with Retry-After) or a 5xx before real handling."""

    rate: float = 0.0
    statuses: tuple[int, ...] = (429, 500, 502, 503)
    retry_after_s: int = 1
    seed: int = 0
    injected: int = 0
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

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
