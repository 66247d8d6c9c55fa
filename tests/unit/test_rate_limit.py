"""The per-token limit of the preference page's POSTs (junkan/web/ratelimit.py), on an injected clock."""

from __future__ import annotations

import pytest

from junkan.web.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_holds_within_the_window_and_frees_as_it_slides() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60.0, clock=clock)
    assert [limiter.allow("t") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("other")  # per key
    clock.now += 59.0
    assert not limiter.allow("t")  # the first three are still within the minute
    clock.now += 1.5
    assert limiter.allow("t")  # the oldest ones left the window


def test_hammering_past_the_limit_does_not_shorten_the_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 10.0, clock=clock)
    limiter.allow("t"), limiter.allow("t")
    for _ in range(50):
        clock.now += 1.0
        assert not limiter.allow("t")  # a request every second never gets through
    clock.now += 10.5
    assert limiter.allow("t")


def test_memory_is_bounded_by_forgetting_the_least_recently_seen_key() -> None:
    clock = Clock()
    limiter = RateLimiter(1, 60.0, max_keys=2, clock=clock)
    assert limiter.allow("a") and limiter.allow("b")
    assert not limiter.allow("b")
    assert limiter.allow("c")  # "a" is forgotten, "b" (seen last) is kept
    assert not limiter.allow("b") and limiter.allow("a")


def test_a_limit_that_admits_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimiter(0, 60.0)
