"""What the matcher compares, in words a test can check: folded text, skill keys, places (docs/pool.md).

Shared by the parent that prepares a match (the openings' side) and by every pool partition (the
candidates' side), so both fold text, skills and places the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp

from junkan.ingest.reasons import fold
from junkan.pool.openings import Target
from junkan.pool.signals import PoolSignals

_PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}?県)")
_REMOTE = ("リモート", "在宅", "フルリモート", "remote", "テレワーク")
_SPLIT = re.compile(r"[、,;/／・]")


def normalize(text: str) -> str:
    """NFKC, then lower case: half-width katakana and full-width Latin compare equal to their usual forms."""
    return unicodedata.normalize("NFKC", text).lower()


def skill_key(skill: str) -> str:
    return fold(skill)


def location_keys(value: str | None) -> tuple[set[str], bool]:
    """Prefectures (or the whole folded place name) of a location, and whether it says remote."""
    if not value:
        return set(), False
    keys: set[str] = set()
    remote = False
    for part in _SPLIT.split(unicodedata.normalize("NFKC", value)):
        part = part.strip()
        if not part:
            continue
        if any(r in part.casefold() for r in _REMOTE):
            remote = True
            continue
        found = _PREFECTURE.match(part)
        keys.add(found.group(1) if found else fold(part))
    return keys, remote


def target_text(t: Target, max_chars: int) -> str:
    parts = [t.title, t.department or ""]
    if t.description:
        parts.append(t.description[: max(max_chars * 4, 400)])
    return " ".join(p for p in parts if p)


def skill_keys(terms: Iterable[str]) -> set[str]:
    """The folded keys of a person's skills and tags (a term that folds to nothing has none)."""
    return {k for t in terms if (k := skill_key(t))}


def candidate_skill_keys(signals: PoolSignals, i: int) -> set[str]:
    return skill_keys((*signals.skills[i], *signals.ats_tags[i], *signals.operator_tags[i]))


def binary_rows(rows: list[list[int]], n_cols: int) -> sp.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter((c for r in rows for c in r), dtype=np.int32, count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_cols))


def weighted_rows(rows: list[dict[int, float]], n_cols: int) -> sp.csr_matrix:
    """Like `binary_rows`, with a weight per column (sorted columns, as the sparse product wants)."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    n = int(indptr[-1])
    indices = np.fromiter((c for r in rows for c in sorted(r)), dtype=np.int32, count=n)
    data = np.fromiter((r[c] for r in rows for c in sorted(r)), dtype=np.float32, count=n)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_cols))


def rowwise_dot(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()
