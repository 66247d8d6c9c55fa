"""One read of everything the pool, the potential score and the matcher need, as flat per-candidate arrays.

What is read, and nothing else: application status, dates, stage and job; the reason's category and
eligibility; the job's title, department and posting text; the candidate's ATS tags, skills, location,
locale and anonymisation date; consent states; whether the address is suppressed (joined in SQL, the
address itself never reaches Python); recent re-contact mails; operator tags. No name, no e-mail, no
phone — and no protected attribute or proxy for one (age, gender, birthplace, photo): the schema has none
and this module is the only place the pool reads candidates from (a test watches the SQL it issues).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Text, and_, select, type_coerce
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.consent.state import latest_by_candidate
from junkan.consent.suppressed import suppressed_candidates
from junkan.db.models import (
    Application,
    Candidate,
    Job,
    JobTitleHistory,
    Message,
    MessageState,
    RejectionReason,
)
from junkan.db.models_pool import PoolTag
from junkan.ingest.reasons import DEFAULT_FINAL_STAGE_KEYWORDS, fold

DECIDED_STATUSES = ("rejected", "withdrawn")
RECONTACT_KIND = "recontact"
#: Message states that mean a re-contact mail went out or may still go out.
CONTACTED_STATES = (MessageState.PENDING, MessageState.SENDING, MessageState.ACCEPTED, MessageState.DELIVERED,
                    MessageState.UNKNOWN, MessageState.BOUNCED)

#: Stage reached -> level: 0 書類 / unknown, 1 一次面接, 2 二次面接 and later rounds, 3 最終面接.
_STAGE_KEYWORDS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (3, tuple(fold(k) for k in DEFAULT_FINAL_STAGE_KEYWORDS)),
    (2, ("二次", "2次", "三次", "3次", "second", "2nd", "third", "3rd", "onsite", "技術面接", "現場面接")),
    (1, ("一次", "1次", "面接", "first", "1st", "interview", "phone screen", "電話面談", "カジュアル面談")),
)
STAGE_LABELS = {3: "最終面接", 2: "二次面接", 1: "一次面接", 0: "書類選考"}


@functools.lru_cache(maxsize=4096)
def stage_level(stage: str | None) -> int:
    folded = fold(stage)
    if not folded:
        return 0
    for level, keywords in _STAGE_KEYWORDS:
        if any(k in folded for k in keywords):
            return level
    return 0


@dataclass(frozen=True, slots=True)
class PastJob:
    """What the vocabulary reads of a job someone applied to: no person's data."""

    title: str
    description: str | None
    skills: tuple[str, ...]


@dataclass
class PoolSignals:
    """Per candidate who has at least one rejected or withdrawn application; index i everywhere."""

    candidate_ids: np.ndarray
    anonymized: np.ndarray
    locale: list[str]
    #: Skills and ATS tags, as the ATS spells them.
    skills: list[list[str]]
    ats_tags: list[list[str]]
    operator_tags: list[list[str]]
    location: list[str | None]
    #: The latest rejected/withdrawn application.
    app_id: np.ndarray
    app_external_id: list[str]
    app_status: list[str]
    decided_at: list[datetime | None]
    #: The same as POSIX seconds (NaN without a decision), for vectorised date arithmetic.
    decided_ts: np.ndarray
    category: list[str]
    eligibility: list[str]
    stage: list[str | None]
    stage_level: np.ndarray
    #: Highest stage reached over every rejected/withdrawn application.
    max_stage_level: np.ndarray
    any_never: np.ndarray
    n_applications: np.ndarray
    #: Titles (and the start of the posting text) of every job applied to: the matcher's text side.
    docs: list[str]
    #: Ids of the jobs each person applied to (known at `now`), first application first.
    past_jobs: list[tuple[int, ...]]
    last_title: list[str | None]
    job_family: list[str | None]
    hired_since: np.ndarray
    in_process: np.ndarray
    #: (candidate index, job id) for every application: "already applied to that job".
    applied_cand: np.ndarray
    applied_job: np.ndarray
    talent_pool_granted: np.ndarray
    #: When the current `talent_pool` record expires (None: never, or no record).
    talent_pool_until: list[datetime | None]
    #: Current `recontact` consent: 1 granted, 0 withdrawn, -1 never asked.
    recontact_consent: np.ndarray
    suppressed: np.ndarray
    recontacted_recently: np.ndarray
    index: dict[int, int] = field(default_factory=dict)
    #: Every job someone in the signals applied to, and every renamed job, by id: the occupation
    #: vocabulary reads these.
    jobs: dict[int, PastJob] = field(default_factory=dict)
    #: Jobs the source renamed (known at `now`) -> their titles before, oldest first.
    former_titles: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.candidate_ids)


@functools.lru_cache(maxsize=65536)
def _json_list(raw: str) -> tuple[str, ...]:
    value = json.loads(raw)
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def as_list(value: object) -> list[str]:
    """A JSON list column read as text (SQLite) or decoded already (PostgreSQL JSONB); repeated values
    (most candidates have no tags, skills come from a small vocabulary) are parsed once."""
    if value is None:
        return []
    if isinstance(value, str):
        return list(_json_list(value))
    return [str(v) for v in value] if isinstance(value, list) else []


def _job_text(title: str | None, department: str | None, description: str | None, max_chars: int) -> str:
    parts = [title or "", department or ""]
    if description and max_chars:
        parts.append(description[:max_chars])
    return " ".join(p for p in parts if p)


def load_signals(session: Session, settings: Settings, now: datetime) -> PoolSignals:
    """Read the pool's inputs as of `now` (decisions, consents and mails after `now` are ignored)."""
    cfg = settings.recontact
    # Core connection, not ORM: hundreds of thousands of plain rows, no objects needed.
    conn = session.connection()
    # Every read is a plain scan filtered here: an `IN (SELECT DISTINCT …)` costs SQLite a temporary
    # index per query, and a correlated EXISTS may walk the status index once per candidate.
    app_rows = conn.execute(
        select(Application.candidate_id, Application.id, Application.external_id, Application.status,
               Application.job_id, Application.decided_at, Application.applied_at, Application.stage_reached,
               RejectionReason.category, RejectionReason.pool_eligibility)
        .outerjoin(RejectionReason, RejectionReason.id == Application.reason_id)
        .order_by(Application.candidate_id, Application.id)
    ).all()
    pool_set = {r[0] for r in app_rows if r[3] in DECIDED_STATUSES and r[5] is not None and r[5] <= now}
    jobs: dict[int, tuple[str, str | None, str]] = {}
    past_jobs: dict[int, PastJob] = {}
    for jid, title, dept, desc, req, pref in conn.execute(
        select(Job.id, Job.title, Job.department, Job.description, type_coerce(Job.required_skills, Text),
               type_coerce(Job.preferred_skills, Text))
    ):
        jobs[jid] = (title, dept, _job_text(title, dept, desc, cfg.text_max_chars))
        past_jobs[jid] = PastJob(title or "", desc[:cfg.text_max_chars * 4] if desc else None,
                                 (*as_list(req), *as_list(pref)))
    cands = [c for c in conn.execute(
        select(Candidate.id, Candidate.anonymized_at, Candidate.locale, type_coerce(Candidate.tags, Text),
               type_coerce(Candidate.skills, Text), Candidate.location)
        .order_by(Candidate.id)
    ) if c[0] in pool_set]
    n = len(cands)
    ids = np.fromiter((c[0] for c in cands), dtype=np.int64, count=n)
    index = {int(cid): i for i, cid in enumerate(ids)}

    operator_tags: list[list[str]] = [[] for _ in range(n)]
    for cid, tag in conn.execute(select(PoolTag.candidate_id, PoolTag.tag).order_by(PoolTag.id)):
        i = index.get(cid)
        if i is not None:
            operator_tags[i].append(tag)

    app_id = np.zeros(n, dtype=np.int64)
    app_external: list[str] = [""] * n
    app_status: list[str] = [""] * n
    decided: list[datetime | None] = [None] * n
    category: list[str] = ["other"] * n
    eligibility: list[str] = ["standard"] * n
    stage: list[str | None] = [None] * n
    level = np.zeros(n, dtype=np.int8)
    max_level = np.zeros(n, dtype=np.int8)
    any_never = np.zeros(n, dtype=bool)
    n_apps = np.zeros(n, dtype=np.int32)
    docs_parts: list[dict[int, str]] = [{} for _ in range(n)]
    last_title: list[str | None] = [None] * n
    family: list[str | None] = [None] * n
    hired_at: list[list[datetime]] = [[] for _ in range(n)]
    in_process = np.zeros(n, dtype=bool)
    applied: list[tuple[int, int]] = []

    for cid, aid, ext, status, job_id, dec, applied_at, stg, cat, elig in app_rows:
        i = index.get(cid)
        if i is None:
            continue
        when = dec or applied_at
        if when is not None and when > now:
            continue  # not known yet on `now` (an as_of re-run)
        n_apps[i] += 1
        if job_id is not None:
            applied.append((i, job_id))
            job = jobs.get(job_id)
            if job is not None:
                docs_parts[i][job_id] = job[2]
        if status == "hired":
            hired_at[i].append(when or now)
        elif status == "in_process":
            in_process[i] = True
        elif status in DECIDED_STATUSES and dec is not None:
            lvl = stage_level(stg)
            max_level[i] = max(max_level[i], lvl)
            if elig == "never":
                any_never[i] = True
            previous = decided[i]
            if previous is None or (dec, aid) >= (previous, int(app_id[i])):
                app_id[i], app_external[i], app_status[i], decided[i] = aid, ext, status, dec
                category[i] = cat or ("withdrawn" if status == "withdrawn" else "other")
                eligibility[i] = elig or "standard"
                stage[i], level[i] = stg, lvl
                job = jobs.get(job_id) if job_id is not None else None
                last_title[i] = job[0] if job else None
                family[i] = job[1] if job else None

    hired_since = np.array(
        [any(d is not None and h >= d for h in hired_at[i]) for i, d in enumerate(decided)], dtype=bool
    ) if n else np.zeros(0, dtype=bool)

    tp = latest_by_candidate(conn, "talent_pool", now)
    rc = latest_by_candidate(conn, "recontact", now)
    # The list holds keyed hashes; the addresses are read and hashed inside junkan.consent.suppressed.
    suppressed_ids = suppressed_candidates(conn, (int(c) for c in ids), settings.retention.key_bytes())
    since = now - timedelta(days=cfg.recontact_interval_days)
    recent_ids = set(conn.scalars(
        select(Message.candidate_id).where(
            and_(Message.kind == RECONTACT_KIND, Message.state.in_(CONTACTED_STATES),
                 Message.created_at >= since, Message.created_at <= now)
        ).distinct()
    )) if cfg.recontact_interval_days else set()

    applied_arr = np.array(applied, dtype=np.int64).reshape(-1, 2)
    former: dict[int, list[str]] = {}
    for jid, title in conn.execute(
        select(JobTitleHistory.job_id, JobTitleHistory.title).where(JobTitleHistory.replaced_at <= now)
        .order_by(JobTitleHistory.replaced_at, JobTitleHistory.id)
    ):
        former.setdefault(jid, []).append(title)
    return PoolSignals(
        candidate_ids=ids,
        anonymized=np.array([c[1] is not None for c in cands], dtype=bool),
        locale=[c[2] or "ja" for c in cands],
        skills=[as_list(c[4]) for c in cands],
        ats_tags=[as_list(c[3]) for c in cands],
        operator_tags=operator_tags,
        location=[c[5] for c in cands],
        app_id=app_id,
        app_external_id=app_external,
        app_status=app_status,
        decided_at=decided,
        decided_ts=np.array([np.nan if d is None else d.timestamp() for d in decided], dtype=np.float64),
        category=category,
        eligibility=eligibility,
        stage=stage,
        stage_level=level,
        max_stage_level=max_level,
        any_never=any_never,
        n_applications=n_apps,
        docs=[" ".join(parts.values()) for parts in docs_parts],
        past_jobs=[tuple(parts) for parts in docs_parts],
        last_title=last_title,
        job_family=family,
        hired_since=hired_since,
        in_process=in_process,
        applied_cand=applied_arr[:, 0].copy(),
        applied_job=applied_arr[:, 1].copy(),
        talent_pool_granted=np.array([(s := tp.get(int(c))) is not None and s.granted for c in ids],
                                     dtype=bool),
        talent_pool_until=[s.expires_at if (s := tp.get(int(c))) is not None else None for c in ids],
        recontact_consent=np.array(
            [(1 if rc[int(c)].granted else 0) if int(c) in rc else -1 for c in ids], dtype=np.int8
        ),
        suppressed=np.array([int(c) in suppressed_ids for c in ids], dtype=bool),
        recontacted_recently=np.array([int(c) in recent_ids for c in ids], dtype=bool),
        index=index,
        jobs={jid: past_jobs[jid] for jid in {j for parts in docs_parts for j in parts} | former.keys()},
        former_titles={jid: tuple(titles) for jid, titles in former.items()},
    )
