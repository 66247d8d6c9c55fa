"""The held-out share in `auto` mode: matched but not mailed, so the lift of re-contact can be measured.

Chosen from a hash of the run and the candidate: deterministic (re-planning a run holds out the same
people), independent of the order rows come in, and uncorrelated with anything about the person.
"""

from __future__ import annotations

import hashlib

import numpy as np

_SCALE = float(2**64)


def holdout_value(run_key: str, candidate_id: int) -> float:
    """A uniform number in [0, 1) for this (run, candidate)."""
    digest = hashlib.sha256(f"junkan.holdout.v1:{run_key}:{int(candidate_id)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def is_held_out(run_key: str, candidate_id: int, share: float) -> bool:
    return share > 0 and holdout_value(run_key, candidate_id) < share


def holdout_mask(run_key: str, candidate_ids: np.ndarray, share: float) -> np.ndarray:
    if share <= 0:
        return np.zeros(len(candidate_ids), dtype=bool)
    return np.array([holdout_value(run_key, int(c)) < share for c in candidate_ids], dtype=bool)
