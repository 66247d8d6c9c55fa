"""What a job posting says, as the matcher reads it: plain text from a posting's HTML, skill lists.

Skill lists are split like tags (`、` `,` `;` `/`, full-width forms included after NFKC), so
「Python、Go／SQL」 and "Python, Go; SQL" give the same three skills.
"""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from html.parser import HTMLParser
from typing import Any

_SPLIT_RE = re.compile(r"[,、;/]")
#: Tags that end a line of text: a posting's paragraphs and list items stay apart.
_BLOCK_TAGS = frozenset({"p", "br", "li", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "ul", "ol"})


def split_skills(text: str | None) -> tuple[str, ...]:
    """A cell or field of skills as a tuple, in order, duplicates dropped; () for nothing."""
    if not text:
        return ()
    normalized = unicodedata.normalize("NFKC", text)
    return tuple(dict.fromkeys(s.strip() for s in _SPLIT_RE.split(normalized) if s.strip()))


def skills_from_value(value: Any) -> tuple[str, ...]:
    """A custom field's value as skills: a list (of names, or of `{name}`/`{value}` options) or a string."""
    if value is None:
        return ()
    if isinstance(value, str):
        return split_skills(value)
    if isinstance(value, dict):
        return skills_from_value(value.get("name") if "name" in value else value.get("value"))
    if isinstance(value, list):
        out: dict[str, None] = {}
        for item in value:
            for skill in skills_from_value(item):
                out.setdefault(skill, None)
        return tuple(out)
    return ()


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str | None) -> str | None:
    """A posting's HTML (Greenhouse `content`, Lever `description`) as plain lines; None when empty."""
    if not html or not html.strip():
        return None
    if "<" not in html and "&lt;" in html:
        html = html_lib.unescape(html)  # Harvest sends a job post's HTML escaped once more
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = "\n".join(line for line in lines if line)
    return text or None
