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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    String,
    Text,
    and_,
    cast,
    extract,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.consent.state import oldest_first
from junkan.consent.suppressed import suppressed_candidates
from junkan.db.models import (
    Application,
    Candidate,
    Consent,
    Job,
    JobTitleHistory,
    Message,
    MessageState,
    RejectionReason,
)
from junkan.db.models_pool import PoolTag
from junkan.ingest.reasons import DEFAULT_FINAL_STAGE_KEYWORDS, fold
from junkan.pool.bulk import gc_paused

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


#: A missing time in the integer-microsecond columns (numpy's NaT).
NO_TIME = np.iinfo(np.int64).min
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros_column(column: Any, dialect: str) -> Any:
    """A UTC time column read as integer microseconds since the epoch without a datetime per value:
    PostgreSQL computes it, SQLite hands over its stored text (parsed by numpy in `_micros`)."""
    if dialect == "postgresql":
        return func.coalesce(cast(extract("epoch", column) * 1_000_000, BigInteger), NO_TIME)
    return type_coerce(column, String)


def micros_array(values: Sequence[Any], dialect: str) -> np.ndarray:
    if dialect == "postgresql":
        return np.array(values, dtype=np.int64).reshape(-1)
    # SQLite stores naive UTC text ("2026-05-18 01:51:14.589130"); numpy parses it exactly, None -> NaT.
    return np.array(values, dtype="datetime64[us]").reshape(-1).astype(np.int64)


def asmicros_array(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def datetimes_of(micros: np.ndarray) -> list[datetime | None]:
    """Aware UTC datetimes (None for NO_TIME), equal to what the ORM reads."""
    naive = micros.astype("datetime64[us]").astype(object)
    return [None if d is None else d.replace(tzinfo=UTC) for d in naive]


def columns_of(rows: Sequence[Any], width: int) -> list[tuple[Any, ...]]:
    return list(zip(*rows, strict=True)) if rows else [()] * width


def object_array(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array of `values` as they are (np.array would make tuples a second dimension)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """`np.unique` of values already in order (rows read ordered by candidate), without sorting again."""
    distinct: np.ndarray = values[np.append(True, values[1:] != values[:-1])] if len(values) else values
    return distinct


def _last_of_runs(keys: np.ndarray) -> np.ndarray:
    """Positions of the last element of each run of equal values in sorted `keys`."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.append(keys[1:] != keys[:-1], True))


def _current_consents(conn: Connection, purpose: str, now: datetime, ids: np.ndarray,
                      dialect: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per person of `ids`: has a current `purpose` record, is it a grant, when does it expire (µs).

    The rule of `junkan.consent.state` (records that count at `now`, the newest wins), read as columns:
    the last row per candidate of `oldest_first` is the current one."""
    rows = conn.execute(oldest_first(purpose, now, type_coerce(Consent.granted, Integer),
                                     micros_column(Consent.expires_at, dialect))).all()
    cand, granted, expires = columns_of(rows, 3)
    cand_a = np.array(cand, dtype=np.int64)
    last = _last_of_runs(cand_a)
    pos = np.searchsorted(ids, cand_a[last])
    found = pos < len(ids)
    found[found] = ids[pos[found]] == cand_a[last][found]
    pos, last = pos[found], last[found]
    has = np.zeros(len(ids), dtype=bool)
    grant = np.zeros(len(ids), dtype=bool)
    until = np.full(len(ids), NO_TIME, dtype=np.int64)
    has[pos] = True
    grant[pos] = np.array(granted, dtype=bool)[last]
    until[pos] = micros_array(expires, dialect)[last]
    return has, grant, until


def load_signals(session: Session, settings: Settings, now: datetime) -> PoolSignals:
    """Read the pool's inputs as of `now` (decisions, consents and mails after `now` are ignored)."""
    with gc_paused():
        return _load_signals(session, settings, now)


def _load_signals(session: Session, settings: Settings, now: datetime) -> PoolSignals:
    cfg = settings.recontact
    # Core connection, not ORM, and columns, not objects: a million rows are read as a few numpy arrays
    # (times as integer microseconds), and the per-person values are computed on the arrays.
    conn = session.connection()
    dialect = conn.dialect.name
    now_us = asmicros_array(now)
    # Every read is a plain scan filtered here: an `IN (SELECT DISTINCT …)` costs SQLite a temporary
    # index per query, and a correlated EXISTS may walk the status index once per candidate.
    app_rows = conn.execute(
        select(Application.candidate_id, Application.id, Application.external_id, Application.status,
               func.coalesce(Application.job_id, -1), micros_column(Application.decided_at, dialect),
               micros_column(Application.applied_at, dialect), Application.stage_reached,
               RejectionReason.category, RejectionReason.pool_eligibility)
        .outerjoin(RejectionReason, RejectionReason.id == Application.reason_id)
        .order_by(Application.candidate_id, Application.id)
    ).all()
    a_cand, a_id, a_ext, a_status, a_job, a_dec, a_applied, a_stage, a_cat, a_elig = columns_of(app_rows, 10)
    del app_rows
    cand_all = np.array(a_cand, dtype=np.int64)
    aid = np.array(a_id, dtype=np.int64)
    status = object_array(a_status)
    job = np.array(a_job, dtype=np.int64)
    dec = micros_array(a_dec, dialect)
    applied_at = micros_array(a_applied, dialect)
    decided_status = (status == "rejected") | (status == "withdrawn")
    has_dec = dec != NO_TIME
    pool_ids = _distinct_sorted(cand_all[decided_status & has_dec & (dec <= now_us)])

    jobs: dict[int, tuple[str, str | None, str]] = {}
    past_jobs: dict[int, PastJob] = {}
    for jid, title, dept, desc, req, pref in conn.execute(
        select(Job.id, Job.title, Job.department, Job.description, type_coerce(Job.required_skills, Text),
               type_coerce(Job.preferred_skills, Text))
    ):
        jobs[jid] = (title, dept, _job_text(title, dept, desc, cfg.text_max_chars))
        past_jobs[jid] = PastJob(title or "", desc[:cfg.text_max_chars * 4] if desc else None,
                                 (*as_list(req), *as_list(pref)))
    cand_rows = conn.execute(
        select(Candidate.id, Candidate.anonymized_at.is_not(None), Candidate.locale,
               type_coerce(Candidate.tags, Text), type_coerce(Candidate.skills, Text), Candidate.location)
        .order_by(Candidate.id)
    ).all()
    c_id, c_anon, c_locale, c_tags, c_skills, c_location = columns_of(cand_rows, 6)
    del cand_rows
    all_ids = np.array(c_id, dtype=np.int64)
    picked = np.flatnonzero(np.isin(all_ids, pool_ids))
    ids = all_ids[picked]
    n = len(ids)
    index = dict(zip(ids.tolist(), range(n), strict=True))

    operator_tags: list[list[str]] = [[] for _ in range(n)]
    for cid, tag in conn.execute(select(PoolTag.candidate_id, PoolTag.tag).order_by(PoolTag.id)):
        i = index.get(cid)
        if i is not None:
            operator_tags[i].append(tag)

    # -- applications: the person of each row, and the rows known at `now`.
    pos = np.searchsorted(ids, cand_all)
    in_pool = pos < n
    in_pool[in_pool] = ids[pos[in_pool]] == cand_all[in_pool]
    when = np.where(has_dec, dec, applied_at)
    valid = in_pool & ((when == NO_TIME) | (when <= now_us))
    n_apps = np.bincount(pos[valid], minlength=n).astype(np.int32)
    in_process = np.zeros(n, dtype=bool)
    in_process[pos[valid & (status == "in_process")]] = True
    with_job = valid & (job >= 0)
    applied_arr = np.column_stack([pos[with_job], job[with_job]]).astype(np.int64)

    # -- the jobs each person applied to, first application first, once each: the matcher's text.
    known_job = with_job & np.isin(job, np.fromiter(jobs, dtype=np.int64, count=len(jobs)))
    kp, kj = pos[known_job], job[known_job]
    _, first = np.unique(kp * (int(kj.max(initial=0)) + 1) + kj, return_index=True)
    first.sort()
    dp, dj = kp[first], kj[first]
    per_person = np.bincount(dp, minlength=n)
    starts = np.concatenate([[0], np.cumsum(per_person)])
    single = {j: (j,) for j in jobs}
    first_job = np.full(n, -1, dtype=np.int64)
    anyone = per_person > 0
    first_job[anyone] = dj[starts[:-1][anyone]]
    person_jobs: list[tuple[int, ...]] = [single.get(j, ()) for j in first_job.tolist()]
    docs = [jobs[j][2] if j >= 0 else "" for j in first_job.tolist()]
    dj_list = dj.tolist()
    for i in np.flatnonzero(per_person > 1).tolist():
        mine = tuple(dj_list[starts[i]:starts[i + 1]])
        person_jobs[i] = mine
        docs[i] = " ".join(jobs[j][2] for j in mine)

    # -- decisions: the latest (by time, then id) rejected/withdrawn application, the highest stage.
    decided = np.flatnonzero(valid & decided_status & has_dec)
    stage_of = {v: stage_level(v) for v in set(a_stage)}
    levels = np.fromiter((stage_of[a_stage[r]] for r in decided.tolist()), dtype=np.int8, count=len(decided))
    max_level = np.zeros(n, dtype=np.int8)
    np.maximum.at(max_level, pos[decided], levels)
    any_never = np.zeros(n, dtype=bool)
    elig_col = object_array(a_elig)
    any_never[pos[decided[elig_col[decided] == "never"]]] = True
    order = np.lexsort((aid[decided], dec[decided], pos[decided]))
    last = _last_of_runs(pos[decided][order])
    latest_rows = decided[order][last]
    who = pos[latest_rows]

    app_id = np.zeros(n, dtype=np.int64)
    app_id[who] = aid[latest_rows]
    level = np.zeros(n, dtype=np.int8)
    level[who] = levels[order][last]
    decided_us = np.full(n, NO_TIME, dtype=np.int64)
    decided_us[who] = dec[latest_rows]

    latest = latest_rows.tolist()

    def by_person(values: list[Any], default: Any) -> list[Any]:
        out = np.full(n, default, dtype=object)
        out[who] = values
        return out.tolist()

    app_external = by_person([a_ext[r] for r in latest], "")
    app_status = by_person([a_status[r] for r in latest], "")
    stage = by_person([a_stage[r] for r in latest], None)
    category = by_person(
        [a_cat[r] or ("withdrawn" if a_status[r] == "withdrawn" else "other") for r in latest], "other")
    eligibility = by_person([a_elig[r] or "standard" for r in latest], "standard")
    latest_job = np.full(n, -1, dtype=np.int64)
    latest_job[who] = job[latest_rows]
    last_title = [jobs[j][0] if j in jobs else None for j in latest_job.tolist()]
    family = [jobs[j][1] if j in jobs else None for j in latest_job.tolist()]

    # -- hired since the latest decision (a hire without any date counts as hired now).
    hired = valid & (status == "hired")
    latest_hire = np.full(n, NO_TIME, dtype=np.int64)
    np.maximum.at(latest_hire, pos[hired], np.where(when[hired] == NO_TIME, now_us, when[hired]))
    hired_since = (decided_us != NO_TIME) & (latest_hire != NO_TIME) & (latest_hire >= decided_us)

    _, tp_granted, tp_until = _current_consents(conn, "talent_pool", now, ids, dialect)
    rc_has, rc_granted, _ = _current_consents(conn, "recontact", now, ids, dialect)
    # The list holds keyed hashes; the addresses are read and hashed inside junkan.consent.suppressed.
    suppressed_ids = suppressed_candidates(conn, ids.tolist(), settings.retention.key_bytes())
    since = now - timedelta(days=cfg.recontact_interval_days)
    recent_ids = set(conn.scalars(
        select(Message.candidate_id).where(
            and_(Message.kind == RECONTACT_KIND, Message.state.in_(CONTACTED_STATES),
                 Message.created_at >= since, Message.created_at <= now)
        ).distinct()
    )) if cfg.recontact_interval_days else set()

    former: dict[int, list[str]] = {}
    for jid, title in conn.execute(
        select(JobTitleHistory.job_id, JobTitleHistory.title).where(JobTitleHistory.replaced_at <= now)
        .order_by(JobTitleHistory.replaced_at, JobTitleHistory.id)
    ):
        former.setdefault(jid, []).append(title)
    kept = picked.tolist()
    return PoolSignals(
        candidate_ids=ids,
        anonymized=np.array(c_anon, dtype=bool)[picked] if n else np.zeros(0, dtype=bool),
        locale=[c_locale[k] or "ja" for k in kept],
        skills=[as_list(c_skills[k]) for k in kept],
        ats_tags=[as_list(c_tags[k]) for k in kept],
        operator_tags=operator_tags,
        location=[c_location[k] for k in kept],
        app_id=app_id,
        app_external_id=app_external,
        app_status=app_status,
        decided_at=datetimes_of(decided_us),
        decided_ts=np.where(decided_us == NO_TIME, np.nan, decided_us.astype(np.float64) / 1e6),
        category=category,
        eligibility=eligibility,
        stage=stage,
        stage_level=level,
        max_stage_level=max_level,
        any_never=any_never,
        n_applications=n_apps,
        docs=docs,
        past_jobs=person_jobs,
        last_title=last_title,
        job_family=family,
        hired_since=hired_since,
        in_process=in_process,
        applied_cand=applied_arr[:, 0].copy(),
        applied_job=applied_arr[:, 1].copy(),
        talent_pool_granted=tp_granted,
        talent_pool_until=datetimes_of(tp_until),
        recontact_consent=np.where(rc_has, rc_granted.astype(np.int8), np.int8(-1)).astype(np.int8),
        suppressed=np.isin(ids, np.fromiter(suppressed_ids, dtype=np.int64, count=len(suppressed_ids))),
        recontacted_recently=np.isin(ids, np.fromiter(recent_ids, dtype=np.int64, count=len(recent_ids))),
        index=index,
        jobs={jid: past_jobs[jid] for jid in sorted({*dj.tolist(), *former})},
        former_titles={jid: tuple(titles) for jid, titles in former.items()},
    )
