"""Ranking the eligible pool for every new opening with one sparse top-K product (docs/pool.md "Matcher").

Each part of the score is a dot product, so the whole score is one: a candidate row holds
[char n-gram TF-IDF of past applications | skills and tags (0/1) | location (0/1) | potential/100 | 1], an
opening row holds [w_text · TF-IDF of title and posting | w_req/|req| and w_pref/|pref| per skill |
w_loc per place | w_pot | w_loc if remote]. `sparse_dot_topn.sp_matmul_topn` multiplies all openings by
all candidates keeping only the best `top_k` (+ the job's own past applicants, removed afterwards) above
the threshold: no Python loop over pairs, memory bounded by openings × K. Components for the kept pairs
are recomputed from gathered rows (vectorised) so that every match can be explained.

Weights of the parts an opening lacks (no required skills listed, no location) are spread over the parts
it has, so scores of openings with and without skill lists stay comparable.

Nothing here reads a protected attribute or a proxy for one (age, gender, birthplace, photo): the inputs
are `PoolSignals` (see its docstring) and the opening's title, posting text, skills and location.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sparse_dot_topn import sp_matmul_topn

from junkan.config import MatchWeights
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


@dataclass(frozen=True, slots=True)
class Matches:
    """Kept pairs, ordered by target then rank. `cand` indexes the signals."""

    target: np.ndarray
    cand: np.ndarray
    rank: np.ndarray
    score: np.ndarray
    required: np.ndarray
    preferred: np.ndarray
    text: np.ndarray
    location: np.ndarray
    potential: np.ndarray
    #: Pairs dropped because the person already applied to that job.
    applied_removed: int = 0

    def __len__(self) -> int:
        return len(self.cand)


def _empty() -> Matches:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    return Matches(zi, zi, zi, z, z, z, z, z, z)


def _weights(w: MatchWeights) -> np.ndarray:
    raw = np.array([w.required_skills, w.preferred_skills, w.text, w.location, w.potential], dtype=np.float64)
    if raw.sum() <= 0:
        raise ValueError("recontact.weights: at least one weight must be positive")
    return raw


def _binary_rows(rows: list[list[int]], n_cols: int) -> sp.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter((c for r in rows for c in r), dtype=np.int32, count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_cols))


def _rowwise_dot(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def candidate_skill_keys(signals: PoolSignals, i: int) -> set[str]:
    return {skill_key(s) for s in (*signals.skills[i], *signals.ats_tags[i], *signals.operator_tags[i])
            if skill_key(s)}


def match(
    signals: PoolSignals,
    eligible: np.ndarray,
    potential: np.ndarray,
    targets: list[Target],
    weights: MatchWeights,
    *,
    top_k: int,
    threshold: float,
    text_max_chars: int = 200,
    n_threads: int | None = None,
) -> Matches:
    """Top `top_k` eligible candidates above `threshold` (0–100) for every target."""
    pool = np.flatnonzero(eligible)
    if len(pool) == 0 or not targets:
        return _empty()
    w = _weights(weights)
    n_t, n_p = len(targets), len(pool)

    # -- text: char n-grams after NFKC; identical documents (same past titles) are vectorised once.
    unique: dict[str, int] = {}
    inverse = np.fromiter((unique.setdefault(signals.docs[i], len(unique)) for i in pool), dtype=np.int64,
                          count=n_p)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), preprocessor=normalize,
                                 dtype=np.float32)
    job_docs = [target_text(t, text_max_chars) for t in targets]
    vectorizer.fit([*unique, *job_docs])
    text_c = vectorizer.transform(list(unique))[inverse].tocsr()
    text_j = vectorizer.transform(job_docs).tocsr()

    # -- skills: the openings' vocabulary only (a candidate skill no opening asks for changes nothing).
    vocab: dict[str, int] = {}
    req_rows: list[list[int]] = []
    pref_rows: list[list[int]] = []
    for t in targets:
        req_rows.append(sorted({vocab.setdefault(skill_key(s), len(vocab)) for s in t.required_skills}))
        pref_rows.append(sorted({vocab.setdefault(skill_key(s), len(vocab)) for s in t.preferred_skills}))
    n_s = max(len(vocab), 1)
    skills_c = _binary_rows(
        [sorted({vocab[k] for k in candidate_skill_keys(signals, int(i)) if k in vocab}) for i in pool], n_s
    )
    req_j, pref_j = _binary_rows(req_rows, n_s), _binary_rows(pref_rows, n_s)
    n_req = np.array([len(r) for r in req_rows], dtype=np.float64)
    n_pref = np.array([len(r) for r in pref_rows], dtype=np.float64)

    # -- location
    places: dict[str, int] = {}
    loc_rows: list[list[int]] = []
    remote = np.zeros(n_t, dtype=bool)
    for k, t in enumerate(targets):
        keys, remote[k] = location_keys(t.location)
        loc_rows.append(sorted({places.setdefault(p, len(places)) for p in keys}))
    n_l = max(len(places), 1)
    cand_places = []
    for i in pool:
        keys, _ = location_keys(signals.location[i])
        cand_places.append(sorted({places[p] for p in keys if p in places}))
    loc_c, loc_j = _binary_rows(cand_places, n_l), _binary_rows(loc_rows, n_l)
    has_loc = remote | (np.diff(loc_j.indptr) > 0)

    # -- per-opening weights: parts the opening lacks are spread over the others.
    present = np.column_stack([n_req > 0, n_pref > 0, np.ones(n_t, bool), has_loc, np.ones(n_t, bool)])
    row_w = present * w
    row_w = row_w / row_w.sum(axis=1, keepdims=True)
    safe_req, safe_pref = np.maximum(n_req, 1), np.maximum(n_pref, 1)
    skill_j = (sp.diags((row_w[:, 0] / safe_req).astype(np.float32)) @ req_j
               + sp.diags((row_w[:, 1] / safe_pref).astype(np.float32)) @ pref_j)
    pot = (np.clip(potential[pool], 0, 100) / 100.0).astype(np.float32)
    cand_m = sp.hstack([text_c, skills_c, loc_c, sp.csr_matrix(pot.reshape(-1, 1)),
                        sp.csr_matrix(np.ones((n_p, 1), dtype=np.float32))], format="csr", dtype=np.float32)
    job_m = sp.hstack([
        sp.diags(row_w[:, 2].astype(np.float32)) @ text_j,
        skill_j,
        sp.diags(row_w[:, 3].astype(np.float32)) @ loc_j,
        sp.csr_matrix(row_w[:, 4].astype(np.float32).reshape(-1, 1)),
        sp.csr_matrix((row_w[:, 3] * remote).astype(np.float32).reshape(-1, 1)),
    ], format="csr", dtype=np.float32)

    # -- "already applied to that job": such pairs are removed, so ask for that many more.
    pos_in_pool = np.full(len(signals), -1, dtype=np.int64)
    pos_in_pool[pool] = np.arange(n_p)
    target_of_job: dict[int, list[int]] = {}
    for k, t in enumerate(targets):
        target_of_job.setdefault(t.job_id, []).append(k)
    a_rows: list[int] = []
    a_cols: list[int] = []
    for c, job in zip(signals.applied_cand.tolist(), signals.applied_job.tolist(), strict=True):
        p = pos_in_pool[c]
        if p >= 0 and job in target_of_job:
            for k in target_of_job[job]:
                a_rows.append(k)
                a_cols.append(int(p))
    applied = sp.csr_matrix((np.ones(len(a_rows), dtype=np.float32), (a_rows, a_cols)), shape=(n_t, n_p))
    applied.data[:] = 1.0  # duplicates (two applications to one job) sum up; one is enough
    extra = int(np.diff(applied.indptr).max()) if applied.nnz else 0

    threads = n_threads if n_threads is not None else max(1, min(os.cpu_count() or 1, 2))
    result = sp_matmul_topn(job_m, cand_m.T.tocsr(), top_n=min(top_k + extra, n_p),
                            threshold=max(threshold / 100.0 - 1e-6, 0.0), n_threads=threads).tocsr()
    removed = 0
    if applied.nnz:
        hit = result.multiply(applied).tocsr()
        removed = int(hit.nnz)
        result = (result - hit).tocsr()
        result.eliminate_zeros()
    coo = result.tocoo()
    rows, cols, vals = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(np.float64)
    if len(vals) == 0:
        return _empty()
    # Rank by score, ties by candidate id: the same data always gives the same list.
    order = np.lexsort((signals.candidate_ids[pool[cols]], -np.round(vals, 6), rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, rows, side="left")
    rank = np.arange(len(rows)) - starts
    keep = rank < top_k
    rows, cols, vals, rank = rows[keep], cols[keep], vals[keep], rank[keep] + 1

    text = _rowwise_dot(text_j[rows], text_c[cols])
    matched_req = _rowwise_dot(req_j[rows], skills_c[cols])
    matched_pref = _rowwise_dot(pref_j[rows], skills_c[cols])
    loc = np.maximum(_rowwise_dot(loc_j[rows], loc_c[cols]) > 0, remote[rows]).astype(np.float64)
    return Matches(
        target=rows, cand=pool[cols], rank=rank, score=np.round(vals * 100.0, 1),
        required=np.where(n_req[rows] > 0, matched_req / safe_req[rows], 0.0),
        preferred=np.where(n_pref[rows] > 0, matched_pref / safe_pref[rows], 0.0),
        text=np.clip(text, 0.0, 1.0), location=loc, potential=pot[cols].astype(np.float64) * 100.0,
        applied_removed=removed,
    )
