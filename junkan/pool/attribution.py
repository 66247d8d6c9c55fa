"""Re-applications from re-contact: a later application by someone a run matched (docs/pool.md).

`record_reapplications` is idempotent and set-based per run of the flow: call it after ingest (the
`recontact` flow does, first thing; ingest may call it too). A person's new application counts for the
newest run before it that matched them, within `attribution_days`:
- `contacted`: they were mailed in that run (auto mode), or listed in a shortlist run (recruiters reach out);
- `holdout`: they were held out — the control group of the lift measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.db.dialect import insert_ignore
from junkan.db.models import Application
from junkan.db.models_pool import MatchRun, PoolMatch, PoolReapplication
from junkan.engagement.bulk import CHUNK

#: How long after a run a new application still counts as its result.
ATTRIBUTION_DAYS = 180


@dataclass(frozen=True, slots=True)
class Group:
    """One side of the lift measurement: its people, and how many of them applied again."""

    people: int
    reapplied: int

    @property
    def rate(self) -> float | None:
        return self.reapplied / self.people if self.people else None


@dataclass(frozen=True, slots=True)
class Lift:
    contacted: Group
    holdout: Group

    @property
    def lift(self) -> float | None:
        c, h = self.contacted.rate, self.holdout.rate
        return c / h if c is not None and h else None


def record_reapplications(session: Session, now: datetime, *, days: int = ATTRIBUTION_DAYS) -> int:
    """Record every not yet recorded application that follows a match of the same person. Returns the
    number of new records."""
    matched = session.execute(
        select(PoolMatch.candidate_id, PoolMatch.id, PoolMatch.run_id, PoolMatch.job_id, PoolMatch.holdout,
               PoolMatch.message_id, MatchRun.run_at, MatchRun.mode)
        .join(MatchRun, MatchRun.id == PoolMatch.run_id)
        .order_by(PoolMatch.candidate_id, MatchRun.run_at, PoolMatch.rank)
    ).all()
    if not matched:
        return 0
    by_person: dict[int, list[Any]] = {}
    for m in matched:
        by_person.setdefault(m.candidate_id, []).append(m)
    known = select(PoolReapplication.application_id)
    start = func.coalesce(Application.applied_at, Application.created_at)
    rows: list[dict[str, object]] = []
    for batch in batched(sorted(by_person), CHUNK):
        apps = session.execute(
            select(Application.id, Application.candidate_id, Application.job_id, start.label("at"))
            .where(Application.candidate_id.in_(batch), Application.id.not_in(known), start <= now)
        ).all()
        for app in apps:
            runs = [m for m in by_person[app.candidate_id]
                    if m.run_at < app.at <= m.run_at + timedelta(days=days)]
            if not runs:
                continue
            latest_run = max(m.run_at for m in runs)
            of_run = [m for m in runs if m.run_at == latest_run]
            best = next((m for m in of_run if m.job_id == app.job_id), of_run[0])
            if best.mode == "auto" and not best.holdout and best.message_id is None:
                continue  # matched but not mailed (no consent, suppressed): neither group
            rows.append({
                "application_id": app.id, "candidate_id": app.candidate_id, "match_id": best.id,
                "run_id": best.run_id, "message_id": best.message_id,
                "grp": "holdout" if best.holdout else "contacted",
                "applied_at": app.at, "same_job": best.job_id == app.job_id, "recorded_at": now,
            })
    for part in batched(rows, 1000):
        session.execute(insert_ignore(session, PoolReapplication.__table__), part)
    return len(rows)


def lift(session: Session) -> Lift:
    """Re-application rates of the mailed and the held-out people of `auto` runs."""
    people = select(PoolMatch.candidate_id, PoolMatch.run_id, PoolMatch.holdout, PoolMatch.message_id) \
        .join(MatchRun, MatchRun.id == PoolMatch.run_id).where(MatchRun.mode == "auto")
    contacted = {(r.candidate_id, r.run_id) for r in session.execute(people) if r.message_id is not None}
    held = {(r.candidate_id, r.run_id) for r in session.execute(people) if r.holdout}
    re = session.execute(select(PoolReapplication.candidate_id, PoolReapplication.run_id,
                                PoolReapplication.grp)).all()
    c_re = {(r.candidate_id, r.run_id) for r in re if r.grp == "contacted"} & contacted
    h_re = {(r.candidate_id, r.run_id) for r in re if r.grp == "holdout"} & held
    return Lift(Group(len(contacted), len(c_re)), Group(len(held), len(h_re)))
