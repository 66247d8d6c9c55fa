"""Typed SQLAlchemy 2 models. The Alembic migrations in sql/migrations create exactly this schema.

Keys coming from an ATS are `(source, external_id)`; our own primary keys are integers that never leave
the database except as opaque ids (messages use a random `public_id`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from junkan.db.types import JsonType, UtcDateTime, utcnow

# Stable constraint names keep Alembic migrations identical on both dialects.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Integer primary keys: BIGINT on PostgreSQL, INTEGER (rowid alias, autoincrement) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")

APPLICATION_STATUSES = ("in_process", "hired", "rejected", "withdrawn")
#: `all_mail` is only ever withdrawn: "send me nothing at all from this employer" (docs/privacy.md).
CONSENT_PURPOSES = ("talent_pool", "partner_info", "recontact", "all_mail")
POOL_ELIGIBILITY = ("never", "silver", "standard")
class MessageState(StrEnum):
    """The outbox's states (docs/outbox.md "States"); the values are what the `message.state` column holds.

    Only `junkan/outbox/` moves a message between them (`junkan.outbox.transitions`)."""

    PENDING = "pending"
    SENDING = "sending"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"


#: The kind of the one mail without a candidate: the monthly report to internal recipients.
INTERNAL_REPORT_KIND = "report"
ADDRESSEE_CHECK = (f"candidate_id IS NOT NULL OR (kind = '{INTERNAL_REPORT_KIND}' "
                   "AND recipient_hash IS NOT NULL)")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Every model here is mapped to a plain Table; saying so lets `Model.__table__.insert()` type-check.
    __table__: ClassVar[Table]


class SourceKeyed:
    """A row mirrored from a source (an ATS or a spreadsheet), found there by `(source, external_id)`.

    Ingest upserts on that pair, so each such table carries the unique constraint `uq_<table>_source_external`
    (the migrations name it so). The columns come first in the table, as the migrations create them.
    """

    if TYPE_CHECKING:  # each model sets it; declared here only for `__table_args__` below
        __tablename__: str

    id: Mapped[int] = mapped_column(BigId, primary_key=True, sort_order=-3)
    source: Mapped[str] = mapped_column(String(64), sort_order=-2)
    external_id: Mapped[str] = mapped_column(String(128), sort_order=-1)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (source_key(cls.__tablename__),)


def source_key(table: str) -> UniqueConstraint:
    """The constraint behind ingest's upsert; a table that declares more `__table_args__` lists it too."""
    return UniqueConstraint("source", "external_id", name=f"uq_{table}_source_external")


class Job(SourceKeyed, Base):
    __tablename__ = "job"

    title: Mapped[str] = mapped_column(String(300))
    department: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: Posting text, skills and place of work: what the re-contact matcher reads (migration 0006).
    description: Mapped[str | None] = mapped_column(Text)
    required_skills: Mapped[list[str] | None] = mapped_column(JsonType)
    preferred_skills: Mapped[list[str] | None] = mapped_column(JsonType)
    location: Mapped[str | None] = mapped_column(String(200))


class JobTitleHistory(Base):
    """A title a job had before the source renamed it (migration 0016), recorded once per job and title by
    ingest: what teaches the matcher that the old name is the same work (docs/pool.md "Vocabulary")."""

    __tablename__ = "job_title_history"
    __table_args__ = (UniqueConstraint("job_id", "title", name="uq_job_title_history_job_title"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    title: Mapped[str] = mapped_column(String(300))
    #: When ingest first saw the job under another title: the old title was in use until then.
    replaced_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Opening(SourceKeyed, Base):
    __tablename__ = "opening"

    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RejectionReason(SourceKeyed, Base):
    """A source's rejection reason with our category and pool eligibility (docs/ingest.md, "Rejection reason
    mapping")."""

    __tablename__ = "rejection_reason"
    __table_args__ = (
        source_key("rejection_reason"),
        CheckConstraint(_in("pool_eligibility", POOL_ELIGIBILITY), name="pool_eligibility"),
    )

    #: Longer than other ids: a spreadsheet's reason id is made from the reason's text.
    external_id: Mapped[str] = mapped_column(String(200), sort_order=-1)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="rejected")
    category: Mapped[str] = mapped_column(String(64), default="other")
    pool_eligibility: Mapped[str] = mapped_column(String(16), default="standard")
    #: Version of the reason→category mapping that assigned `category`, shown in reports.
    mapping_version: Mapped[str] = mapped_column(String(32), default="1")


class Candidate(Base):
    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: NFKC + trim + case-fold e-mail: the identity key across applications and sources.
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone_key: Mapped[str | None] = mapped_column(String(32), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    #: Skills from the ATS (matching input) and where the candidate lives or wants to work (migration 0006).
    skills: Mapped[list[str] | None] = mapped_column(JsonType)
    location: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: Set by retention; the row stays (without personal data) so KPIs still add up.
    anonymized_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Application(SourceKeyed, Base):
    __tablename__ = "application"
    __table_args__ = (
        source_key("application"),
        CheckConstraint(_in("status", APPLICATION_STATUSES), name="status"),
        # INCLUDE (PostgreSQL): the report KPIs read these indexes only (migration 0011_report_covering).
        Index("ix_application_status_decided", "status", "decided_at",
              postgresql_include=["id", "job_id", "created_at"]),
        Index("ix_application_applied_at", "applied_at",
              postgresql_include=["job_id", "candidate_id", "is_reapplication"]),
    )

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    #: The source's id of the person (Greenhouse candidate, Lever contact): write-back and the shortlist's
    #: link reach the person by it (migration 0014).
    candidate_external_id: Mapped[str | None] = mapped_column(String(128))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("rejection_reason.id"))
    reason_text: Mapped[str | None] = mapped_column(String(500))
    stage_reached: Mapped[str | None] = mapped_column(String(200))
    #: True when the candidate had an earlier rejected or withdrawn application when this one arrived.
    is_reapplication: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    source_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Hash of the normalised source record; an unchanged hash means a re-run changes nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Consent(Base):
    """Append-only consent log; the newest unexpired row per (candidate, purpose) is the current state
    (junkan/consent/state.py)."""

    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint(_in("purpose", CONSENT_PURPOSES), name="purpose"),
        Index("ix_consent_candidate_purpose", "candidate_id", "purpose", "recorded_at"),
        Index("ix_consent_purpose_expires", "purpose", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: Where it came from: an ATS source name, "unsubscribe", "sendgrid", "operator".
    source: Mapped[str] = mapped_column(String(64))
    wording_version: Mapped[str | None] = mapped_column(String(32))
    #: When this record stops counting (a grant lapses); NULL = never. Set at write time from the
    #: `consent` settings (junkan/consent/expiry.py).
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DecisionLog(Base):
    """Every status change as received, with the raw source payload kept for audit."""

    __tablename__ = "decision_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)


class Watermark(Base):
    """Per-source incremental position; advanced only in the transaction that commits the batch."""

    __tablename__ = "watermark"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Quarantine(Base):
    """Records that could not be ingested, with a readable reason; a re-run bumps `last_seen`."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("source", "fingerprint", name="uq_quarantine_source_fingerprint"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    #: Which kind of record: application, referral, event …
    record_type: Mapped[str] = mapped_column(String(32), default="application")
    external_id: Mapped[str | None] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]] = mapped_column(JsonType)
    reason: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    seen_count: Mapped[int] = mapped_column(Integer, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Message(Base):
    """The outbox: one row per logical message, the unit of exactly-once sending (docs/outbox.md)."""

    __tablename__ = "message"
    __table_args__ = (
        CheckConstraint(_in("state", tuple(s.value for s in MessageState)), name="state"),
        # A mail goes to a candidate, or (the monthly report) to an internal recipient known by hash only.
        CheckConstraint(ADDRESSEE_CHECK, name="addressee"),
        Index("ix_message_state_due", "state", "due_at"),
        Index("ix_message_state_lease", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Opaque random id: the only identifier that leaves the system (custom_args, links, logs).
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: "(application|match):<id>:<kind>"; unique, so enqueueing twice does nothing.
    logical_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: None only for internal mail (kind `report`, migration 0016), which has `recipient_hash` instead.
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=MessageState.PENDING.value)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: Advertising mail (partner section, re-contact) needs opt-in and an opt-out (特定電子メール法).
    advertising: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    template_name: Mapped[str | None] = mapped_column(String(200))
    template_version: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    ref_code: Mapped[str | None] = mapped_column(String(100), unique=True)
    partner_name: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_reason: Mapped[str | None] = mapped_column(String(200))
    #: Short machine-readable cause of the last failure ("http_400", "timeout", "crash" …), for review.
    last_error_code: Mapped[str | None] = mapped_column(String(32))
    #: Operator decision on an `unknown` message ("sent" or "resend") and when it was taken.
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Internal mail: the keyed hash (junkan.keyed) of the configured recipient's address; the address
    #: itself is read from the settings when the mail is sent, and never stored.
    recipient_hash: Mapped[str | None] = mapped_column(String(64))
    #: Internal mail: what the mail is about (the report's period, its PDF, the headline figures).
    payload: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class Suppression(Base):
    """Addresses never to mail: hard bounces, unsubscribes, complaints, manual entries.

    Only the keyed hash of the address is kept (junkan.keyed, migration 0010): a suppression
    outlives the person's anonymisation or erasure.
    """

    __tablename__ = "suppression"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: HMAC-SHA256 of the normalised address; None only on a row from before 0010 not yet hashed.
    email_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Plain address of a row from before 0010, until `junkan.consent.suppressed.hash_plain_rows`
    #: replaces it by `email_hash` (the retention flow does, every day). Never written any more.
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    reason: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


#: The instant a message counts as sent in the reports (migration 0008_report_indexes).
Index("ix_message_sent_at", func.coalesce(Message.accepted_at, Message.sending_at))
#: At most one rejection notice per application (its logical key says so too), with what the follow-up
#: KPI reads of it (migration 0011_report_covering).
Index("ix_message_rejection_notice", Message.application_id, unique=True,
      postgresql_where=Message.kind == "rejection", sqlite_where=Message.kind == "rejection",
      postgresql_include=["accepted_at", "state", "cancelled_reason"])
