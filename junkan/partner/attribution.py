"""Attribution: each reported code resolves to the message (and candidate) that carried it.

Rules (docs/partner.md "Attribution"):
- a code that no message of ours carried is quarantined (record_type "referral") with its reason — as
  "forged or tampered" when its signature check fails, else as "unknown" — and is never counted;
- a code issued for another partner is quarantined too: a partner cannot claim another's referrals;
- a code reported as having happened before its message was accepted by the mail provider (or whose
  message was never accepted at all) is stored but flagged suspicious;
- each (partner, code, status) is stored once, however often it is reported (first report wins);
- a line dated before 1990 or later than the run's clock plus a day is quarantined, not flagged: a
  registration cannot have happened in 2099, and storing it would make the first report win over a
  corrected one (docs/partner.md).

Work is done in chunks with one SELECT and one multi-row INSERT each, so a report of 100,000 rows costs a
few hundred statements, not 100,000 round trips.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.db.dialect import conflict_insert
from junkan.db.models import Message
from junkan.db.models_partner import PartnerReferral
from junkan.db.types import utcnow
from junkan.partner.records import BadReferral, ReferralRecord
from junkan.plausibility import DateBounds
from junkan.quarantine import merge_quarantine
from junkan.tally import Tally

CHUNK = 1000
RECORD_TYPE = "referral"


@dataclass(slots=True)
class AttributionCounts(Tally):
    fetched: int = 0
    new_referrals: int = 0
    already_known: int = 0
    quarantined: int = 0
    new_suspicious: int = 0
    #: Genuine codes (found in our outbox) whose signature no longer verifies: the link secret changed
    #: without keeping the old one in `fallback_secrets`. Counted anyway; worth an operator's look.
    signature_mismatch: int = 0
    max_occurred_at: datetime | None = None
    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, other: AttributionCounts) -> None:
        Tally.add(self, other)  # not super(): a slots dataclass is a new class, zero-argument super() fails
        if other.max_occurred_at is not None and (
            self.max_occurred_at is None or other.max_occurred_at > self.max_occurred_at
        ):
            self.max_occurred_at = other.max_occurred_at
        for status, n in other.by_status.items():
            self.by_status[status] = self.by_status.get(status, 0) + n


def quarantine_source(partner: str) -> str:
    return f"partner:{partner}"


def store_referrals(
    session: Session,
    partner: str,
    kind: str,
    items: Iterable[ReferralRecord | BadReferral],
    *,
    verify_code: Callable[[str], bool],
    now: datetime | None = None,
) -> AttributionCounts:
    """Attribute and store every item (in the caller's transaction). Returns what happened."""
    now = now or utcnow()
    report = _Report(partner, kind, verify_code, now, DateBounds.around(now, UTC))
    counts = AttributionCounts()
    for chunk in batched(items, CHUNK):
        counts.fetched += len(chunk)
        _store_chunk(session, report, chunk, counts)
    return counts


@dataclass(frozen=True, slots=True)
class _Report:
    """Whose report is stored, how it came in (`kind`, recorded on each referral), how its codes are
    checked, and when."""

    partner: str
    kind: str
    verify_code: Callable[[str], bool]
    now: datetime
    dates: DateBounds


def _store_chunk(
    session: Session, report: _Report, chunk: list[ReferralRecord | BadReferral], counts: AttributionCounts
) -> None:
    partner = report.partner
    bad: list[tuple[str, dict[str, Any], str | None]] = []
    # First report of a (code, status) in this chunk wins, as it does across runs.
    records: dict[tuple[str, str], ReferralRecord] = {}
    for item in chunk:
        if isinstance(item, BadReferral):
            bad.append((item.reason, item.raw, item.ref_code))
        elif (implausible := report.dates.problem("occurred_at", item.occurred_at)) is not None:
            bad.append((implausible, item.raw, item.ref_code))
        else:
            key = (item.ref_code, item.status)
            if key in records:
                counts.already_known += 1  # restated within the same report
            else:
                records[key] = item
            if counts.max_occurred_at is None or item.occurred_at > counts.max_occurred_at:
                counts.max_occurred_at = item.occurred_at

    codes = sorted({code for code, _ in records})
    messages = (
        {
            row.ref_code: row
            for row in session.execute(
                select(
                    Message.id,
                    Message.ref_code,
                    Message.candidate_id,
                    Message.partner_name,
                    Message.accepted_at,
                    Message.state,
                ).where(Message.ref_code.in_(codes))
            )
        }
        if codes
        else {}
    )
    known = (
        {
            tuple(row)
            for row in session.execute(
                select(PartnerReferral.ref_code, PartnerReferral.status).where(
                    PartnerReferral.partner == partner,
                    tuple_(PartnerReferral.ref_code, PartnerReferral.status).in_(list(records)),
                )
            )
        }
        if records
        else set()
    )

    rows: list[dict[str, Any]] = []
    for (code, status), record in records.items():
        message = messages.get(code)
        if message is None:
            if report.verify_code(code):
                reason = "unknown referral code: validly signed, but no message of ours carried it"
            else:
                reason = "forged or tampered referral code: signature check failed"
            bad.append((reason, record.raw, code))
            continue
        if message.partner_name != partner:
            bad.append(
                (
                    f"referral code was issued for partner {message.partner_name!r}, not {partner!r}",
                    record.raw,
                    code,
                )
            )
            continue
        if (code, status) in known:
            counts.already_known += 1
            continue
        if not report.verify_code(code):
            counts.signature_mismatch += 1
        suspicious_reason = _suspicion(record.occurred_at, message.accepted_at, message.state)
        rows.append(
            {
                "partner": partner,
                "ref_code": code,
                "status": status,
                "occurred_at": record.occurred_at,
                "message_id": message.id,
                "candidate_id": message.candidate_id,
                "suspicious": suspicious_reason is not None,
                "suspicious_reason": suspicious_reason,
                "reported_via": report.kind,
                "first_reported_at": report.now,
            }
        )

    if rows:
        stmt = conflict_insert(session, PartnerReferral).on_conflict_do_nothing(
            index_elements=["partner", "ref_code", "status"]
        )
        # RETURNING tells exactly which rows were new even if a concurrent sync stored some first.
        inserted = session.execute(
            stmt.returning(PartnerReferral.status, PartnerReferral.suspicious), rows
        ).all()
        counts.new_referrals += len(inserted)
        counts.already_known += len(rows) - len(inserted)
        for status, suspicious in inserted:
            counts.by_status[status] = counts.by_status.get(status, 0) + 1
            counts.new_suspicious += int(bool(suspicious))
    if bad:
        counts.quarantined += len(bad)
        _quarantine(session, partner, bad, report.now)


def _suspicion(occurred_at: datetime, accepted_at: datetime | None, state: str) -> str | None:
    if accepted_at is None:
        return f"reported for a message the mail provider never accepted (message state {state})"
    if occurred_at < accepted_at:
        return (
            f"occurred_at {occurred_at.isoformat()} is before its message was accepted "
            f"({accepted_at.isoformat()})"
        )
    return None


def _fingerprint(raw: dict[str, Any], code: str | None) -> str:
    payload = json.dumps({"raw": raw, "code": code}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _quarantine(
    session: Session, partner: str, bad: list[tuple[str, dict[str, Any], str | None]], now: datetime
) -> None:
    # One row per distinct record; PostgreSQL refuses to upsert the same key twice in one statement.
    merged: dict[str, dict[str, Any]] = {}
    for reason, raw, code in bad:
        fp = _fingerprint(raw, code)
        if fp in merged:
            merged[fp]["seen_count"] += 1
            continue
        merged[fp] = {
            "source": quarantine_source(partner),
            "record_type": RECORD_TYPE,
            "external_id": code[:200] if code else None,
            "fingerprint": fp,
            "raw": raw,
            "reason": reason,
            "first_seen": now,
            "last_seen": now,
            "seen_count": 1,
        }
    merge_quarantine(session, list(merged.values()), reopen=False)
