"""What may be kept of a provider event: minimised at the door (docs/privacy.md, "Provider events").

- dropped: the address, the IP and the user agent;
- free text from the receiving mail server (a bounce's `reason`, a delivery's `response`, which often
  quote the recipient's name or address) is reduced to its SMTP reply code and enhanced status
  (`reason_code`: "550 5.1.1"); SendGrid's own `status` and `bounce_classification` stay;
- a click's `url` keeps scheme, host and path only: a query string or fragment can carry a name or a
  phone (our own tracked links name the link in their signed path);
- addresses are blanked out of any other text, at any depth.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Keys SendGrid sends that identify a person or a device; they are dropped before anything is stored.
_PERSONAL_KEYS = frozenset({"email", "ip", "useragent", "user_agent"})
#: Free text written by the receiving server: only its SMTP codes are kept, as `<key>_code`.
_FREE_TEXT_KEYS = frozenset({"reason", "response"})
# Bounce reasons and SMTP responses often quote the recipient ("550 5.1.1 <a@b.jp>: unknown user").
_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
#: "550 5.1.1 …", "550-5.1.1 …", "421 …", or SendGrid's bare "5.1.1"; anything after it is free text.
_SMTP_CODES = re.compile(r"\s*(?:([245][0-9]{2})(?:[ -]+|$))?(?:([245]\.[0-9]{1,3}\.[0-9]{1,3})\b)?")
_REDACTED = "[address]"
_SCALARS = frozenset({int, float, bool, type(None)})


def scrub_text(value: str) -> str:
    # The membership test first: most values hold no address, and the regex is the webhook's hot spot.
    return _ADDRESS.sub(_REDACTED, value) if "@" in value else value


def smtp_codes(text: str) -> str | None:
    """The SMTP reply code and enhanced status code at the start of `text` ("550 5.1.1"), or None."""
    match = _SMTP_CODES.match(text)
    codes = [c for c in match.groups() if c] if match else []
    return " ".join(codes) or None


def bare_url(url: str) -> str:
    """`url` without its query string and fragment (and without user info)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not a URL at all: nothing of it is kept
        return ""
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of `event` minimised as the module says, at the top level, and with addresses blanked out
    of any text at any depth. Free text no database could store is refused before this (`parse_event`),
    so such an event is refused whole, never stored with the problem hidden."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key in _PERSONAL_KEYS:
            continue
        # Strings and numbers dominate a webhook batch (a thousand events a request): test the exact type
        # and handle them here, without a call per value.
        kind = type(value)
        if kind is str:
            if key in _FREE_TEXT_KEYS:
                code = smtp_codes(value)
                if code:
                    out[f"{key}_code"] = code
            elif key == "url":
                out[key] = bare_url(value)
            else:
                out[key] = _ADDRESS.sub(_REDACTED, value) if "@" in value else value
        elif kind in _SCALARS:
            out[key] = value
        elif key in _FREE_TEXT_KEYS:
            continue  # free text in an unexpected shape: nothing of it is kept
        else:
            out[key] = _scrub(value)  # containers, and anything unusual (subclasses) the careful way
    return out


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _PERSONAL_KEYS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value
