"""One partition of the pool against every opening: its exact best pairs, with their parts (docs/pool.md).

Runs wherever the partition is sent (this process, a thread, a Dask worker): it needs only a
`MatchProblem` and a `PoolPartition`, reads no database and no setting. Memory is bounded by the
partition: its candidate matrix and openings × `keep` pairs.

**Exact cut.** `sp_matmul_topn` keeps the best `keep` values of a row, but which of several equal values
it keeps at the cut is its own affair. So it is asked for `keep` more (for the same cost): unless the last
of those ties with the `keep`-th (at the 6-decimal key the ranking uses), every pair tied with the
`keep`-th is among them, and the cut by (score, candidate id) is exact; a row where it does tie is
computed again in full for this partition. (Asked for one more only, 52 of 1,000 rows had to be redone
at 200,000 people, where many share a score; asked for `keep` more, none.) Each partition's list is then
exactly its best `keep` pairs in ranking order, and the merge of all partitions is exactly what one
product over the whole pool gives.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sparse_dot_topn import sp_matmul_topn

from junkan.pool.features import binary_rows, location_keys, rowwise_dot, weighted_rows
from junkan.pool.match_problem import MatchProblem, PoolPartition
from junkan.pool.semantic import LEARNED_SKILL_WEIGHT

#: Pairs held at once when a tied row is computed in full (bounds the memory of that step).
_FULL_ROW_PAIRS = 4_000_000
#: The cut and the ranking compare scores at this many decimals (float noise never reorders people).
KEY_DECIMALS = 6


def ranking_key(values: np.ndarray) -> np.ndarray:
    rounded: np.ndarray = np.round(values.astype(np.float64), KEY_DECIMALS)
    return rounded


@dataclass(frozen=True, slots=True)
class PartialMatches:
    """A partition's best pairs per opening, with what the explanation needs. `pos` is in the pool."""

    target: np.ndarray
    pos: np.ndarray
    candidate_id: np.ndarray
    value: np.ndarray
    text: np.ndarray
    required_hits: np.ndarray
    preferred_hits: np.ndarray
    location: np.ndarray
    potential: np.ndarray
    occupation: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)


def candidate_matrix(problem: MatchProblem, part: PoolPartition) -> tuple[sp.csr_matrix, ...]:
    """[TF-IDF | skills | places | potential | 1 | occupation] per person, and the text, skill, place and
    occupation blocks. A skill linked only by co-occurrence counts `LEARNED_SKILL_WEIGHT`."""
    text_c = _distinct_rows(part.docs, lambda docs: problem.vectorizer.transform(docs).tocsr())
    vocab, places = problem.skills, problem.places

    def skill_rows(pairs: list[tuple[tuple[str, ...], tuple[str, ...]]]) -> sp.csr_matrix:
        rows: list[dict[int, float]] = []
        for keys, learned in pairs:
            row = {vocab[k]: LEARNED_SKILL_WEIGHT for k in learned if k in vocab}
            row.update({vocab[k]: 1.0 for k in keys if k in vocab})
            rows.append(row)
        return weighted_rows(rows, max(len(vocab), 1))

    skills_c = _distinct_rows(list(zip(part.skill_keys, part.learned_keys, strict=True)), skill_rows)
    loc_c = _distinct_rows(part.location, lambda values: binary_rows(
        [sorted({places[p] for p in location_keys(v)[0] if p in places}) for v in values],
        max(len(places), 1)))
    occ_c = _distinct_rows(part.occupation, lambda rows: weighted_rows(
        [dict(r) for r in rows], problem.occupation.shape[1]))
    n = len(part)
    # Last, the families the person chose on their own page (the job side holds the bonus there:
    # match_problem.prepare).
    interest_c = binary_rows(list(part.interest), problem.occupation.shape[1])
    cand_m = sp.hstack([text_c, skills_c, loc_c, sp.csr_matrix(part.potential.reshape(-1, 1)),
                        sp.csr_matrix(np.ones((n, 1), dtype=np.float32)), occ_c, interest_c], format="csr",
                       dtype=np.float32)
    return cand_m, text_c, skills_c, loc_c, occ_c


def _distinct_rows(values: Sequence[Any] | np.ndarray,
                   build: Callable[[list[Any]], sp.csr_matrix]) -> sp.csr_matrix:
    """`build` on each distinct value once, then a row per person: the pool repeats a few thousand past
    titles, skill sets and places over hundreds of thousands of people."""
    seen: dict[Any, int] = {}
    inverse = np.fromiter((seen.setdefault(v, len(seen)) for v in values), dtype=np.int64, count=len(values))
    rows: sp.csr_matrix = build(list(seen))[inverse].tocsr()
    return rows


def _cut(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, ids: np.ndarray,
         keep: int) -> np.ndarray:
    """Indexes of the best `keep` pairs per row by (score key desc, candidate id asc), in that order."""
    order = np.lexsort((ids[cols], -ranking_key(vals), rows))
    sorted_rows = rows[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_rows, sorted_rows, side="left")
    picked: np.ndarray = order[rank < keep]
    return picked


def _tied_rows(result: sp.csr_matrix, keep: int, asked: int) -> np.ndarray:
    """Full rows (`asked` pairs) whose `keep`-th and last values share a key: the cut may have dropped a
    tie with the `keep`-th."""
    counts = np.diff(result.indptr)
    tied: list[int] = []
    for r in np.flatnonzero(counts >= asked):
        row = np.sort(ranking_key(result.data[result.indptr[r]:result.indptr[r + 1]]))[::-1]
        if row[keep - 1] == row[asked - 1]:
            tied.append(int(r))
    return np.array(tied, dtype=np.int64)


def _full_rows(problem: MatchProblem, cand_t: sp.csr_matrix, rows: np.ndarray, floor: np.ndarray,
               n: int, threads: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of `rows` at or above its row's cut value (the same kernel, so the same values)."""
    out_r, out_c, out_v = [], [], []
    block = max(1, _FULL_ROW_PAIRS // max(n, 1))
    for start in range(0, len(rows), block):
        chunk = rows[start:start + block]
        lowest = float(floor[start:start + block].min()) - 2 * 10.0 ** -KEY_DECIMALS
        got = sp_matmul_topn(problem.job[chunk], cand_t, top_n=n, threshold=max(problem.threshold, lowest),
                             n_threads=threads).tocoo()
        out_r.append(chunk[got.row])
        out_c.append(got.col.astype(np.int64))
        out_v.append(got.data)
    return np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_v)


def score_partition(problem: MatchProblem, part: PoolPartition,
                    n_threads: int | None = None) -> PartialMatches:
    n = len(part)
    threads = n_threads if n_threads is not None else max(1, min(os.cpu_count() or 1, 2))
    cand_m, text_c, skills_c, loc_c, occ_c = candidate_matrix(problem, part)
    cand_t = cand_m.T.tocsr()
    keep = min(problem.keep, n)
    asked = min(2 * keep, n)
    result = sp_matmul_topn(problem.job, cand_t, top_n=asked, threshold=problem.threshold,
                            n_threads=threads).tocsr()
    # Every pair above the threshold is there when fewer than the partition's people were asked for.
    tied = _tied_rows(result, keep, asked) if asked < n else np.zeros(0, dtype=np.int64)
    coo = result.tocoo()
    rows, cols, vals = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    if len(tied):
        floor = np.array([np.sort(ranking_key(result.data[result.indptr[r]:result.indptr[r + 1]]))[::-1]
                          [keep - 1] for r in tied])
        fr, fc, fv = _full_rows(problem, cand_t, tied, floor, n, threads)
        redo = np.isin(rows, tied)
        rows, cols, vals = (np.concatenate([rows[~redo], fr]), np.concatenate([cols[~redo], fc]),
                            np.concatenate([vals[~redo], fv]))
    picked = _cut(rows, cols, vals, part.candidate_ids, keep)
    rows, cols, vals = rows[picked], cols[picked], vals[picked]
    loc_hit = rowwise_dot(problem.location[rows], loc_c[cols]) > 0
    return PartialMatches(
        target=rows, pos=cols + part.start, candidate_id=part.candidate_ids[cols],
        value=vals.astype(np.float64), text=rowwise_dot(problem.text[rows], text_c[cols]),
        required_hits=rowwise_dot(problem.required[rows], skills_c[cols]),
        preferred_hits=rowwise_dot(problem.preferred[rows], skills_c[cols]),
        location=np.maximum(loc_hit, problem.remote[rows]).astype(np.float64),
        potential=part.potential[cols].astype(np.float64) * 100.0,
        occupation=rowwise_dot(problem.occupation[rows], occ_c[cols]),
    )
