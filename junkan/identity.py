"""Normalisation of personal identifiers, so one person is one candidate across sources.

The one implementation of text, e-mail, phone and name normalisation: ingest, the webhook and the
suppression sync all use these. They run several times per ingested record, so ASCII text (most ids,
e-mails and dates) skips the NFKC pass, which cannot change it.

Identity keys are never guessed: normalisation only removes what cannot be part of an address (width
variants, surrounding whitespace, case). Whitespace inside an address makes it invalid, because
"ta ro@example.com" may as well be someone else's "taro@example.com".
"""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers

# Deliberately pragmatic: RFC 5322 allows far more (quoted local parts, comments, IP literals), but ATS
# exports that deviate from this are typos. The local part is a dot-atom: atoms joined by single dots,
# no leading or trailing dot.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+$")
MAX_EMAIL_LENGTH = 254


def normalize_text(value: str | None) -> str | None:
    """NFKC and trimmed, runs of whitespace as one space; full-width letters, digits and spaces become
    ASCII. Empty becomes None."""
    if value is None:
        return None
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    text = " ".join(value.split())
    return text or None


def normalize_email(value: str | None) -> str | None:
    """The candidate key: NFKC, trim, case-fold. Ａ＠ＥＸＡＭＰＬＥ．ＣＯＭ equals a@example.com.

    Inner whitespace is kept (as one space), so such an address fails `is_valid_email` instead of being
    silently joined into another person's address.
    """
    text = normalize_text(value)
    if text is None:
        return None
    return text.casefold()


def is_valid_email(normalized: str | None) -> bool:
    if not normalized:
        return False
    return len(normalized) <= MAX_EMAIL_LENGTH and bool(_EMAIL_RE.match(normalized))


#: Japanese domestic numbers (0 + 9 or 10 digits, not the 010 international prefix): E.164 without
#: the cost of a full phonenumbers parse (~0.2 ms), which dominated ingest validation.
_JP_DOMESTIC = re.compile(r"0(?!10)[1-9][0-9]{8,9}")
_PHONE_PUNCTUATION = str.maketrans("", "", "-() ")


def normalize_phone(value: str | None, region: str = "JP") -> str | None:
    """E.164, or None when the value is not a plausible number (a phone is only a secondary key)."""
    if not value:
        return None
    if region.upper() == "JP":
        text = value if value.isascii() else unicodedata.normalize("NFKC", value)
        digits = text.strip().translate(_PHONE_PUNCTUATION)
        if _JP_DOMESTIC.fullmatch(digits):
            return "+81" + digits[1:]
    return parse_phone(value, region)


@functools.lru_cache(maxsize=8192)
def parse_phone(value: str | None, region: str = "JP") -> str | None:
    """`normalize_phone` through a full `phonenumbers` parse, without the Japanese shortcut.

    Memoised: a parse costs ~0.2 ms, and sources repeat numbers (re-applicants).
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
    """For display only: NFKC turns half-width katakana into full-width, the ideographic space into a
    plain one, and runs of spaces into one."""
    return normalize_text(value)


#: Candidates inside free text: an address-like token, and a run of digits with the usual separators.
_EMAIL_IN_TEXT = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
_PHONE_IN_TEXT = re.compile(r"\+?[0-9][0-9()\- ]{7,}[0-9]")


def identifiers_in(text: str, region: str = "JP") -> tuple[set[str], set[str]]:
    """(normalised e-mails, E.164 phones) written anywhere in `text`, in any stored form: a phone as typed
    (090-1111-2222, ０９０－１１１１－２２２２, "TEL 09011112222") is found as +819011112222."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    emails = {e for e in (normalize_email(m.strip(".")) for m in _EMAIL_IN_TEXT.findall(text)) if e} \
        if "@" in text else set()
    phones = {p for p in (normalize_phone(m, region) for m in _PHONE_IN_TEXT.findall(text)) if p}
    return emails, phones
