"""A per-key limit on requests in a sliding window, held in the web process's memory.

The preference page limits its POSTs per link token (docs/privacy.md "The preference page"): a person
saves a few times at most, so anything past the limit is a script. The key is a hash of the token as
sent, checked before the token is read, so a forged, expired or erased person's link is limited exactly
like a live one and the answers cannot tell them apart. Memory is bounded: at most `max_keys` keys are
kept, the least recently seen dropped first. Each server process counts on its own (docs/operations.md
"Web service": with N workers a token gets at most N times the limit).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, limit: int, window_s: float, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window_s <= 0 or max_keys < 1:
            raise ValueError("a rate limit needs limit >= 1, a positive window and room for one key")
        self.limit = limit
        self.window_s = window_s
        self._max_keys = max_keys
        self._clock = clock
        self._seen: OrderedDict[bytes, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one request for `key`; False when it is over the limit (it is counted all the same, so
        hammering does not shorten the wait)."""
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        now = self._clock()
        with self._lock:
            times = self._seen.pop(digest, None) or deque()
            while times and times[0] <= now - self.window_s:
                times.popleft()
            times.append(now)
            if len(times) > self.limit + 1:  # only the limit's worth matters; keep memory per key small
                times.popleft()
            self._seen[digest] = times
            while len(self._seen) > self._max_keys:
                self._seen.popitem(last=False)
            return len(times) <= self.limit
