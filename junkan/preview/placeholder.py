"""The fictitious candidate every preview sample is rendered for, so that no real name or address
reaches a terminal, a log or a screenshot of the preview."""

from __future__ import annotations

from junkan.mail.templates import normalize_locale
from junkan.outbox.render import NoticeRow

#: Reserved for documentation (RFC 2606): never a mailbox.
EMAIL = "sample.candidate@example.invalid"
PUBLIC_ID = "preview-sample"
_NAMES = {"ja": "見本 太郎", "en": "Sample Applicant"}


def name(locale: str | None) -> str:
    return _NAMES.get(normalize_locale(locale), _NAMES["en"])


def notice_row(kind: str, locale: str) -> NoticeRow:
    """A pending mail of `kind` to the placeholder person, for a renderer to prepare as a sample."""
    return NoticeRow(
        message_id=None, public_id=PUBLIC_ID, kind=kind, locale=locale, advertising=True, ref_code=None,
        partner_name=None, email=EMAIL, name=name(locale), anonymized=False, application_status=None,
        job_title=None, job_external_id=None, reason_category=None, suppressed=False, partner_consent=False,
    )
