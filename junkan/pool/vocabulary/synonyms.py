"""General synonyms from Sudachi's synonym groups: the lowest layer of the vocabulary (docs/pool.md).

The Sudachi synonym dictionary's group ids are carried by `sudachidict-core` itself on every word
(`Morpheme.synonym_group_ids()`), so no other package and no download is needed (chikkarpy, which reads the
synonym dictionary's own file, cannot be installed: docs/pool.md). 顧客＝クライアント (group 186),
打ち合わせ＝ミーティング＝会議 (813), 給与＝給料＝賃金 (312).

A term gets a **synonym signature** only when the word that carries its meaning is unambiguous: Sudachi
reads it as one content word, or its head (last word) is a noun, and that word belongs to exactly one
group. The head's group replaces it; the words before it stay as written, so 法人セールス＝法人営業 but not
個人営業, and 営業事務 (head 事務, in no group) gets none. A word in several groups (PC: four) links nothing.
Callers ask only for terms the thesaurus does not know: the thesaurus and the operator file always win.
"""

from __future__ import annotations

import functools
from typing import Any

from junkan.pool.vocabulary.terms import dictionary

#: Prefix of a synonym signature: never equal to a thesaurus key (≡…) or a folded term.
SYNONYM = "∼"
_CONTENT = ("名詞", "動詞", "形容詞", "形状詞")


@functools.lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from sudachipy import SplitMode  # imported lazily, like terms.py

    return dictionary().tokenizer(mode=SplitMode.C, fields={"normalized_form", "pos", "synonym_group_ids"})


@functools.lru_cache(maxsize=262_144)
def _analyse(term: str) -> tuple[str, int] | None:
    """(the words before the head, normalised; the head's one group), or None."""
    words = [m for m in _tokenizer().tokenize(term.strip()) if m.part_of_speech()[0] != "空白"]
    if not words:
        return None
    head = words[-1]
    pos = head.part_of_speech()[0]
    if pos != "名詞" and (len(words) > 1 or pos not in _CONTENT):
        return None
    groups = head.synonym_group_ids()
    if len(groups) != 1:
        return None
    return "".join(m.normalized_form() for m in words[:-1]), int(groups[0])


def synonym_group(term: str) -> int | None:
    """The one synonym group of the term's head (介護 and 看護: 22138), or None."""
    found = _analyse(term)
    return found[1] if found else None


def synonym_signature(term: str) -> str | None:
    """「∼法人#425」 for 法人営業 and 法人セールス; None when the term's head is in no group or in several."""
    found = _analyse(term)
    return f"{SYNONYM}{found[0]}#{found[1]}" if found else None
