"""Normalisation of personal identifiers, so one person is one candidate across sources."""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers

# Deliberately pragmatic: RFC 5322 allows far more, but ATS exports that deviate from this are typos.
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
MAX_EMAIL_LENGTH = 254


def normalize_text(value: str | None) -> str | None:
    """NFKC and trimmed; full-width letters, digits and spaces become ASCII. Empty becomes None."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    text = re.sub(r"\s+", " ", text)
    return text or None


def normalize_email(value: str | None) -> str | None:
    """The candidate key: NFKC, trim, case-fold. Ａ＠ＥＸＡＭＰＬＥ．ＣＯＭ equals a@example.com."""
    text = normalize_text(value)
    if text is None:
        return None
    return text.replace(" ", "").casefold()


def is_valid_email(normalized: str | None) -> bool:
    return bool(normalized) and len(normalized) <= MAX_EMAIL_LENGTH and bool(_EMAIL_RE.match(normalized))


@functools.lru_cache(maxsize=8192)
def normalize_phone(value: str | None, region: str = "JP") -> str | None:
    """E.164, or None when the value is not a plausible number (a phone is only a secondary key).

    Memoised: a full `phonenumbers` parse costs ~0.2 ms, and sources repeat numbers (re-applicants).
    """
    text = normalize_text(value)
    if text is None:
        return None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_name(value: str | None) -> str | None:
    """For display only: NFKC turns half-width katakana into full-width and collapses spaces."""
    text = normalize_text(value)
    if text is None:
        return None
    return text.replace("\u3000", " ")
