"""The fictitious candidate every preview sample is rendered for, so that no real name or address
reaches a terminal, a log or a screenshot of the preview."""

from __future__ import annotations

from junkan.mail.templates import normalize_locale

#: Reserved for documentation (RFC 2606): never a mailbox.
EMAIL = "sample.candidate@example.invalid"
PUBLIC_ID = "preview-sample"
_NAMES = {"ja": "見本 太郎", "en": "Sample Applicant"}


def name(locale: str | None) -> str:
    return _NAMES.get(normalize_locale(locale), _NAMES["en"])
