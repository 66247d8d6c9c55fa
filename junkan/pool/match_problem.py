"""The openings' side of a match, prepared once, and the pool cut into partitions (docs/pool.md "Partitions").

`prepare` does everything that must be identical in every partition: the TF-IDF vectoriser is fitted once
on the whole eligible pool's documents and the openings (so every partition weighs an n-gram the same
way), the skill and place vocabularies come from the openings, and the per-opening weights and the job
matrix are built. What is shipped to a partition (`MatchProblem` + one `PoolPartition`) holds no name, no
address and no internal id but the candidate id used to break ties.

A partition is a contiguous range of the eligible pool in candidate-id order, so partitions are id
ranges and the merge can break ties by candidate id exactly as one product over the whole pool would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from junkan.config import MatchWeights
from junkan.pool.features import (
    binary_rows,
    location_keys,
    normalize,
    skill_key,
    skill_keys,
    target_text,
)
from junkan.pool.openings import Target
from junkan.pool.semantic import Semantics
from junkan.pool.signals import PoolSignals, object_array
from junkan.pool.vocabulary.classify import Occupation


@dataclass(frozen=True, slots=True)
class MatchProblem:
    """The openings' side, the same for every partition. Small: openings × features, not the pool."""

    vectorizer: TfidfVectorizer
    #: Folded skill -> column, and place -> column (the openings' vocabularies only).
    skills: dict[str, int]
    places: dict[str, int]
    #: [w_text·TF-IDF | skill weights | location weights | w_pot | w_loc if remote | w_occ per family],
    #: one row per opening.
    job: sp.csr_matrix
    text: sp.csr_matrix
    required: sp.csr_matrix
    preferred: sp.csr_matrix
    location: sp.csr_matrix
    remote: np.ndarray
    #: The opening's occupation family (one-hot over the openings' families; empty row: none or off).
    occupation: sp.csr_matrix
    #: Best pairs each partition keeps per opening: top_k plus the most "already applied" pairs of one.
    keep: int
    #: Minimum product value (0–1) of a kept pair.
    threshold: float


@dataclass(frozen=True, slots=True)
class PoolPartition:
    """One id range of the eligible pool: what the matcher reads of each person there, nothing else.

    Per-person values are numpy arrays (object arrays for text), which a task runner ships as they are
    instead of walking every element looking for futures."""

    #: Position of the first person in the eligible pool.
    start: int
    candidate_ids: np.ndarray
    #: The past applications' text (str), folded skill and tag keys (tuple[str, ...], sorted), location
    #: (str | None).
    docs: np.ndarray
    skill_keys: np.ndarray
    #: Opening skill keys linked to a person's unknown skills by co-occurrence or as general synonyms
    #: (tuple[str, ...]).
    learned_keys: np.ndarray
    #: Occupation weight per family column ((column, weight) pairs, by column).
    occupation: np.ndarray
    location: np.ndarray
    #: Potential score / 100 (float32).
    potential: np.ndarray
    #: Family columns the person chose on their own page (list[int]; junkan/pool/stated.py).
    interest: np.ndarray

    def __len__(self) -> int:
        return len(self.candidate_ids)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A prepared match: the shipped problem and what only the merge needs (it stays in the parent)."""

    problem: MatchProblem
    signals: PoolSignals
    #: Signals index of each eligible person, in candidate-id order.
    pool: np.ndarray
    potential: np.ndarray
    top_k: int
    n_required: np.ndarray
    n_preferred: np.ndarray
    #: Keys target × len(pool) + position of the pairs whose person already applied to that job.
    applied: np.ndarray
    #: The vocabulary of the run (None: the semantic parts are off) and each opening's occupation.
    semantics: Semantics | None = None
    occupations: tuple[Occupation | None, ...] = ()
    families: dict[str, int] | None = None
    #: Per signals index, the families the person chose on their own page (empty: none stated).
    interests: Sequence[tuple[str, ...]] = ()

    def _skill_keys(self, terms: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Skill keys of a person's words, and the opening keys linked to them below a thesaurus match
        (learned by co-occurrence, or general synonyms)."""
        sem = self.semantics
        if sem is None:
            return tuple(sorted(skill_keys(terms))), ()
        keys = sem.keys_of_terms(terms)
        return tuple(sorted(keys)), tuple(sem.linked_keys(keys, self.problem.skills))

    def _occupation_row(self, past_jobs: tuple[int, ...]) -> tuple[tuple[int, float], ...]:
        if self.semantics is None or not self.families:
            return ()
        families = self.families
        links = self.semantics.family_links(past_jobs)
        return tuple(sorted((families[f], link.weight) for f, link in links.items() if f in families))

    def interest_row(self, i: int) -> list[int]:
        if not self.interests or not self.families:
            return []
        return sorted({self.families[f] for f in self.interests[i] if f in self.families})

    def partitions(self, size: int) -> Iterator[PoolPartition]:
        s = self.signals
        # People repeat the same words and the same past jobs: each distinct set is worked out once, and
        # equal values are one object (shipped once per partition, recognised as one by its matrix).
        keys_of: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        occupation_of: dict[tuple[int, ...], tuple[tuple[int, float], ...]] = {}
        for start in range(0, len(self.pool), size):
            idx = self.pool[start:start + size].tolist()
            keys, learned, occupation = [], [], []
            for i in idx:
                terms = (*s.skills[i], *s.ats_tags[i], *s.operator_tags[i])
                found = keys_of.get(terms)
                if found is None:
                    found = keys_of[terms] = self._skill_keys(terms)
                keys.append(found[0])
                learned.append(found[1])
                jobs = s.past_jobs[i]
                row = occupation_of.get(jobs)
                if row is None:
                    row = occupation_of[jobs] = self._occupation_row(jobs)
                occupation.append(row)
            yield PoolPartition(
                start=start, candidate_ids=s.candidate_ids[idx],
                docs=object_array([s.docs[i] for i in idx]), skill_keys=object_array(keys),
                learned_keys=object_array(learned), occupation=object_array(occupation),
                location=object_array([s.location[i] for i in idx]),
                potential=self.potential[start:start + size],
                interest=object_array([self.interest_row(i) for i in idx]),
            )


def _weights(w: MatchWeights) -> np.ndarray:
    raw = np.array([w.required_skills, w.preferred_skills, w.text, w.location, w.potential, w.occupation],
                   dtype=np.float64)
    if raw.sum() <= 0:
        raise ValueError("recontact.weights: at least one weight must be positive")
    return raw


def _applied_pairs(signals: PoolSignals, pool: np.ndarray, targets: list[Target]) -> tuple[np.ndarray, int]:
    """Keys of the (opening, person) pairs removed because the person applied to that job, and the most
    such pairs of one opening (each partition keeps that many more, so top_k are left after removal)."""
    n_p = len(pool)
    pos_in_pool = np.full(len(signals), -1, dtype=np.int64)
    pos_in_pool[pool] = np.arange(n_p)
    target_of_job: dict[int, list[int]] = {}
    for k, t in enumerate(targets):
        target_of_job.setdefault(t.job_id, []).append(k)
    keys: set[int] = set()  # two applications to one job are one pair
    pos = pos_in_pool[signals.applied_cand]
    hit = (pos >= 0) & np.isin(signals.applied_job, np.fromiter(target_of_job, dtype=np.int64))
    for p, job in zip(pos[hit].tolist(), signals.applied_job[hit].tolist(), strict=True):
        keys.update(k * n_p + p for k in target_of_job[job])
    applied = np.array(sorted(keys), dtype=np.int64)
    extra = int(np.bincount(applied // n_p).max()) if len(applied) else 0
    return applied, extra


@dataclass(frozen=True, slots=True)
class MatchRequest:
    """One matching question: the `eligible` people (a mask over the signals' indexes, with their
    `potential` 0–100) against the `targets`, the best `top_k` above `threshold` (0–100) for each.

    Without `semantics` the skills compare by their folded spelling and the occupation part is off (the
    matcher before issue 21). `interests` (per signals index) adds `interest_bonus` points (0–100) when the
    opening's family is one the person chose on their own page."""

    signals: PoolSignals
    eligible: np.ndarray
    potential: np.ndarray
    targets: list[Target]
    weights: MatchWeights
    top_k: int
    threshold: float
    text_max_chars: int = 200
    semantics: Semantics | None = None
    interests: Sequence[tuple[str, ...]] = ()
    interest_bonus: float = 0.0


def prepare(request: MatchRequest) -> Prepared | None:
    """None when there is nothing to match (no eligible person or no opening). The stated interests are a
    block of family columns outside the normalised weights, so nobody else's score changes."""
    signals, eligible, targets = request.signals, request.eligible, request.targets
    semantics, interests = request.semantics, request.interests
    top_k, threshold = request.top_k, request.threshold
    interest_bonus = request.interest_bonus / 100.0
    pool = np.flatnonzero(eligible)
    if len(pool) == 0 or not targets:
        return None
    w = _weights(request.weights)
    n_t = len(targets)

    # -- text: char n-grams after NFKC, fitted on every distinct document of the pool and the openings.
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), preprocessor=normalize,
                                 dtype=np.float32)
    job_docs = [target_text(t, request.text_max_chars) for t in targets]
    vectorizer.fit([*dict.fromkeys(signals.docs[i] for i in pool), *job_docs])
    text_j = vectorizer.transform(job_docs).tocsr()

    # -- skills: the openings' vocabulary only (a candidate skill no opening asks for changes nothing).
    key: Callable[[str], str] = semantics.skill_key if semantics is not None else skill_key
    vocab: dict[str, int] = {}
    req_rows: list[list[int]] = []
    pref_rows: list[list[int]] = []
    for t in targets:
        req_rows.append(sorted({vocab.setdefault(key(s), len(vocab)) for s in t.required_skills}))
        pref_rows.append(sorted({vocab.setdefault(key(s), len(vocab)) for s in t.preferred_skills}))
    n_s = max(len(vocab), 1)
    req_j, pref_j = binary_rows(req_rows, n_s), binary_rows(pref_rows, n_s)
    n_req = np.array([len(r) for r in req_rows], dtype=np.float64)
    n_pref = np.array([len(r) for r in pref_rows], dtype=np.float64)

    # -- location
    places: dict[str, int] = {}
    loc_rows: list[list[int]] = []
    remote = np.zeros(n_t, dtype=bool)
    for k, t in enumerate(targets):
        keys, remote[k] = location_keys(t.location)
        loc_rows.append(sorted({places.setdefault(p, len(places)) for p in keys}))
    loc_j = binary_rows(loc_rows, max(len(places), 1))
    has_loc = remote | (np.diff(loc_j.indptr) > 0)

    # -- occupation: the openings' families only, like the skills.
    occupations = tuple(semantics.target_occupation(t) if semantics is not None else None for t in targets)
    families: dict[str, int] = {}
    occ_rows = [[families.setdefault(o.family, len(families))] if o else [] for o in occupations]
    occ_j = binary_rows(occ_rows, max(len(families), 1))
    has_occ = np.array([bool(r) for r in occ_rows], dtype=bool)

    # -- per-opening weights: parts the opening lacks are spread over the others.
    present = np.column_stack([n_req > 0, n_pref > 0, np.ones(n_t, bool), has_loc, np.ones(n_t, bool),
                               has_occ])
    row_w = present * w
    row_w = row_w / row_w.sum(axis=1, keepdims=True)
    safe_req, safe_pref = np.maximum(n_req, 1), np.maximum(n_pref, 1)
    skill_j = (sp.diags((row_w[:, 0] / safe_req).astype(np.float32)) @ req_j
               + sp.diags((row_w[:, 1] / safe_pref).astype(np.float32)) @ pref_j)
    job_m = sp.hstack([
        sp.diags(row_w[:, 2].astype(np.float32)) @ text_j,
        skill_j,
        sp.diags(row_w[:, 3].astype(np.float32)) @ loc_j,
        sp.csr_matrix(row_w[:, 4].astype(np.float32).reshape(-1, 1)),
        sp.csr_matrix((row_w[:, 3] * remote).astype(np.float32).reshape(-1, 1)),
        sp.diags(row_w[:, 5].astype(np.float32)) @ occ_j,
        # The person's own stated interest (junkan/pool/stated.py): a bonus on top, not a share.
        (occ_j * np.float32(interest_bonus)).tocsr() if interests and interest_bonus > 0
        else sp.csr_matrix(occ_j.shape, dtype=np.float32),
    ], format="csr", dtype=np.float32)

    applied, extra = _applied_pairs(signals, pool, targets)
    problem = MatchProblem(
        vectorizer=vectorizer, skills=vocab, places=places, job=job_m, text=text_j, required=req_j,
        preferred=pref_j, location=loc_j, remote=remote, occupation=occ_j, keep=min(top_k + extra, len(pool)),
        threshold=max(threshold / 100.0 - 1e-6, 0.0),
    )
    pot = (np.clip(request.potential[pool], 0, 100) / 100.0).astype(np.float32)
    return Prepared(problem=problem, signals=signals, pool=pool, potential=pot, top_k=top_k,
                    n_required=n_req, n_preferred=n_pref, applied=applied, semantics=semantics,
                    occupations=occupations, families=families, interests=interests)
