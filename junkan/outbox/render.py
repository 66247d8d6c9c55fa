"""Turning an outbox row into a mail: the data a notice needs, rendered just before it is sent.

Rendering at send time (not at enqueue) means a template fix reaches every notice not yet sent; the exact
subject, bodies, template name and version hash are stored on the message together with the `sending`
transition, so what was sent stays on record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from junkan.config import PartnerSettings, Settings
from junkan.consent.state import current_consents, current_granted
from junkan.consent.suppressed import suppressed_among
from junkan.db.models import Application, Candidate, Job, Message, MessageState, RejectionReason
from junkan.links import LinkSigner
from junkan.mail.backends import OutgoingMail
from junkan.mail.headers import clean_display_name
from junkan.mail.sender_identity import recruiting_contact
from junkan.mail.templates import (
    NoticeContext,
    PartnerBlock,
    TemplateStore,
    partner_section_allowed,
    render_notice,
)
from junkan.outbox.enqueue import STATUS_BY_KIND, PlannedNotice, new_public_id

PARTNER_LINK = "partner"


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """Everything needed to decide and render one notice. Holds personal data: never log it."""

    message_id: int | None
    public_id: str
    kind: str
    locale: str
    advertising: bool
    ref_code: str | None
    partner_name: str | None
    email: str | None
    name: str | None
    anonymized: bool
    application_status: str | None
    job_title: str | None
    job_external_id: str | None
    reason_category: str | None
    suppressed: bool
    partner_consent: bool
    #: Internal mail (kind `report`): the recipient's keyed hash and what the mail is about; no candidate.
    recipient_hash: str | None = None
    payload: dict[str, Any] | None = None

    def __repr__(self) -> str:  # a stray log line or traceback shows only opaque ids
        return f"NoticeRow(public_id={self.public_id!r}, kind={self.kind!r})"


@dataclass(frozen=True, slots=True)
class Prepared:
    row: NoticeRow
    mail: OutgoingMail
    template_name: str
    template_version: str


def notice_rows_query(now: datetime) -> Select:  # type: ignore[type-arg]
    """Message rows joined with candidate, application, job, reason and current consent (the suppression
    list holds keyed hashes, so `rows_from` checks it on the fetched addresses). Internal mail has no
    candidate (an outer join): its row carries the recipient's hash and the payload instead."""
    return (
        select(
            Message.id, Message.public_id, Message.kind, Message.locale, Message.advertising,
            Message.ref_code, Message.partner_name,
            Candidate.email_key, Candidate.display_name, Candidate.anonymized_at,
            Application.status, Job.title, Job.external_id, RejectionReason.category,
            current_granted(Message.candidate_id, "partner_info", now).label("granted"),
            Message.recipient_hash, Message.payload,
        )
        .outerjoin(Candidate, Candidate.id == Message.candidate_id)
        .outerjoin(Application, Application.id == Message.application_id)
        .outerjoin(Job, Job.id == Application.job_id)
        .outerjoin(RejectionReason, RejectionReason.id == Application.reason_id)
    )


def due_rows_query(now: datetime, kinds: Sequence[str]) -> Select:  # type: ignore[type-arg]
    """The pending messages of `kinds` due by `now`, oldest due first: what a send run at `now` takes."""
    return notice_rows_query(now).where(
        Message.state == MessageState.PENDING, Message.kind.in_(kinds), Message.due_at <= now
    ).order_by(Message.due_at, Message.id)


def row_from(r, *, suppressed: bool) -> NoticeRow:  # type: ignore[no-untyped-def]
    return NoticeRow(
        message_id=r.id, public_id=r.public_id, kind=r.kind, locale=r.locale or "ja",
        advertising=bool(r.advertising), ref_code=r.ref_code, partner_name=r.partner_name,
        email=r.email_key, name=r.display_name, anonymized=r.anonymized_at is not None,
        application_status=r.status, job_title=r.title, job_external_id=r.external_id,
        reason_category=r.category, suppressed=suppressed, partner_consent=bool(r.granted),
        recipient_hash=r.recipient_hash, payload=r.payload,
    )


def rows_from(session: Session, results: Iterable[Any], key: bytes) -> list[NoticeRow]:
    """NoticeRows of `notice_rows_query` results, each checked against the suppression list."""
    fetched = list(results)
    suppressed = suppressed_among(session, (r.email_key for r in fetched), key)
    return [row_from(r, suppressed=r.email_key in suppressed) for r in fetched]


def load_rows(session: Session, ids: list[int], now: datetime, *, key: bytes,
              owner: str | None = None) -> list[NoticeRow]:
    stmt = notice_rows_query(now).where(Message.id.in_(ids), Message.state == MessageState.PENDING)
    if owner is not None:
        stmt = stmt.where(Message.lease_owner == owner)
    return rows_from(session, session.execute(stmt.order_by(Message.due_at, Message.id)), key)


def blocker(row: NoticeRow) -> tuple[str, str] | None:
    """Why this notice would not go out: (new state, reason), or None. For dry runs and previews, which
    judge the row as loaded; a real send asks the send gate (junkan/outbox/gate.py) instead."""
    if row.suppressed:
        return "suppressed", "suppression list"
    if row.anonymized:
        return "cancelled", "candidate_anonymised"
    if not row.email:
        return "cancelled", "no_address"
    expected = STATUS_BY_KIND.get(row.kind)
    if expected is not None and row.application_status != expected:
        return "cancelled", "application_status_changed"
    return None


def strip_partner_if_withdrawn(row: NoticeRow, settings: Settings) -> NoticeRow:
    """Consent withdrawn (or policy switched off) since enqueue: the partner section goes, not the notice.
    For dry runs and previews; a real send asks the send gate (junkan/outbox/gate.py)."""
    if row.advertising and not partner_section_allowed(
        {"partner_info"} if row.partner_consent else set(), settings.notice
    ):
        return replace(row, advertising=False, ref_code=None, partner_name=None)
    return row


class NoticeRenderer:
    """Builds the OutgoingMail for a row. Thread-safe; create one per run (templates are cached)."""

    def __init__(self, settings: Settings, *, store: TemplateStore | None = None,
                 signer: LinkSigner | None = None) -> None:
        self.settings = settings
        self.store = store or TemplateStore.from_settings(settings.mail, settings.notice)
        self.signer = signer or LinkSigner.from_settings(settings.links)
        self.base = settings.links.public_base_url.rstrip("/")
        self.recruiting = recruiting_contact(settings)
        partners = {p.name: p for p in settings.all_partners()}
        self._partners = partners

    def unsubscribe_url(self, public_id: str) -> str:
        return f"{self.base}/u/{self.signer.unsubscribe_token(public_id)}"

    def preferences_url(self, public_id: str) -> str:
        """The person's own page; its token is stamped now, so it expires counting from this mail."""
        return f"{self.base}/p/{self.signer.preferences_token(public_id)}"

    def partner_url(self, public_id: str) -> str:
        return f"{self.base}/r/{self.signer.tracking_token(public_id, PARTNER_LINK)}"

    def _partner_display(self, name: str) -> PartnerSettings:
        """The configured partner behind a message's stored id (the first one if it was removed)."""
        partners = self.settings.all_partners()
        return next((p for p in partners if p.name == name), partners[0])

    def extra_values(self, row: NoticeRow) -> dict[str, str]:
        """Template values of one kind only (see RenewalRenderer); none for notices."""
        return {}

    def prepare(self, row: NoticeRow) -> Prepared:
        unsubscribe = self.unsubscribe_url(row.public_id)
        partner = None
        if row.advertising and row.partner_name:
            shown = self._partner_display(row.partner_name)
            partner = PartnerBlock(name=shown.display_name, url=self.partner_url(row.public_id),
                                   description=shown.description)
        rendered = render_notice(self.store, NoticeContext(
            kind=row.kind, sender=self.settings.sender, candidate_name=row.name, job_title=row.job_title,
            locale=row.locale, reason_category=row.reason_category, job_external_id=row.job_external_id,
            partner=partner, unsubscribe_url=unsubscribe, recruiting=self.recruiting,
            preferences_url=self.preferences_url(row.public_id),
            preferences_days=self.settings.consent.preference_link_max_age_days,
            extra=self.extra_values(row),
        ))
        mail = OutgoingMail(
            message_id=row.public_id,
            to_email=row.email or "",
            to_name=clean_display_name(row.name),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            kind=row.kind,
            template_name=rendered.template_name,
            unsubscribe_url=unsubscribe,
            unsubscribe_post_url=unsubscribe,
            advertising=rendered.advertising,
        )
        return Prepared(row=row, mail=mail, template_name=rendered.template_name,
                        template_version=rendered.template_version)


def planned_rows(session: Session, planned: list[PlannedNotice], now: datetime,
                 signer: LinkSigner, *, key: bytes) -> list[NoticeRow]:
    """Transient rows for notices a dry run would enqueue: throwaway ids, nothing written."""
    by_app = {p.application_id: p for p in planned if p.state == MessageState.PENDING}
    if not by_app:
        return []
    consent = current_consents(now, ["partner_info"])
    stmt = (
        select(Application.id, Application.status, Candidate.email_key, Candidate.display_name,
               Candidate.anonymized_at, Job.title, Job.external_id, RejectionReason.category,
               consent.c.granted)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .outerjoin(Job, Job.id == Application.job_id)
        .outerjoin(RejectionReason, RejectionReason.id == Application.reason_id)
        .outerjoin(consent, consent.c.candidate_id == Application.candidate_id)
        .where(Application.id.in_(list(by_app)))
    )
    fetched = session.execute(stmt).all()
    suppressed = suppressed_among(session, (r.email_key for r in fetched), key)
    rows: list[NoticeRow] = []
    for r in fetched:
        p = by_app[r.id]
        rows.append(NoticeRow(
            message_id=None, public_id="dry-" + new_public_id(), kind=p.kind, locale=p.locale,
            advertising=p.partner, ref_code=signer.new_referral_code() if p.partner else None,
            partner_name=p.partner_name if p.partner else None, email=r.email_key, name=r.display_name,
            anonymized=r.anonymized_at is not None,
            application_status=r.status, job_title=r.title, job_external_id=r.external_id,
            reason_category=r.category, suppressed=r.email_key in suppressed,
            partner_consent=bool(r.granted),
        ))
    return rows
