"""Consent renewal mails (kind `consent_renewal`): enqueue, render with the signed link, send.

Which grants are lapsing and what a click records is junkan/consent/renewal.py. Here: one mail per lapsing
grant not asked about yet (the logical key names the consent record, so repeated runs add nothing), for
the people the send gate (junkan/outbox/gate.py) lets through: not opted out of advertising (`recontact`
withdrawn) or of all mail, not suppressed, not anonymised, with an address. Before the send run the gate
sweeps the pending ones (renewed meanwhile, opted out: cancelled with the reason), and the sender asks it
again for each claimed chunk. A renewal mail is advertising under 特定電子メール法 (it asks to keep sending
job announcements): it carries the sender's identity and the opt-out link, and the one-click opt-out
cancels it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.batching import INSERT_CHUNK, batched
from junkan.clock import RunClock
from junkan.config import Settings
from junkan.consent.renewal import RENEWAL_KIND, lapsing_grant
from junkan.db import session_scope
from junkan.db.dialect import insert_ignore
from junkan.db.models import Candidate, Consent, Message, MessageState
from junkan.mail.backends import MailBackend, build_backend
from junkan.outbox.enqueue import EnqueueTally, logical_key, new_public_id
from junkan.outbox.gate import Reason, Subject, judge, sweep
from junkan.outbox.render import NoticeRenderer, NoticeRow, Prepared
from junkan.outbox.sender import OutboxSender, SendCounts

#: The gate's reasons that count as an opt-out in the enqueue counts.
_OPTED_OUT = (Reason.RECONTACT_WITHDRAWN, Reason.ALL_MAIL_WITHDRAWN)


@dataclass
class RenewalEnqueue(EnqueueTally):
    ORDER = ("expiring", "enqueued", "already", "opted_out", "suppressed", "no_address")
    RENAMED: ClassVar[Mapping[str, str]] = {"already": "already_asked"}

    #: Current grants expiring within the renewal window.
    expiring: int = 0
    #: Asked already by an earlier run (same consent record).
    already: int = 0
    opted_out: int = 0


def enqueue_renewals(session: Session, settings: Settings, now: datetime, *,
                     dry_run: bool = False) -> RenewalEnqueue:
    """Enqueue one `consent_renewal` per lapsing grant not asked about yet (nothing when disabled)."""
    result = RenewalEnqueue()
    if not settings.consent.renewal_enabled:
        return result
    rows = session.execute(
        select(Consent.id, Consent.candidate_id, Candidate.locale)
        .join(Candidate, Candidate.id == Consent.candidate_id)
        .where(lapsing_grant(Consent, now, settings.consent))
        .order_by(Consent.expires_at, Consent.id)
    ).all()
    key = {r.id: logical_key("consent", r.id, RENEWAL_KIND) for r in rows}
    asked: set[str] = set()
    for keys in batched(list(key.values()), INSERT_CHUNK):
        asked.update(session.scalars(select(Message.logical_key).where(Message.logical_key.in_(keys))))
    verdicts = judge(session, [Subject(r.candidate_id, RENEWAL_KIND) for r in rows], now, settings)
    planned: list[dict[str, Any]] = []
    for r, verdict in zip(rows, verdicts, strict=True):
        result.expiring += 1
        if key[r.id] in asked:
            result.already += 1
        elif verdict.reason in _OPTED_OUT:
            result.opted_out += 1
        elif verdict.reason is Reason.SUPPRESSED:
            result.suppressed += 1
        elif verdict.reason in (Reason.ANONYMISED, Reason.NO_ADDRESS):
            result.no_address += 1
        elif verdict.allowed:
            planned.append({"logical_key": key[r.id], "candidate_id": r.candidate_id,
                            "locale": r.locale or "ja"})
    if dry_run:
        result.enqueued = len(planned)
        return result
    for start in range(0, len(planned), INSERT_CHUNK):
        chunk = [{**p, "public_id": new_public_id(), "kind": RENEWAL_KIND, "application_id": None,
                  "state": MessageState.PENDING, "due_at": now, "advertising": True, "attempts": 0,
                  "created_at": now, "updated_at": now} for p in planned[start:start + INSERT_CHUNK]]
        insert = insert_ignore(session, Message.__table__).returning(Message.__table__.c.id)
        inserted = session.execute(insert, chunk).scalars().all()
        result.enqueued += len(inserted)
        result.already += len(chunk) - len(inserted)
    return result


def cancel_moot_renewals(session: Session, settings: Settings, now: datetime) -> int:
    """Pending renewals the gate stops now (renewed meanwhile, opted out, suppressed …), cancelled with the
    reason; how many."""
    return sum(sweep(session, (RENEWAL_KIND,), now, settings).values())


class RenewalRenderer(NoticeRenderer):
    """Notice rendering plus the renewal link; the mail stays advertising whatever the partner check said."""

    def renew_url(self, public_id: str) -> str:
        return f"{self.base}/c/{self.signer.renewal_token(public_id)}"

    def extra_values(self, row: NoticeRow) -> dict[str, str]:
        return {"renew_url": self.renew_url(row.public_id),
                "days_before": str(self.settings.consent.renewal_days_before)}

    def prepare(self, row: NoticeRow) -> Prepared:
        row = replace(row, advertising=False, ref_code=None, partner_name=None)  # never a partner section
        prepared = super().prepare(row)
        return replace(prepared, row=replace(row, advertising=True),
                       mail=replace(prepared.mail, advertising=True))


@dataclass
class RenewalRun:
    enqueued: RenewalEnqueue
    cancelled: int
    sent: SendCounts | None

    def counts(self) -> dict[str, int]:
        sent = self.sent.counts() if self.sent is not None else {}
        return {
            "renewals_enqueued": self.enqueued.enqueued,
            # Cancelled by the gate before the run (`cancelled`) and at the moment of sending.
            "renewals_cancelled": self.cancelled + sent.get("cancelled", 0),
            "renewals_no_consent": sent.get("no_consent", 0),
            "renewals_sent": sent.get("sent", 0),
            "renewals_failed": sent.get("failed", 0),
            "renewals_unknown": sent.get("unknown", 0),
            "renewals_fatal": sent.get("fatal", 0),
            "renewals_template_error": sent.get("template_error", 0),
        }


def run_renewals(engine: Engine, settings: Settings, clock: RunClock, *,
                 backend: MailBackend | None = None, dry_run: bool = False) -> RenewalRun:
    """Enqueue the renewals due by `clock.due_by()`, cancel moot ones, send the pending ones (only inside
    the sending window of the real clock); nothing at all when disabled.

    A dry run only counts what would be enqueued (nothing is written or sent).
    """
    consent = settings.consent
    business_now = clock.due_by()
    if not consent.renewal_enabled:
        return RenewalRun(RenewalEnqueue(), 0, None)
    with session_scope(engine) as session:
        enqueued = enqueue_renewals(session, settings, business_now, dry_run=dry_run)
        if dry_run:
            session.rollback()
            return RenewalRun(enqueued, 0, None)
        # The gate judges at the moment of sending: the real clock, whatever day the run chooses work for.
        swept = sweep(session, (RENEWAL_KIND,), clock.now(), settings)
    own_backend = backend is None
    backend = backend or build_backend(settings, clock=clock.now)
    try:
        sender = OutboxSender(engine, settings, backend=backend, renderer=RenewalRenderer(settings),
                              clock=clock.now, due_by=business_now, kinds=(RENEWAL_KIND,))
        sent = sender.run()
    finally:
        if own_backend:
            backend.close()
    sent.add_stopped(swept, totals=False)
    return RenewalRun(enqueued, sum(swept.values()), sent)
