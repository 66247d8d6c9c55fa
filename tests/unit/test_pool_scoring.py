"""The potential score's reasons are computed once per distinct combination: the rounding they show must be
Python's, value by value, even where numpy's own rounding would differ (at a half)."""

from __future__ import annotations

import numpy as np

from junkan.pool.scoring import _round_1


def test_recency_points_round_like_python_at_every_half() -> None:
    halves = np.array([0.05, 0.15, 0.25, 0.35, 1.45, 2.675, 12.35, 24.95, 0.1 * 3, 7.0 / 3])
    grid = np.linspace(0.0, 25.0, 25_001)
    values = np.concatenate([halves, grid])
    assert _round_1(values).tolist() == [round(float(v), 1) for v in values]
    # The case numpy alone gets wrong: 0.15 is stored just below a half.
    assert _round_1(np.array([0.15]))[0] == round(0.15, 1) == 0.1
