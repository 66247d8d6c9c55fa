"""Ranking the eligible pool for every new opening with sparse top-K products (docs/pool.md "Matcher").

Each part of the score is a dot product, so the whole score is one: a candidate row holds
[char n-gram TF-IDF of past applications | skills and tags (0/1) | location (0/1) | potential/100 | 1], an
opening row holds [w_text · TF-IDF of title and posting | w_req/|req| and w_pref/|pref| per skill |
w_loc per place | w_pot | w_loc if remote]. `sparse_dot_topn.sp_matmul_topn` multiplies all openings by
the candidates keeping only the best `top_k` (+ the job's own past applicants, removed afterwards) above
the threshold: no Python loop over pairs, memory bounded by openings × K. Components for the kept pairs
are recomputed from gathered rows (vectorised) so that every match can be explained.

The pool is matched in partitions (`junkan/pool/match_problem.py`, `junkan/pool/partition_scoring.py`):
the openings' side is prepared once, each id range of the pool gives its exact best pairs, and `merge`
keeps the best of them. `match` runs the partitions one after another in this process; a caller can hand
them to anything else (the `recontact` task sends them to Prefect tasks, on threads or on Dask) through
`map_partitions`, and gets exactly the same matches.

Weights of the parts an opening lacks (no required skills listed, no location) are spread over the parts
it has, so scores of openings with and without skill lists stay comparable.

Nothing here reads a protected attribute or a proxy for one (age, gender, birthplace, photo): the inputs
are `PoolSignals` (see its docstring) and the opening's title, posting text, skills and location.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields

import numpy as np

from junkan.pool.features import candidate_skill_keys, location_keys, normalize, skill_key, target_text
from junkan.pool.match_problem import MatchProblem, MatchRequest, PoolPartition, Prepared, prepare
from junkan.pool.partition_scoring import PartialMatches, ranking_key, score_partition
from junkan.pool.vocabulary.classify import Occupation

__all__ = ["Matches", "PartitionMapper", "candidate_skill_keys", "location_keys", "match", "merge",
           "normalize", "skill_key", "target_text"]

#: Scores every partition against the problem, anywhere, and returns the partial results in any order.
PartitionMapper = Callable[[MatchProblem, Iterable[PoolPartition]], Iterable[PartialMatches]]


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
    #: The person's weight for the opening's family (1 same, less for learned or neighbouring; 0 none).
    occupation: np.ndarray
    #: Pairs dropped because the person already applied to that job.
    applied_removed: int = 0
    #: Partitions the pool was matched in.
    partitions: int = 0
    #: The openings' skill keys and each opening's occupation, as `prepare` found them (the explanations
    #: use the same; empty when nothing was kept).
    opening_skill_keys: frozenset[str] = frozenset()
    occupations: tuple[Occupation | None, ...] = ()

    def __len__(self) -> int:
        return len(self.cand)


def _empty(partitions: int = 0) -> Matches:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    return Matches(zi, zi, zi, z, z, z, z, z, z, z, partitions=partitions)


def _ranks(target: np.ndarray) -> np.ndarray:
    rank: np.ndarray = np.arange(len(target)) - np.searchsorted(target, target, side="left")
    return rank


def merge(prepared: Prepared, partials: Iterable[PartialMatches]) -> Matches:
    """The best `top_k` per opening over all partitions, ranked by score then candidate id.

    The whole pool's best `keep` pairs are among the partitions' best `keep`, so cutting their union at
    `keep` gives exactly one product's result; then the "already applied" pairs go, and `top_k` stay.
    """
    parts = list(partials)
    p = PartialMatches(*(np.concatenate([getattr(x, f.name) for x in parts]) for f in fields(PartialMatches)))
    if not len(p):
        return _empty(len(parts))
    order = np.lexsort((p.candidate_id, -ranking_key(p.value), p.target))
    order = order[_ranks(p.target[order]) < prepared.problem.keep]
    applied = np.isin(p.target[order] * len(prepared.pool) + p.pos[order], prepared.applied)
    removed = int(applied.sum())
    order = order[~applied]
    rank = _ranks(p.target[order])
    order, rank = order[rank < prepared.top_k], rank[rank < prepared.top_k] + 1
    if not len(order):
        return _empty(len(parts))
    rows = p.target[order]
    n_req, n_pref = prepared.n_required[rows], prepared.n_preferred[rows]
    return Matches(
        target=rows, cand=prepared.pool[p.pos[order]], rank=rank, score=np.round(p.value[order] * 100.0, 1),
        required=np.where(n_req > 0, p.required_hits[order] / np.maximum(n_req, 1), 0.0),
        preferred=np.where(n_pref > 0, p.preferred_hits[order] / np.maximum(n_pref, 1), 0.0),
        text=np.clip(p.text[order], 0.0, 1.0), location=p.location[order], potential=p.potential[order],
        occupation=p.occupation[order], applied_removed=removed, partitions=len(parts),
        opening_skill_keys=frozenset(prepared.problem.skills), occupations=prepared.occupations,
    )


def in_process(n_threads: int | None = None) -> PartitionMapper:
    """One partition after another in this process: memory bounded by one partition."""
    def run(problem: MatchProblem, parts: Iterable[PoolPartition]) -> Iterable[PartialMatches]:
        return [score_partition(problem, part, n_threads) for part in parts]
    return run


def match(request: MatchRequest, *, n_threads: int | None = None, partition_size: int | None = None,
          map_partitions: PartitionMapper | None = None) -> Matches:
    """The best `request.top_k` eligible candidates above `request.threshold` for every target.

    `partition_size` eligible people per partition (None: the whole pool in one); the partitions go to
    `map_partitions` (default: one after another in this process)."""
    prepared = prepare(request)
    if prepared is None:
        return _empty()
    runner = map_partitions or in_process(n_threads)
    parts = prepared.partitions(partition_size or len(prepared.pool))
    return merge(prepared, runner(prepared.problem, parts))
