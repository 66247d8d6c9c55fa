"""Consent renewal mails (kind `consent_renewal`) through the outbox: render with the signed link, send.

Who is asked and what a click records is junkan/consent/renewal.py; this module only turns the queued rows
into mail, with the same exactly-once machinery as the notices. A renewal mail is advertising under
特定電子メール法 (it asks to keep sending job announcements): it carries the sender's identity and the
opt-out link, and the one-click opt-out cancels it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Engine

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.consent.renewal import RENEWAL_KIND, RenewalEnqueue, cancel_moot_renewals, enqueue_renewals
from junkan.db import session_scope
from junkan.mail.backends import MailBackend, build_backend
from junkan.outbox.render import NoticeRenderer, NoticeRow, Prepared
from junkan.outbox.sender import OutboxSender, SendCounts


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
            "renewals_cancelled": self.cancelled,
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
        enqueued = enqueue_renewals(session, consent, business_now, key=settings.retention.key_bytes(),
                                    dry_run=dry_run)
        if dry_run:
            session.rollback()
            return RenewalRun(enqueued, 0, None)
        cancelled = cancel_moot_renewals(session, consent, business_now)
    own_backend = backend is None
    backend = backend or build_backend(settings, clock=clock.now)
    try:
        sender = OutboxSender(engine, settings, backend=backend, renderer=RenewalRenderer(settings),
                              clock=clock.now, due_by=business_now, kinds=(RENEWAL_KIND,))
        return RenewalRun(enqueued, cancelled, sender.run())
    finally:
        if own_backend:
            backend.close()
