"""The holdout is deterministic from (run, candidate), roughly the configured share, and off at 0."""

from __future__ import annotations

import numpy as np

from junkan.pool.holdout import holdout_mask, is_held_out


def test_the_same_run_and_candidate_always_give_the_same_answer() -> None:
    ids = np.arange(1, 5001, dtype=np.int64)
    first = holdout_mask("2026-11-20", ids, 0.10)
    again = holdout_mask("2026-11-20", ids[::-1], 0.10)[::-1]
    assert (first == again).all()
    assert [is_held_out("2026-11-20", int(c), 0.10) for c in ids[:50]] == first[:50].tolist()


def test_about_the_configured_share_is_held_out() -> None:
    ids = np.arange(1, 20001, dtype=np.int64)
    share = holdout_mask("2026-11-20", ids, 0.10).mean()
    assert 0.09 < share < 0.11


def test_another_run_holds_out_other_people() -> None:
    ids = np.arange(1, 2001, dtype=np.int64)
    a = holdout_mask("2026-11-20", ids, 0.10)
    b = holdout_mask("2026-11-21", ids, 0.10)
    assert (a != b).any()


def test_zero_turns_the_holdout_off() -> None:
    assert not holdout_mask("2026-11-20", np.arange(1, 1001), 0.0).any()
    assert not is_held_out("2026-11-20", 7, 0.0)
