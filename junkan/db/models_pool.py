"""Talent pool and re-contact tables (docs/pool.md): membership, operator tags, potential scores, stored
models, match runs, matches, the opening states that detect a reopened job, and re-applications.

Everything here is keyed by our own integer ids; what leaves the database about a person is the opaque
`candidate_ref` (junkan.pool.refs), never a name or an address.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from junkan.db.models import Base, BigId
from junkan.db.types import JsonType, UtcDateTime, utcnow

MATCH_BUCKETS = ("強い一致", "良い一致", "部分一致")
RUN_MODES = ("shortlist", "auto")
REAPPLICATION_GROUPS = ("contacted", "holdout")


class PoolMember(Base):
    """A candidate in the talent pool as of the last refresh, with why they qualify."""

    __tablename__ = "pool_member"

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), primary_key=True)
    #: `silver` or `standard` (a `never` reason keeps a candidate out).
    eligibility: Mapped[str] = mapped_column(String(16))
    #: Short machine code of the strongest reason (e.g. "other_candidate", "final_interview").
    why_code: Mapped[str] = mapped_column(String(64))
    #: Why, in Japanese, e.g. "他の候補者を優先" or "最終面接まで進んだ".
    why: Mapped[str] = mapped_column(String(300))
    #: The latest rejected or withdrawn application: what the pool membership rests on.
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Until when the `talent_pool` consent keeps the candidate in the pool (retention).
    consent_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refreshed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PoolTag(Base):
    """A tag an operator set (`junkan pool tag`, CSV import). Automatic tags are derived, not stored."""

    __tablename__ = "pool_tag"
    __table_args__ = (UniqueConstraint("candidate_id", "tag", name="uq_pool_tag_candidate_tag"),
                      Index("ix_pool_tag_tag", "tag"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    tag: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(32), default="operator")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PotentialScore(Base):
    """The latest potential score (0–100) of a pool member, with its top reasons and how it was made."""

    __tablename__ = "pool_score"

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    #: "rules" or "model".
    method: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str | None] = mapped_column(String(64))
    #: Japanese reasons, strongest first, e.g. ["最終面接まで進んだ", "他の候補者を優先"].
    reasons: Mapped[list[str]] = mapped_column(JsonType, default=list)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PoolModel(Base):
    """A trained, calibrated potential model: the serialized estimator and its evaluation."""

    __tablename__ = "pool_model"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    method: Mapped[str] = mapped_column(String(64))
    #: Feature names in the order the estimator expects them.
    features: Mapped[list[str]] = mapped_column(JsonType)
    #: joblib bytes of the fitted estimator.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    #: AUC, Brier score and reliability bins of model and rules on the time-based test split.
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType)
    n_outcomes: Mapped[int] = mapped_column(Integer)
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MatchRun(Base):
    """One `recontact` run: parameters, counts, and the cut-off that decided which openings were new."""

    __tablename__ = "match_run"
    __table_args__ = (CheckConstraint("mode IN ('shortlist', 'auto')", name="mode"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    #: Business time of the run; the next run counts openings opened after it as new.
    run_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: Openings opened after this were new in this run (previous run_at, or the first-run window).
    new_since: Mapped[datetime] = mapped_column(UtcDateTime)
    mode: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JsonType)
    counts: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    score_method: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PoolMatch(Base):
    """One person matched to one new opening in one run, with every score component and the why."""

    __tablename__ = "pool_match"
    __table_args__ = (
        UniqueConstraint("run_id", "job_id", "opening_id", "candidate_id", name="uq_pool_match_run_target"),
        CheckConstraint("bucket IN ('強い一致', '良い一致', '部分一致')", name="bucket"),
        Index("ix_pool_match_candidate", "candidate_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_run.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    opening_id: Mapped[int | None] = mapped_column(ForeignKey("opening.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    #: The candidate's latest rejected/withdrawn application (its external id goes into the export).
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    rank: Mapped[int] = mapped_column(Integer)
    #: 0–100, the weighted sum of the components below.
    score: Mapped[float] = mapped_column(Float)
    required_score: Mapped[float] = mapped_column(Float)
    preferred_score: Mapped[float] = mapped_column(Float)
    text_score: Mapped[float] = mapped_column(Float)
    location_score: Mapped[float] = mapped_column(Float)
    potential_score: Mapped[float] = mapped_column(Float)
    matched_required: Mapped[list[str]] = mapped_column(JsonType, default=list)
    missing_required: Mapped[list[str]] = mapped_column(JsonType, default=list)
    matched_preferred: Mapped[list[str]] = mapped_column(JsonType, default=list)
    bucket: Mapped[str] = mapped_column(String(16))
    why: Mapped[str] = mapped_column(Text)
    #: Held out of the mailing in `auto` mode (deterministic from candidate and run), to measure the lift.
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The re-contact mail that listed this match (auto mode), if any.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))


class PoolOpeningState(Base):
    """What the last run saw of a job or opening: a target seen closed and now open again is new again."""

    __tablename__ = "pool_opening_state"

    #: "job:<id>" or "opening:<id>".
    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    is_open: Mapped[bool] = mapped_column(Boolean)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: When a run last treated it as new.
    new_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PoolReapplication(Base):
    """A later application by someone the pool matched: a re-application from re-contact (`contacted`)
    or, for the lift comparison, from a held-out person (`holdout`)."""

    __tablename__ = "pool_reapplication"
    __table_args__ = (CheckConstraint("grp IN ('contacted', 'holdout')", name="grp"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("pool_match.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("match_run.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    grp: Mapped[str] = mapped_column(String(16))
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: True when the new application is for one of the jobs the run matched the person to.
    same_job: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


WRITEBACK_ACTIONS = ("tag", "note", "prospect", "reapplied_note", "hired_note")
WRITEBACK_STATES = ("pending", "sending", "done", "failed")


class AtsWriteback(Base):
    """One write into the source ATS for one (person, job, action), kept exactly once (docs/pool.md
    "Write-back"): planned `pending`, claimed `sending` (attempts counted before the call), recorded `done`
    with the ATS's id of what it made, or `failed` for good. A row found `sending` after its lease ran out
    was interrupted mid-call: the next run looks in the ATS before writing again."""

    __tablename__ = "ats_writeback"
    __table_args__ = (
        UniqueConstraint("source", "candidate_id", "job_id", "action", name="uq_ats_writeback_target"),
        CheckConstraint("action IN ('tag', 'note', 'prospect', 'reapplied_note', 'hired_note')",
                        name="action"),
        CheckConstraint("state IN ('pending', 'sending', 'done', 'failed')", name="state"),
        Index("ix_ats_writeback_state", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    action: Mapped[str] = mapped_column(String(16))
    #: Opaque key written into the ATS with the note, so a re-run finds what an interrupted run wrote.
    key: Mapped[str] = mapped_column(String(40), unique=True)
    #: The application the write is about (the matched person's last one, or the re-application).
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("pool_match.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The ATS's id of what was written (tag id, note id, application id), or "present" when found there.
    ats_ref: Mapped[str | None] = mapped_column(String(128))
    #: Why it failed: the HTTP status and the ATS's own words about the request, never personal data.
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
