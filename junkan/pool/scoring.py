"""The rule-based potential score, 0–100, with its top reasons (docs/pool.md "Potential score").

Transparent on purpose, so a recruiter can check it by hand:
- stage reached (up to 40): 書類 0, 一次面接 15, 二次面接 28, 最終面接 40;
- reason category (up to 35): "another candidate was preferred" and "position filled" say the most about
  the person (35), a final-interview decision 32, timing / conditions / location 20–25, skills and
  experience at the time 12, no-show 0;
- recency (up to 25): full within 12 months of the decision, down to 0 at 36 months.
Interview evaluations are not part of it yet: no adapter brings them in (docs/pool.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from junkan.pool.eligibility import WHY_BY_CATEGORY
from junkan.pool.signals import STAGE_LABELS, PoolSignals

STAGE_POINTS = np.array([0.0, 15.0, 28.0, 40.0])
CATEGORY_POINTS: dict[str, float] = {
    "other_candidate": 35.0, "position_filled": 35.0, "final_interview": 32.0, "timing": 25.0,
    "compensation": 22.0, "location": 22.0, "withdrawn": 20.0, "language": 15.0, "other": 15.0,
    "experience": 12.0, "skills": 12.0, "culture_fit": 6.0, "no_show": 0.0,
}
DEFAULT_CATEGORY_POINTS = 15.0
RECENCY_FULL_MONTHS = 12.0
RECENCY_ZERO_MONTHS = 36.0
RECENCY_MAX = 25.0
_DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True, slots=True)
class Scores:
    #: 0–100 per candidate (same index as the signals).
    score: np.ndarray
    reasons: list[list[str]]
    method: str
    model_version: str | None = None


def months_between(earlier: datetime, later: datetime) -> float:
    """Average-length months from `earlier` to `later`, 0 when `later` is not after it: the unit of
    `months_since`, for one pair of moments (training rows)."""
    return max((later - earlier).total_seconds() / 86400.0 / _DAYS_PER_MONTH, 0.0)


def months_since(signals: PoolSignals, now: datetime) -> np.ndarray:
    days = (now.timestamp() - np.nan_to_num(signals.decided_ts, nan=now.timestamp())) / 86400.0
    months: np.ndarray = np.maximum(days / _DAYS_PER_MONTH, 0.0)
    return months


def rule_components(signals: PoolSignals, now: datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stage = STAGE_POINTS[signals.max_stage_level.astype(np.int64)]
    category = np.array([CATEGORY_POINTS.get(c, DEFAULT_CATEGORY_POINTS) for c in signals.category])
    months = months_since(signals, now)
    fade = (RECENCY_ZERO_MONTHS - months) / (RECENCY_ZERO_MONTHS - RECENCY_FULL_MONTHS)
    recency = RECENCY_MAX * np.clip(fade, 0.0, 1.0)
    return stage, category, recency


@functools.lru_cache(maxsize=65536)
def _reasons(level: int, category: str, stage: float, cat: float, recency: float,
             months: int) -> tuple[str, ...]:
    parts = [
        (stage, f"{STAGE_LABELS[level]}まで進んだ"),
        (cat, WHY_BY_CATEGORY.get(category, WHY_BY_CATEGORY["other"])),
        (recency, f"{months}か月前の選考"),
    ]
    # Stable order: points first, then the fixed order above.
    ranked = sorted(enumerate(parts), key=lambda p: (-p[1][0], p[0]))
    return tuple(label for _, (points, label) in ranked if points > 0)[:3]


def _round_1(values: np.ndarray) -> np.ndarray:
    """Python's `round(x, 1)` on every value: numpy's rounding (×10, rint) except near a half, where the
    two may disagree and Python's is taken."""
    tenfold = values * 10.0
    out: np.ndarray = np.rint(tenfold) / 10.0
    near_half = np.flatnonzero(np.abs(tenfold - np.floor(tenfold) - 0.5) < 1e-6)
    out[near_half] = [round(float(v), 1) for v in values[near_half]]
    return out


def rule_scores(signals: PoolSignals, now: datetime, members: np.ndarray | None = None) -> Scores:
    stage, category, recency = rule_components(signals, now)
    total = np.clip(stage + category + recency, 0.0, 100.0)
    months = months_since(signals, now)
    wanted = np.flatnonzero(members) if members is not None else np.arange(len(signals))
    reasons: list[list[str]] = [[] for _ in range(len(signals))]
    if len(wanted):
        # The reasons depend on a few values only: computed once per distinct combination.
        codes: dict[str, int] = {}
        cat_code = np.array([codes.setdefault(signals.category[i], len(codes)) for i in wanted.tolist()],
                            dtype=np.int64)
        # One integer per combination: stage level (< 4), category, recency in tenths (≤ 250), months.
        tenths = np.rint(_round_1(recency[wanted]) * 10).astype(np.int64)
        whole_months = np.minimum(months[wanted], 2.0 ** 20 - 1).astype(np.int64)
        key = ((signals.max_stage_level[wanted].astype(np.int64) * 65536 + cat_code) * 256 + tenths) \
            * 2 ** 20 + whole_months
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        texts = [_reasons(int(signals.max_stage_level[i]), signals.category[i], float(stage[i]),
                          float(category[i]), tenths[f] / 10.0, int(whole_months[f]))
                 for f, i in zip(first.tolist(), wanted[first].tolist(), strict=True)]
        for i, k in zip(wanted.tolist(), inverse.reshape(-1).tolist(), strict=True):
            reasons[i] = list(texts[k])
    return Scores(score=np.round(total, 1), reasons=reasons, method="rules")
