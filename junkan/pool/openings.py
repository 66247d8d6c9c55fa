"""Which openings are new (docs/pool.md "New openings").

A target is an open opening of a job (ATS with openings) or an open job that has no openings at all
(spreadsheets). It is new when it opened after the previous `recontact` run (on the first run: within
`new_opening_days`), or when the previous run saw it closed and it is open again (a reopened job counts
again even when the ATS keeps the first opening date). A target without an opening date is new when it
first shows up after a previous run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db.models import Job, Opening
from junkan.db.models_pool import MatchRun, PoolOpeningState


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    job_id: int
    opening_id: int | None
    job_external_id: str
    opening_external_id: str | None
    source: str
    title: str
    department: str | None
    description: str | None
    required_skills: tuple[str, ...]
    preferred_skills: tuple[str, ...]
    location: str | None
    opened_at: datetime | None
    reopened: bool


@dataclass(frozen=True, slots=True)
class NewTargets:
    targets: list[Target]
    new_since: datetime
    first_run: bool
    #: What to store in pool_opening_state once the run is kept.
    states: list[dict[str, object]]
    open_targets: int


def last_run_at(session: Session, now: datetime) -> datetime | None:
    return session.scalar(select(func.max(MatchRun.run_at)).where(MatchRun.run_at <= now))


def _skills(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(str(s).strip() for s in value if str(s).strip()))


def job_target(key: str, job: Job, opening: Opening | None, opened_at: datetime | None,
               reopened: bool = False) -> Target:
    """What the matcher reads of a job (and its opening)."""
    return Target(
        key=key, job_id=job.id, opening_id=opening.id if opening is not None else None,
        job_external_id=job.external_id,
        opening_external_id=opening.external_id if opening is not None else None,
        source=job.source, title=job.title, department=job.department, description=job.description,
        required_skills=_skills(job.required_skills), preferred_skills=_skills(job.preferred_skills),
        location=job.location, opened_at=opened_at, reopened=reopened,
    )


def find_new_targets(session: Session, settings: Settings, now: datetime) -> NewTargets:
    previous = last_run_at(session, now)
    first_run = previous is None
    new_since = previous or now - timedelta(days=settings.recontact.new_opening_days)
    states = {s.target: s for s in session.scalars(select(PoolOpeningState))}
    jobs = {j.id: j for j in session.scalars(select(Job))}
    with_openings: set[int] = set()
    seen: list[tuple[str, bool, Job, Opening | None]] = []
    for each in session.scalars(select(Opening).order_by(Opening.id)):
        job = jobs.get(each.job_id) if each.job_id is not None else None
        if job is None:
            continue
        with_openings.add(job.id)
        seen.append((f"opening:{each.id}", each.status == "open", job, each))
    for job in sorted(jobs.values(), key=lambda j: j.id):
        if job.id not in with_openings:
            seen.append((f"job:{job.id}", job.status == "open", job, None))

    targets: list[Target] = []
    rows: list[dict[str, object]] = []
    open_count = 0
    for key, is_open, job, opening in seen:
        state = states.get(key)
        opened_at = (opening.opened_at if opening is not None else None) or job.opened_at
        new = False
        reopened = False
        if is_open:
            open_count += 1
            if state is not None and not state.is_open:
                new = reopened = True
            elif opened_at is not None:
                new = new_since < opened_at <= now
            else:
                new = state is None and not first_run
        if new:
            targets.append(job_target(key, job, opening, opened_at, reopened))
        rows.append({"target": key, "is_open": is_open, "seen_at": now,
                     "new_at": now if new else (state.new_at if state is not None else None)})
    return NewTargets(targets=targets, new_since=new_since, first_run=first_run, states=rows,
                      open_targets=open_count)


def store_states(session: Session, states: list[dict[str, object]]) -> None:
    session.execute(delete(PoolOpeningState))
    for start in range(0, len(states), 5000):
        session.execute(PoolOpeningState.__table__.insert(), states[start:start + 5000])
