"""What each person chose on their own page 「今後のご案内の設定」, as a `recontact` run uses it
(docs/pool.md "The person's own choices").

The newest save per person (junkan/consent/preferences.py) becomes per-signals-index arrays:
- `never`: excluded from matching (exclusion rule `stated_never`);
- `cooldown_months`: their timing (3, 6 or 12 months from the last rejection, counted as the default
  cooldown is) or the default where they chose none;
- `families`: the occupation families they want to hear about, a bonus in the matcher's product;
- `skills`: the canonical skills mapped from what they typed, read as profile skills.
A person who never saved the page gets the defaults and nothing else changes for them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session

from junkan.consent.preferences import latest_preferences
from junkan.pool.semantic import CANONICAL
from junkan.pool.signals import PoolSignals


@dataclass(frozen=True, slots=True)
class Stated:
    """Index i is the signals' index i."""

    never: np.ndarray
    #: Months of cooldown per person: their own timing, else the configured default.
    cooldown_months: np.ndarray
    #: The timing the person chose (None: the default applies).
    timing: list[int | None]
    families: list[tuple[str, ...]]
    skills: list[tuple[str, ...]]

    @property
    def any_interest(self) -> bool:
        return any(self.families)


def no_choices(n: int, default_months: int) -> Stated:
    return Stated(never=np.zeros(n, dtype=bool), cooldown_months=np.full(n, default_months, dtype=np.int64),
                  timing=[None] * n, families=[()] * n, skills=[()] * n)


def read_stated(session: Session, signals: PoolSignals, default_months: int, now: datetime) -> Stated:
    """Everyone's newest choices made by `now` (people who saved are few: one ordered scan, not an IN list
    of the pool)."""
    stated = no_choices(len(signals), default_months)
    for candidate_id, saved in latest_preferences(session, at=now).items():
        i = signals.index.get(candidate_id)
        if i is None:
            continue
        p = saved.preferences
        stated.never[i] = p.never
        stated.timing[i] = p.timing_months
        if p.timing_months is not None:
            stated.cooldown_months[i] = p.timing_months
        stated.families[i] = p.families
        stated.skills[i] = tuple(s.removeprefix(CANONICAL) for s in p.skills)
    return stated


def with_stated_skills(signals: PoolSignals, stated: Stated) -> PoolSignals:
    """The signals with each person's stated skills added to their profile skills (same spelling rules)."""
    if not any(stated.skills):
        return signals
    skills = [list(dict.fromkeys((*own, *extra))) if extra else own
              for own, extra in zip(signals.skills, stated.skills, strict=True)]
    return replace(signals, skills=skills)


def timing_part(months: int | None) -> str | None:
    """The shortlist's words for a timing the person chose (None: the default cooldown, nothing to say)."""
    return None if months is None else f"ご本人の希望時期: {months}か月後から"


def interest_part(family_title: str) -> str:
    return f"ご本人の希望職種: {family_title}"
