"""Which configured partner's link a notice carries: eligible by job or department, then weighted by share.

The pick is a pure function of the application's identity (its source and external id), never of the
run or of random state: a re-run, a dry run and the real run pick the same partner, and with several
partners the applications split by share without bias (sha256 is uniform), so the partners can be
compared fairly in the report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from junkan.config import PartnerSettings

_SCALE = float(2**64)


def serves(partner: PartnerSettings, job_external_id: str | None, department: str | None) -> bool:
    """Whether the partner may be offered for an application of this job (no limits: every one)."""
    if not partner.jobs and not partner.departments:
        return True
    return (job_external_id is not None and job_external_id in partner.jobs) or (
        department is not None and department in partner.departments)


def hash_point(source: str, external_id: str) -> float:
    """A stable point in [0, 1) for one application, uniform over applications."""
    digest = hashlib.sha256(f"{source}\x1f{external_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def choose_partner(partners: Sequence[PartnerSettings], *, source: str, external_id: str,
                   job_external_id: str | None = None, department: str | None = None) -> str | None:
    """The name of the partner for this application, or None when no configured partner serves it."""
    eligible = [p for p in partners if serves(p, job_external_id, department)]
    if not eligible:
        return None
    if len(eligible) == 1:
        return eligible[0].name
    target = hash_point(source, external_id) * sum(p.share for p in eligible)
    running = 0.0
    for partner in eligible:
        running += partner.share
        if target < running:
            return partner.name
    return eligible[-1].name  # float rounding at the very top of the range
