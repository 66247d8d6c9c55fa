"""The comparison form of a job word: NFKC, case folding, then Sudachi's normalised form (docs/pool.md).

Sudachi (`sudachipy` with `sudachidict-core`, both shipped as wheels: the dictionary is inside the package,
nothing is downloaded) turns spelling variants into one form — サーバ/サーバー/ｻｰﾊﾞｰ, 打合せ/打ち合わせ —
so the thesaurus needs one entry per word, not per spelling. A pool has few distinct skills and titles,
so every distinct term is analysed once (`lru_cache`); the dictionary is memory-mapped and loads in ~0.1 s.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

_SPACE = re.compile(r"[\s\u3000・･]+")
_ASCII_WORD = re.compile(r"[0-9a-z]")


@functools.lru_cache(maxsize=1)
def dictionary() -> Any:
    """The one Sudachi dictionary of the process (a second would map the file again: +130 MB RSS)."""
    from sudachipy import Dictionary  # imported lazily: only the parent that prepares needs it

    return Dictionary(dict="core")


@functools.lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from sudachipy import SplitMode

    return dictionary().tokenizer(mode=SplitMode.C, fields={"normalized_form"})


def _sudachi(text: str) -> str:
    return "".join(m.normalized_form() for m in _tokenizer().tokenize(text))


@functools.lru_cache(maxsize=262_144)
def term_key(term: str) -> str:
    """NFKC + lower case + Sudachi normalised form, ・ and spaces between Japanese words removed."""
    folded = _SPACE.sub(" ", unicodedata.normalize("NFKC", term)).strip().lower()
    if not folded:
        return ""
    # Word by word; a space stays only between two Latin words ("google cloud"), so 法人 営業 = 法人営業
    # and an English alias still has word boundaries to match on.
    out = ""
    for word in folded.split(" "):
        norm = _sudachi(word).lower()
        if out and norm and is_ascii_word_char(out[-1]) and is_ascii_word_char(norm[0]):
            out += " "
        out += norm
    return out


def is_ascii_word_char(ch: str) -> bool:
    return bool(_ASCII_WORD.fullmatch(ch))
