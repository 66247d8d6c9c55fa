"""Relay-partner tables: referral facts, the append-only credit ledger, and the per-partner sync state.

The ledger is the money-like part: every row is one credit coming in (`earned`, +1) or going out
(`redeemed` / `expired`, -1, pointing at the earned row it consumes). The shape makes the invariants
structural rather than hoped-for:

- `idempotency_key` is unique, so a re-run cannot add the same earned credit or redemption twice;
- `earned_entry_id` is unique, so one earned credit is consumed at most once — the balance (the sum of
  `credits`) can therefore never go below zero;
- migration 0004 adds triggers that reject UPDATE (both dialects) and DELETE (PostgreSQL) of ledger rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from junkan.db.models import Base, BigId
from junkan.db.types import JsonType, UtcDateTime, utcnow

REFERRAL_STATUSES = ("registered", "interviewed", "placed")
LEDGER_KINDS = ("earned", "redeemed", "expired")

_LEDGER_SHAPE = (
    "(kind = 'earned' AND credits = 1 AND earned_entry_id IS NULL)"
    " OR (kind IN ('redeemed', 'expired') AND credits = -1 AND earned_entry_id IS NOT NULL)"
)


class PartnerReferral(Base):
    """One status a partner reported for one referral code, attributed to the message that carried it.

    Unique per (partner, ref_code, status): a status counts once however often the partner reports it.
    Codes that cannot be attributed never land here; they go to `quarantine` (record_type "referral").
    """

    __tablename__ = "partner_referral"
    __table_args__ = (
        UniqueConstraint("partner", "ref_code", "status", name="uq_partner_referral_partner_code_status"),
        CheckConstraint("status IN ('registered', 'interviewed', 'placed')", name="status"),
        Index("ix_partner_referral_partner_status_occurred", "partner", "status", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    ref_code: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    #: When it happened at the partner (their clock), as they reported it.
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    #: E.g. reported before the carrying message was accepted; not counted unless the contract says so.
    suspicious: Mapped[bool] = mapped_column(Boolean, default=False)
    suspicious_reason: Mapped[str | None] = mapped_column(String(300))
    #: "http" or "csv": which adapter first brought it in.
    reported_via: Mapped[str] = mapped_column(String(16))
    first_reported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PartnerLedgerEntry(Base):
    """An append-only credit movement. Balance = SUM(credits); value = SUM(value_yen)."""

    __tablename__ = "partner_ledger"
    __table_args__ = (
        CheckConstraint("kind IN ('earned', 'redeemed', 'expired')", name="kind"),
        CheckConstraint(_LEDGER_SHAPE, name="shape"),
        CheckConstraint("kind <> 'redeemed' OR hire_ref IS NOT NULL", name="redeem_has_hire"),
        Index("ix_partner_ledger_partner_kind_credit", "partner", "kind", "credit_no"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    #: +1 for earned, -1 for redeemed / expired.
    credits: Mapped[int] = mapped_column(Integer)
    #: Signed value of the movement in yen (a consumption carries the value its earned credit had).
    value_yen: Mapped[int] = mapped_column(Integer)
    #: The ordinal of the credit concerned (1 = the partner's first credit ever), for humans and FIFO.
    credit_no: Mapped[int] = mapped_column(Integer)
    #: For redeemed / expired: the earned entry consumed. Unique: a credit is consumed at most once.
    earned_entry_id: Mapped[int | None] = mapped_column(ForeignKey("partner_ledger.id"), unique=True)
    #: The operator's opaque reference of the hire the credit paid for (redemptions only).
    hire_ref: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    #: Business time: when the credit was earned (the completing referral), redeemed, or expired.
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: "earned:<partner>:<n>", "expired:<partner>:<n>", "redeemed:<partner>:<hire_ref>".
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)


class PartnerSyncState(Base):
    """Where the last successful sync of a partner got to; advanced in the transaction that stored it."""

    __tablename__ = "partner_sync_state"

    partner: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Latest `occurred_at` stored so far; the next HTTP fetch asks from a little before it.
    watermark: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_synced_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_kind: Mapped[str] = mapped_column(String(16))
    #: Counts of the last run (fetched, new, quarantined …): no personal data, only numbers.
    last_stats: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
