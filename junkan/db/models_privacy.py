"""Privacy tables: erasure tombstones and the audit of every anonymisation (docs/privacy.md).

Neither holds personal data: a tombstone keeps the source, the external ids and the keyed hash of the
address; an audit record keeps when, which rule, and how many rows of each table were scrubbed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from junkan.db.models import Base, BigId
from junkan.db.types import JsonType, UtcDateTime, utcnow

AUDIT_ACTIONS = ("anonymise", "erase")


class ErasureTombstone(Base):
    """What ingest must never store again: one application of an anonymised or erased person.

    An erasure also keeps the keyed hash of the address, so no later record of the person comes in;
    an anonymisation keeps only the external id (a new application is a new start, docs/privacy.md).
    """

    __tablename__ = "erasure_tombstone"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_erasure_tombstone_source_external"),
        Index("ix_erasure_tombstone_email_hash", "email_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    #: The application's external id in that source.
    external_id: Mapped[str] = mapped_column(String(128))
    #: HMAC-SHA256 of the normalised address (erasures only).
    email_hash: Mapped[str | None] = mapped_column(String(64))
    #: The audit record that left it.
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_audit.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PrivacyAudit(Base):
    """One anonymisation run of one rule, or one erasure: when, why, and how many rows per table."""

    __tablename__ = "privacy_audit"
    __table_args__ = (CheckConstraint("action IN ('anonymise', 'erase')", name="action"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    #: "rejected_days", "pool_expired", "stale_quarantine" or "request".
    rule: Mapped[str] = mapped_column(String(32))
    #: The business day the rules judged by (None for an erasure request).
    as_of: Mapped[date | None] = mapped_column(Date)
    candidates: Mapped[int] = mapped_column(Integer)
    #: {table: rows scrubbed or deleted}.
    tables: Mapped[dict[str, Any]] = mapped_column(JsonType)
    #: The operator's reason for an erasure (refused when it names the person).
    reason: Mapped[str | None] = mapped_column(Text)
    performed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
