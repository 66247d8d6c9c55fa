"""The credit ledger: contract rules, earning, expiry (FIFO), redemption, balance and progress.

Semantics (docs/partner.md has the operator's version):
- A *counted referral* is a stored referral fact of the contract's `counted_status` (default
  `registered`); suspicious facts count only when the contract says `count_suspicious`. Facts are unique
  per (partner, code, status), so the count is a count of distinct codes.
- Credits earned so far = floor(counted / registrations_per_credit). Each credit is one `earned` row
  (+1), keyed "earned:<partner>:<n>", so computing the same credits again inserts nothing.
- A redemption or an expiry is a -1 row that names the earned row it consumes (oldest first: FIFO).
  A credit can be consumed once (unique `earned_entry_id`), so the balance can never go negative.
- Balance = SUM(credits); value in yen = SUM(value_yen). Nothing is ever updated or deleted.
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnExpressionArgument, Engine, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from junkan.config import PartnerSettings
from junkan.db.dialect import conflict_insert, insert_ignore
from junkan.db.engine import session_scope
from junkan.db.models import Quarantine
from junkan.db.models_partner import PartnerLedgerEntry, PartnerReferral
from junkan.db.types import utcnow
from junkan.partner.attribution import RECORD_TYPE, quarantine_source
from junkan.partner.factory import partner_timezone
from junkan.partner.records import STATUSES

MAX_HIRE_REF = 200


class LedgerError(RuntimeError):
    """A ledger operation that cannot be done as asked; the message says why, for the operator."""


class NoCreditsError(LedgerError):
    pass


@dataclass(frozen=True, slots=True)
class ContractRule:
    partner: str
    registrations_per_credit: int = 10
    counted_status: str = "registered"
    credit_value_yen: int = 0
    expiry_months: int | None = None
    count_suspicious: bool = False
    #: The contract's calendar: "valid 6 months" counts months in the partner's time zone, not in UTC.
    tz: tzinfo = UTC

    def __post_init__(self) -> None:
        if self.registrations_per_credit < 1:
            raise ValueError("registrations_per_credit must be at least 1")
        if self.counted_status not in STATUSES:
            raise ValueError(f"counted_status must be one of {', '.join(STATUSES)}")
        if self.expiry_months is not None and self.expiry_months < 1:
            raise ValueError("expiry_months must be at least 1 (or None for no expiry)")

    @classmethod
    def from_settings(cls, partner: PartnerSettings) -> ContractRule:
        return cls(
            partner=partner.name,
            registrations_per_credit=partner.registrations_per_credit,
            counted_status=partner.counted_status,
            credit_value_yen=partner.credit_value_yen,
            expiry_months=partner.credit_expiry_months,
            count_suspicious=partner.count_suspicious,
            tz=partner_timezone(partner),
        )


@dataclass(frozen=True, slots=True)
class PartnerSummary:
    partner: str
    period_start: date
    period_end: date
    registrations_period: int
    registrations_all_time: int
    counted_status: str
    counted_all_time: int
    interviewed_all_time: int
    placed_all_time: int
    suspicious: int
    quarantined: int
    credits_earned: int
    credits_redeemed: int
    credits_expired: int
    balance: int
    value_yen: int
    per_credit: int
    progress_count: int

    @property
    def progress(self) -> str:
        return f"{self.progress_count} / {self.per_credit}"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["progress"] = self.progress
        data["period_start"] = self.period_start.isoformat()
        data["period_end"] = self.period_end.isoformat()
        return data


# -- counting ----------------------------------------------------------------------------------------------
def _fact_filter(rule: ContractRule, status: str) -> list[Any]:
    conditions: list[Any] = [PartnerReferral.partner == rule.partner, PartnerReferral.status == status]
    if not rule.count_suspicious:
        conditions.append(PartnerReferral.suspicious.is_(False))
    return conditions


def count_referrals(
    session: Session,
    rule: ContractRule,
    *,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> int:
    """Distinct codes with `status` (default: the counted one) that count, optionally in [start, end)."""
    conditions = _fact_filter(rule, status or rule.counted_status)
    if start is not None:
        conditions.append(PartnerReferral.occurred_at >= start)
    if end is not None:
        conditions.append(PartnerReferral.occurred_at < end)
    return int(session.scalar(select(func.count()).select_from(PartnerReferral).where(*conditions)) or 0)


def _entries_sum(session: Session, value: ColumnExpressionArgument[int],
                 *where: ColumnExpressionArgument[bool]) -> int:
    """SUM(value) over the ledger entries that match `where`; 0 when none do."""
    return int(session.scalar(select(func.coalesce(func.sum(value), 0)).where(*where)) or 0)


def _kind_total(session: Session, partner: str, kind: str) -> int:
    return _entries_sum(session, func.abs(PartnerLedgerEntry.credits), PartnerLedgerEntry.partner == partner,
                        PartnerLedgerEntry.kind == kind)


def balance(session: Session, partner: str) -> int:
    """The balance is by definition the sum of the entries: there is no stored total to drift."""
    return _entries_sum(session, PartnerLedgerEntry.credits, PartnerLedgerEntry.partner == partner)


def balance_value_yen(session: Session, partner: str) -> int:
    return _entries_sum(session, PartnerLedgerEntry.value_yen, PartnerLedgerEntry.partner == partner)


def _insert_entries(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert ledger rows; a row whose key (or consumed credit) already exists is skipped, not an error."""
    if not rows:
        return 0
    stmt = insert_ignore(session, PartnerLedgerEntry)
    return len(session.execute(stmt.returning(PartnerLedgerEntry.id), rows).all())


# -- earning -----------------------------------------------------------------------------------------------
def accrue(session: Session, rule: ContractRule, *, now: datetime | None = None) -> int:
    """Add the `earned` rows the counted referrals now justify. Returns how many credits were added."""
    now = now or utcnow()
    per = rule.registrations_per_credit
    target = count_referrals(session, rule) // per
    have = int(
        session.scalar(
            select(func.coalesce(func.max(PartnerLedgerEntry.credit_no), 0)).where(
                PartnerLedgerEntry.partner == rule.partner, PartnerLedgerEntry.kind == "earned"
            )
        )
        or 0
    )
    if target <= have:
        return 0
    # The n-th credit is earned by the (n*per)-th counted referral in time order: one windowed query
    # fetches exactly those, however many credits a first big import produces.
    rn = func.row_number().over(order_by=(PartnerReferral.occurred_at, PartnerReferral.id)).label("rn")
    counted = _fact_filter(rule, rule.counted_status)
    ranked = select(PartnerReferral.occurred_at, rn).where(*counted).subquery()
    completing = session.execute(
        select(ranked.c.occurred_at, ranked.c.rn)
        .where(ranked.c.rn > have * per, ranked.c.rn <= target * per, ranked.c.rn % per == 0)
        .order_by(ranked.c.rn)
    ).all()
    rows = []
    for occurred_at, position in completing:
        n = int(position) // per
        rows.append(
            {
                "partner": rule.partner,
                "kind": "earned",
                "credits": 1,
                "value_yen": rule.credit_value_yen,
                "credit_no": n,
                "earned_entry_id": None,
                "hire_ref": None,
                "reason": f"credit {n}: {n * per} {rule.counted_status} referrals counted ({per} per credit)",
                # A partner clock running ahead must not push the credit's expiry into the future.
                "effective_at": min(occurred_at, now),
                "created_at": now,
                "idempotency_key": f"earned:{rule.partner}:{n}",
            }
        )
    return _insert_entries(session, rows)


# -- expiry ------------------------------------------------------------------------------------------------
def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _unconsumed_earned(partner: str) -> Any:
    consumer = aliased(PartnerLedgerEntry)
    return select(PartnerLedgerEntry).where(
        PartnerLedgerEntry.partner == partner,
        PartnerLedgerEntry.kind == "earned",
        ~select(consumer.id).where(consumer.earned_entry_id == PartnerLedgerEntry.id).exists(),
    )


def expire(session: Session, rule: ContractRule, *, reference: datetime, now: datetime | None = None) -> int:
    """Add `expired` rows for unconsumed credits older than the contract's expiry at `reference`."""
    if rule.expiry_months is None:
        return 0
    now = now or utcnow()
    months = rule.expiry_months
    # Month arithmetic on the contract's local calendar: in UTC a credit earned early on 1 March in Tokyo
    # (still 28 February in UTC) would run out on 28/29 March instead of 1 April.
    cutoff = add_months(reference.astimezone(rule.tz), -months)
    stale = session.scalars(
        _unconsumed_earned(rule.partner)
        .where(PartnerLedgerEntry.effective_at <= cutoff)
        .order_by(PartnerLedgerEntry.credit_no)
    ).all()
    rows = [
        {
            "partner": rule.partner,
            "kind": "expired",
            "credits": -1,
            "value_yen": -entry.value_yen,
            "credit_no": entry.credit_no,
            "earned_entry_id": entry.id,
            "hire_ref": None,
            "reason": (
                f"credit {entry.credit_no} expired: earned "
                f"{entry.effective_at.astimezone(rule.tz).date().isoformat()}, valid {months} months"
            ),
            "effective_at": add_months(entry.effective_at.astimezone(rule.tz), months),
            "created_at": now,
            "idempotency_key": f"expired:{rule.partner}:{entry.credit_no}",
        }
        for entry in stale
    ]
    return _insert_entries(session, rows)


# -- redemption --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Redemption:
    entry_id: int
    credit_no: int
    hire_ref: str
    value_yen: int
    #: False when this hire had already been recorded: the call changed nothing.
    created: bool
    balance_after: int


def redeem(
    session: Session,
    rule: ContractRule,
    hire_ref: str,
    *,
    now: datetime | None = None,
    note: str | None = None,
) -> Redemption:
    """Spend the oldest unconsumed credit on a hire. Idempotent per hire reference.

    Runs expiry first, so a credit that ran out yesterday is not spent today. Raises NoCreditsError when
    the balance is 0 (that rolls the caller's transaction back, expiry included: `redeem_credit` commits
    the expiry separately). Concurrent redemptions cannot spend the same credit: the database rejects the
    second, and this function moves on to the next credit.
    """
    now = now or utcnow()
    hire_ref = (hire_ref or "").strip()
    if not hire_ref:
        raise LedgerError("a hire reference is required (e.g. the ATS application id of the hire)")
    if len(hire_ref) > MAX_HIRE_REF:
        raise LedgerError(f"the hire reference is longer than {MAX_HIRE_REF} characters")
    key = f"redeemed:{rule.partner}:{hire_ref}"

    existing = _by_key(session, key)
    if existing is not None:
        return _redemption(session, rule, existing, created=False)

    expire(session, rule, reference=now, now=now)
    for _ in range(10):
        query = _unconsumed_earned(rule.partner).order_by(PartnerLedgerEntry.credit_no).limit(1)
        if session.get_bind().dialect.name == "postgresql":
            # Rows are never updated, so the lock only keeps two redeemers off the same credit.
            query = query.with_for_update(skip_locked=True)
        oldest = session.scalars(query).first()
        if oldest is None:
            counted = count_referrals(session, rule)
            per = rule.registrations_per_credit
            raise NoCreditsError(
                f"partner {rule.partner} has no credit to redeem: balance 0 "
                f"(progress to the next credit {counted % per} / {per})"
            )
        reason = f"credit {oldest.credit_no} redeemed for hire {hire_ref}"
        if note:
            reason += f": {note.strip()[:300]}"
        savepoint = session.begin_nested()
        try:
            session.execute(
                conflict_insert(session, PartnerLedgerEntry),
                [
                    {
                        "partner": rule.partner,
                        "kind": "redeemed",
                        "credits": -1,
                        "value_yen": -oldest.value_yen,
                        "credit_no": oldest.credit_no,
                        "earned_entry_id": oldest.id,
                        "hire_ref": hire_ref,
                        "reason": reason,
                        "effective_at": now,
                        "created_at": now,
                        "idempotency_key": key,
                    }
                ],
            )
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()
            raced = _by_key(session, key)
            if raced is not None:
                return _redemption(session, rule, raced, created=False)
            continue
        entry = _by_key(session, key)
        assert entry is not None
        return _redemption(session, rule, entry, created=True)
    raise LedgerError(f"partner {rule.partner}: could not redeem (too many concurrent redemptions); retry")


def redeem_credit(
    engine: Engine,
    rule: ContractRule,
    hire_ref: str,
    *,
    now: datetime | None = None,
    note: str | None = None,
) -> Redemption:
    """`redeem` as its own units of work: expiry is committed first, so that a redemption refused for
    lack of credits still leaves the ledger showing why (the credit expired), not a stale balance."""
    now = now or utcnow()
    with session_scope(engine) as session:
        expire(session, rule, reference=now, now=now)
    with session_scope(engine) as session:
        return redeem(session, rule, hire_ref, now=now, note=note)


def _by_key(session: Session, key: str) -> PartnerLedgerEntry | None:
    query = select(PartnerLedgerEntry).where(PartnerLedgerEntry.idempotency_key == key)
    return session.scalars(query).first()


def _redemption(
    session: Session, rule: ContractRule, entry: PartnerLedgerEntry, *, created: bool
) -> Redemption:
    return Redemption(
        entry_id=entry.id,
        credit_no=entry.credit_no,
        hire_ref=entry.hire_ref or "",
        value_yen=-entry.value_yen,
        created=created,
        balance_after=balance(session, rule.partner),
    )


# -- reporting ---------------------------------------------------------------------------------------------
def month_bounds(day: date) -> tuple[date, date]:
    """[first day of the month, first day of the next month)."""
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _start_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def summarize(session: Session, rule: ContractRule, *, as_of: date, tz: tzinfo) -> PartnerSummary:
    """Figures for the month containing `as_of` (month to date) and all-time, plus the ledger totals."""
    start, end = month_bounds(as_of)
    period_end = min(end, as_of + timedelta(days=1))
    start_dt, end_dt = _start_of(start, tz), _start_of(period_end, tz)
    counted = count_referrals(session, rule)
    per = rule.registrations_per_credit
    quarantined = int(
        session.scalar(
            select(func.count())
            .select_from(Quarantine)
            .where(
                and_(
                    Quarantine.source == quarantine_source(rule.partner),
                    Quarantine.record_type == RECORD_TYPE,
                    Quarantine.resolved_at.is_(None),
                )
            )
        )
        or 0
    )
    suspicious = int(
        session.scalar(
            select(func.count())
            .select_from(PartnerReferral)
            .where(PartnerReferral.partner == rule.partner, PartnerReferral.suspicious.is_(True))
        )
        or 0
    )
    return PartnerSummary(
        partner=rule.partner,
        period_start=start,
        period_end=period_end - timedelta(days=1),
        registrations_period=count_referrals(session, rule, status="registered", start=start_dt, end=end_dt),
        registrations_all_time=count_referrals(session, rule, status="registered"),
        counted_status=rule.counted_status,
        counted_all_time=counted,
        interviewed_all_time=count_referrals(session, rule, status="interviewed"),
        placed_all_time=count_referrals(session, rule, status="placed"),
        suspicious=suspicious,
        quarantined=quarantined,
        credits_earned=_kind_total(session, rule.partner, "earned"),
        credits_redeemed=_kind_total(session, rule.partner, "redeemed"),
        credits_expired=_kind_total(session, rule.partner, "expired"),
        balance=balance(session, rule.partner),
        value_yen=balance_value_yen(session, rule.partner),
        per_credit=per,
        progress_count=counted % per,
    )


def entries(session: Session, partner: str, *, limit: int | None = None) -> list[PartnerLedgerEntry]:
    query = (
        select(PartnerLedgerEntry)
        .where(PartnerLedgerEntry.partner == partner)
        .order_by(PartnerLedgerEntry.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
