"""What may be kept of a provider event: no address, no IP, no user agent (data minimisation)."""

from __future__ import annotations

import re
from typing import Any

#: Keys SendGrid sends that identify a person or a device; they are dropped before anything is stored.
_PERSONAL_KEYS = frozenset({"email", "ip", "useragent", "user_agent"})
# Bounce reasons and SMTP responses often quote the recipient ("550 5.1.1 <a@b.jp>: unknown user").
_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
_REDACTED = "[address]"
_SCALARS = frozenset({int, float, bool, type(None)})


def scrub_text(value: str) -> str:
    # The membership test first: most values hold no address, and the regex is the webhook's hot spot.
    return _ADDRESS.sub(_REDACTED, value) if "@" in value else value


def scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of `event` without personal keys and with addresses blanked out of any text, at any depth."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key in _PERSONAL_KEYS:
            continue
        # Strings and numbers dominate a webhook batch (a thousand events a request): test the exact type
        # and handle them here, without a call per value.
        kind = type(value)
        if kind is str:
            out[key] = _ADDRESS.sub(_REDACTED, value) if "@" in value else value
        elif kind in _SCALARS:
            out[key] = value
        else:
            out[key] = _scrub(value)  # containers, and anything unusual (subclasses) the careful way
    return out


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return scrub_event(value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value
