"""Header-safe text: what a subject or display name may contain once it leaves our hands.

Values reach headers from templates and from ATS data (names, job titles). A CR or LF there would let a
value inject headers; other control and bidi-override characters garble or spoof what the reader sees.
"""

from __future__ import annotations

import re

#: Line and paragraph breaks of every kind become spaces.
_BREAKS = re.compile("[\r\n\t\v\f\x85\u2028\u2029]")
#: Other C0/C1 controls go, and so do the bidi embedding/override/isolate controls (U+202A–U+202E,
#: U+2066–U+2069), which can make displayed text read backwards.
_DROP = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s{2,}")

DEFAULT_SUBJECT_MAX_CHARS = 150
DEFAULT_NAME_MAX_CHARS = 100


def clean_header_text(value: str, max_chars: int) -> str:
    """One line of text: line breaks and tabs become spaces, other control characters go, runs of
    whitespace collapse, and the result is capped at `max_chars` (ending in "…" when cut)."""
    text = _DROP.sub("", _BREAKS.sub(" ", value))
    text = _SPACES.sub(" ", text).strip()
    if len(text) > max_chars:
        text = text[: max(max_chars - 1, 0)].rstrip() + "…"
    return text


def clean_subject(value: str, max_chars: int = DEFAULT_SUBJECT_MAX_CHARS) -> str:
    return clean_header_text(value, max_chars)


def clean_display_name(value: str | None, max_chars: int = DEFAULT_NAME_MAX_CHARS) -> str:
    return clean_header_text(value or "", max_chars)
