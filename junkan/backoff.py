"""The one backoff schedule for every retry loop (HTTP adapters, mail backends).

Equal jitter: the wait before retry `attempt` lies in [d/2, d] with d = min(cap, base * 2**(attempt-1)), so
workers that failed together (the 8 send workers, say) spread out instead of retrying in lockstep, and a
wait is never shorter than half the nominal one.
"""

from __future__ import annotations

import random

_DEFAULT_RNG = random.Random()


def jittered_backoff(attempt: int, base_s: float, max_s: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1-based)."""
    ceiling = float(min(max_s, base_s * (2 ** max(attempt - 1, 0))))
    return ceiling / 2 + (rng or _DEFAULT_RNG).uniform(0, ceiling / 2)
