"""Enqueueing rejection and withdrawal notices into the outbox (docs/outbox.md "Enqueue").

Set-based: one query finds every decided application that has no notice yet (or whose notice was
cancelled by an un-reject and is due again); the send gate (junkan/outbox/gate.py) judges them in bulk
(suppression, anonymisation, address, `all_mail`, and the partner section from current `partner_info`
consent); rows are inserted in bulk with `ON CONFLICT DO NOTHING` on the logical key, so enqueueing
twice - or two runs at once - does nothing more.

Only notices that are due by `now` are enqueued: the partner section is then decided on consent as
close to the send as possible, and an application un-rejected before its notice is due never gets one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Case, ScalarSelect, Select, case, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from junkan.batching import INSERT_CHUNK
from junkan.config import Settings
from junkan.db.dialect import ConflictInsert, conflict_insert
from junkan.db.models import Application, Candidate, Job, Message, MessageState
from junkan.db.results import rows_affected
from junkan.db.types import utcnow
from junkan.links import LinkSigner
from junkan.mail.timing import due_at as notice_due_at
from junkan.outbox.gate import KIND_BY_STATUS as KIND_BY_STATUS  # the notice kinds are the gate's
from junkan.outbox.gate import NOTICE_KINDS as NOTICE_KINDS
from junkan.outbox.gate import STATUS_BY_KIND as STATUS_BY_KIND
from junkan.outbox.gate import Reason, Subject, judge
from junkan.outbox.transitions import cancel
from junkan.partner.choice import choose_partner
from junkan.tally import Tally

#: Why a notice was cancelled; "status_changed" notices come back to life if the decision returns. The
#: reasons the send gate gives are its own (junkan/outbox/gate.py `Reason`).
CANCEL_STATUS_CHANGED = Reason.STATUS_CHANGED.value
CANCEL_POLICY = "policy_withdrawn_none"
CANCEL_ANONYMISED = Reason.ANONYMISED.value
CANCEL_NO_ADDRESS = Reason.NO_ADDRESS.value
#: Cancelled notices that were never sent and come back when their cause goes away.
REVIVABLE = (CANCEL_STATUS_CHANGED, CANCEL_NO_ADDRESS)



def logical_key(subject: str, subject_id: int, kind: str) -> str:
    """`<subject>:<id>:<kind>`: what a candidate's mail is about (an application, a match, a consent record)
    and which mail it is. Unique in `message`, so enqueueing it again, or from two runs at once, inserts
    nothing more (docs/outbox.md)."""
    return f"{subject}:{subject_id}:{kind}"


def new_public_id() -> str:
    """128 random bits, URL-safe: the only message identifier that ever leaves the database."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class PlannedNotice:
    """One due notice as decided at enqueue time (no personal data: ids and flags only)."""

    application_id: int
    candidate_id: int
    kind: str
    due_at: datetime
    locale: str
    state: str  # "pending", "suppressed" or "cancelled" (then `cancelled_reason` says why)
    partner: bool
    #: Set when an earlier notice for the same logical key was cancelled by an un-reject (or for want of
    #: an address, which the candidate now has).
    revive_message_id: int | None = None
    cancelled_reason: str | None = None
    #: The configured partner whose link the notice carries (junkan.partner.choice), when `partner`.
    partner_name: str | None = None


@dataclass
class EnqueueTally(Tally):
    """What every enqueue run counts alike (decision notices, consent renewals, re-contact mails)."""

    #: New `pending` mails.
    enqueued: int = 0
    #: Not mailed: the address is on the suppression list.
    suppressed: int = 0
    #: Not mailed: the person has no usable address.
    no_address: int = 0


@dataclass
class EnqueueResult(EnqueueTally):
    """Due notices without an address are recorded as not sendable (`cancelled`, reason `no_address`),
    looked at again each run, and revived once the application has an address."""

    ORDER = ("due", "backlog", "enqueued", "suppressed", "cancelled", "revived", "no_address")

    #: Notices due by `now` that were not settled when the run started (backlog + newly found).
    due: int = 0
    #: Pending notices that were already due before this run (a previous run left them, e.g. retries).
    backlog: int = 0
    cancelled: int = 0
    revived: int = 0
    planned: list[PlannedNotice] = field(default_factory=list, repr=False)


def _kind_expr() -> Case[str]:
    return case(
        *[(Application.status == status, literal(kind)) for status, kind in KIND_BY_STATUS.items()],
        else_=literal(""),
    )


def _statuses(settings: Settings) -> list[str]:
    statuses = ["rejected"]
    if settings.notice.withdrawn != "none":
        statuses.append("withdrawn")
    return statuses


def _revivable(column: Any, kind: Case[str]) -> ScalarSelect[Any]:
    """`column` of the application's notice of `kind` that was cancelled and may come back (REVIVABLE)."""
    return (
        select(column)
        .where(Message.application_id == Application.id, Message.kind == kind,
               Message.state == MessageState.CANCELLED, Message.cancelled_reason.in_(REVIVABLE))
        .limit(1)
        .scalar_subquery()
    )


def _due_query(settings: Settings, now: datetime) -> Select:  # type: ignore[type-arg]
    kind = _kind_expr()
    # One notice per application: any notice of either kind settles it (a rejection already sent must not
    # be followed by a withdrawal notice when the status flips), except one cancelled by a status change
    # (it was never sent) and a pending one of the other kind, which this run's `cancel_changed` cancels.
    settled = exists().where(
        Message.application_id == Application.id,
        Message.kind.in_(NOTICE_KINDS),
        or_(Message.state != MessageState.CANCELLED, Message.cancelled_reason.is_(None),
            Message.cancelled_reason.not_in(REVIVABLE)),
        or_(Message.state != MessageState.PENDING, Message.kind == kind),
    )
    return (
        select(
            Application.id,
            Application.candidate_id,
            Application.status,
            Application.decided_at,
            Application.source,
            Application.external_id,
            Job.external_id.label("job_external_id"),
            Job.department,
            Candidate.locale,
            _revivable(Message.id, kind).label("revive_id"),
            _revivable(Message.cancelled_reason, kind).label("revive_reason"),
        )
        .join(Candidate, Candidate.id == Application.candidate_id)
        .outerjoin(Job, Job.id == Application.job_id)
        .where(
            Application.status.in_(_statuses(settings)),
            Application.decided_at.is_not(None),
            Application.decided_at <= now,
            # A notice months late is not courteous: history imported on the first run stays silent.
            Application.decided_at >= now - timedelta(days=settings.notice.max_age_days),
            ~settled,
        )
        .order_by(Application.decided_at, Application.id)
    )


def cancel_changed(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Cancel pending notices whose application is no longer rejected/withdrawn (un-reject, hire)."""
    now = now or utcnow()
    cancelled = 0
    for kind, status in STATUS_BY_KIND.items():
        stale_apps = select(Application.id).where(Application.status != status)
        cancelled += cancel(session, Message.kind == kind, Message.application_id.in_(stale_apps),
                                    reason=CANCEL_STATUS_CHANGED, now=now)
    if settings.notice.withdrawn == "none":
        cancelled += cancel(session, Message.kind == "withdrawal", reason=CANCEL_POLICY, now=now)
    return cancelled


def pending_due_count(session: Session, now: datetime, kinds: Sequence[str] = NOTICE_KINDS) -> int:
    return session.scalar(
        select(func.count()).select_from(Message)
        .where(Message.state == MessageState.PENDING, Message.kind.in_(kinds), Message.due_at <= now)
    ) or 0


def plan_due_notices(session: Session, settings: Settings, now: datetime) -> tuple[list[PlannedNotice], int]:
    """The notices due by `now` that are not enqueued yet, and how many of them lack an address. Read-only.

    A notice whose candidate has no usable address is planned as `cancelled` / `no_address` (a decision
    without a notice is a follow-up miss the report shows apart); one already recorded so is left alone.
    """
    partners = settings.all_partners()
    planned: list[PlannedNotice] = []
    no_address = 0
    rows = [row for row in session.execute(_due_query(settings, now)).all()
            if notice_due_at(row.decided_at, settings.notice) <= now]
    verdicts = judge(session, [Subject(row.candidate_id, KIND_BY_STATUS[row.status], row.id) for row in rows],
                     now, settings)
    for row, verdict in zip(rows, verdicts, strict=True):
        reason = verdict.reason.value if verdict.reason is not None else None
        state = verdict.state
        if verdict.reason is Reason.NO_ADDRESS:
            if row.revive_reason == CANCEL_NO_ADDRESS:
                continue  # recorded by an earlier run; still no address
            no_address += 1
        elif verdict.reason is Reason.SUPPRESSED:
            reason = None  # the state says it; the reason column is for cancellations
        partner_name = None
        if verdict.allowed and verdict.partner:
            partner_name = choose_partner(partners, source=row.source, external_id=row.external_id,
                                          job_external_id=row.job_external_id, department=row.department)
        planned.append(
            PlannedNotice(
                application_id=row.id,
                candidate_id=row.candidate_id,
                kind=KIND_BY_STATUS[row.status],
                due_at=notice_due_at(row.decided_at, settings.notice),
                locale=row.locale or "ja",
                state=state,
                partner=partner_name is not None,
                revive_message_id=row.revive_id,
                cancelled_reason=reason,
                partner_name=partner_name,
            )
        )
    return planned, no_address


def _insert(session: Session) -> ConflictInsert:
    return conflict_insert(session, Message).on_conflict_do_nothing(index_elements=["logical_key"])


def _rows(planned: Iterable[PlannedNotice], signer: LinkSigner, now: datetime):  # type: ignore[no-untyped-def]
    for p in planned:
        yield {
            "public_id": new_public_id(),
            "logical_key": logical_key("application", p.application_id, p.kind),
            "kind": p.kind,
            "candidate_id": p.candidate_id,
            "application_id": p.application_id,
            "state": p.state,
            "due_at": p.due_at,
            "advertising": p.partner,
            "locale": p.locale,
            "ref_code": signer.new_referral_code() if p.partner else None,
            "partner_name": p.partner_name if p.partner else None,
            "attempts": 0,
            "cancelled_reason": p.cancelled_reason,
            "created_at": now,
            "updated_at": now,
        }


def enqueue_due_notices(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    signer: LinkSigner | None = None,
    dry_run: bool = False,
) -> EnqueueResult:
    """Cancel what an un-reject made obsolete, then enqueue every notice due by `now`.

    The caller commits (or, for a dry run, rolls back: with `dry_run` nothing is written at all and the
    plan is returned in `result.planned`).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    signer = signer or LinkSigner.from_settings(settings.links)
    result = EnqueueResult()
    result.backlog = pending_due_count(session, now)
    planned, no_address = plan_due_notices(session, settings, now)
    result.planned = planned
    result.due = result.backlog + sum(1 for p in planned if p.state != MessageState.CANCELLED)
    if dry_run:
        result.suppressed = sum(1 for p in planned if p.state == MessageState.SUPPRESSED)
        result.enqueued = sum(1 for p in planned if p.state == MessageState.PENDING)
        result.no_address = no_address
        return result

    wall = utcnow()
    result.cancelled = cancel_changed(session, settings, wall)
    fresh = [p for p in planned if p.revive_message_id is None]
    for start in range(0, len(fresh), INSERT_CHUNK):
        chunk = fresh[start:start + INSERT_CHUNK]
        inserted = session.execute(
            _insert(session).returning(Message.state, Message.cancelled_reason),
            list(_rows(chunk, signer, wall)),
        ).all()
        for state, why in inserted:
            _tally(result, state, why)
    for p in planned:
        if p.revive_message_id is None:
            continue
        res = session.execute(
            update(Message)
            .where(Message.id == p.revive_message_id, Message.state == MessageState.CANCELLED,
                   Message.cancelled_reason.in_(REVIVABLE))
            .values(state=p.state, due_at=p.due_at, cancelled_reason=p.cancelled_reason,
                    advertising=p.partner, candidate_id=p.candidate_id,
                    ref_code=signer.new_referral_code() if p.partner else None,
                    partner_name=p.partner_name if p.partner else None, locale=p.locale, updated_at=wall)
            .execution_options(synchronize_session=False)
        )
        if rows_affected(res):
            if p.state != MessageState.CANCELLED:
                result.revived += 1
            _tally(result, p.state, p.cancelled_reason)
    return result


def _tally(result: EnqueueResult, state: str, why: str | None) -> None:
    if state == MessageState.PENDING:
        result.enqueued += 1
    elif state == MessageState.SUPPRESSED:
        result.suppressed += 1
    elif why == CANCEL_NO_ADDRESS:
        result.no_address += 1
    elif state == MessageState.CANCELLED:
        result.cancelled += 1
