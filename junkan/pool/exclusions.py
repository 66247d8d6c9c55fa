"""Who must never be matched, rule by rule, with a count per rule for the run's artifact.

Per person: still in the cooldown (calendar months after the last rejection: the months the person chose
on their own page, else the default), re-contacted within the interval, opted out or consent withdrawn,
hired since, suppressed, back in a selection already, or asked on their page never to hear again.
Per pair: already applied to that job (applied in `matcher`, where the pairs are).
"""

from __future__ import annotations

from datetime import date

import numpy as np

from junkan.config import Settings
from junkan.pool.months import cooldown_over_mask
from junkan.pool.signals import PoolSignals
from junkan.pool.stated import Stated

#: The rules `exclusion_masks` applies, in order (their labels: junkan.count_labels.EXCLUSION_RULES).
RULES = ("cooldown", "recently_contacted", "opted_out", "hired", "suppressed", "in_process", "stated_never")
APPLIED_RULE = "already_applied"


def exclusion_masks(signals: PoolSignals, settings: Settings, as_of: date,
                    stated: Stated | None = None) -> dict[str, np.ndarray]:
    cfg = settings.recontact
    zone = settings.business.timezone
    cooldowns = (stated.cooldown_months if stated is not None
                 else np.full(len(signals), cfg.cooldown_months, dtype=np.int64))
    # One mask per distinct cooldown (the default and the timings people chose: a handful).
    cooling = np.zeros(len(signals), dtype=bool)
    for months in np.unique(cooldowns):
        who = cooldowns == months
        cooling[who] = ~cooldown_over_mask(signals.decided_ts[who], as_of, int(months), zone)
    return {
        "cooldown": cooling,
        "recently_contacted": signals.recontacted_recently.copy(),
        "opted_out": (signals.recontact_consent == 0) | ~signals.talent_pool_granted,
        "hired": signals.hired_since.copy(),
        "suppressed": signals.suppressed.copy(),
        "in_process": signals.in_process.copy(),
        "stated_never": stated.never.copy() if stated is not None else np.zeros(len(signals), dtype=bool),
    }


def eligible(members: np.ndarray, masks: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, int]]:
    """The members no rule excludes, and how many members each rule excluded (a person may hit several)."""
    keep = members.copy()
    counts: dict[str, int] = {}
    for name, mask in masks.items():
        counts[name] = int((members & mask).sum())
        keep &= ~mask
    return keep, counts
