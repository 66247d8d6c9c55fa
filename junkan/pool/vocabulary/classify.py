"""Which occupation family a job is, from its title, then its posting text, then its skills (docs/pool.md).

**Head rule.** A Japanese job title ends with its head: 営業事務 is 事務 work, インフラ営業 is 営業 work,
データ入力 is not データアナリスト. So among the family names found in a title, the one that ends last
wins, and of those the longest (営業事務 itself is a name of 営業事務, longer than 事務). Text in brackets
(「エンジニア（営業支援システム）」) is a qualifier and is not read: 営業支援 does not make it 営業 work.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from junkan.pool.vocabulary.terms import is_ascii_word_char, term_key
from junkan.pool.vocabulary.thesaurus import Vocabulary

_BRACKETS = re.compile(r"[（(【\[［〔「『<＜][^）)】\]］〕」』>＞]*[）)】\]］〕」』>＞]")
_CLAUSES = re.compile(r"[。\n、,.!?！？：:；;／/]")
#: Skills must agree this often before they name the family of a job whose words do not.
MIN_SKILL_VOTES = 2


@dataclass(frozen=True, slots=True)
class Occupation:
    family: str
    #: Where it was found: title, posting or skills.
    via: str
    #: The words that named it (an alias or the skills).
    term: str


def _boundary_ok(text: str, start: int, end: int, alias: str) -> bool:
    if is_ascii_word_char(alias[0]) and start > 0 and is_ascii_word_char(text[start - 1]):
        return False
    return not (is_ascii_word_char(alias[-1]) and end < len(text) and is_ascii_word_char(text[end]))


class Classifier:
    """Classifies words into families with one vocabulary; caches every distinct text it has seen."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        # Longest first, so that on an equal end the most specific name is met first.
        self._aliases = sorted(vocab.family_of.items(), key=lambda kv: -len(kv[0]))
        self._cache: dict[str, tuple[str, str] | None] = {}

    def head(self, text: str) -> tuple[str, str] | None:
        """(family, alias) named by the head of `text`, or None."""
        found = self._cache.get(text, False)
        if found is not False:
            return found  # type: ignore[return-value]
        result = self._head(_BRACKETS.sub(" ", text))
        self._cache[text] = result
        return result

    def _head(self, raw: str) -> tuple[str, str] | None:
        key = term_key(raw)
        best: tuple[int, int, str, str] | None = None
        for alias, family in self._aliases:
            start = key.rfind(alias)
            while start >= 0 and not _boundary_ok(key, start, start + len(alias), alias):
                start = key.rfind(alias, 0, start + len(alias) - 1)
            if start < 0:
                continue
            rank = (start + len(alias), len(alias))
            if best is None or rank > best[:2]:
                best = (*rank, family, alias)
        return (best[2], best[3]) if best else None

    def of_job(self, title: str, description: str | None = None,
               skills: Iterable[str] = ()) -> Occupation | None:
        named = self.head(title) if title else None
        if named:
            return Occupation(named[0], "title", title)
        if description:
            votes: Counter[str] = Counter()
            first: dict[str, str] = {}
            for clause in _CLAUSES.split(description):
                hit = self.head(clause) if clause.strip() else None
                if hit:
                    votes[hit[0]] += 1
                    first.setdefault(hit[0], hit[1])
            if votes:
                family = max(votes, key=lambda f: (votes[f], -list(first).index(f)))
                return Occupation(family, "posting", first[family])
        canonical = (self.vocab.canonical_skill(s) for s in skills)
        hints = Counter(f for c in canonical if c and (f := self.vocab.skill_family.get(c)))
        if hints:
            (family, n), *rest = hints.most_common(2)
            if n >= MIN_SKILL_VOTES and (not rest or rest[0][1] < n):
                return Occupation(family, "skills", "、".join(skills))
        return None
