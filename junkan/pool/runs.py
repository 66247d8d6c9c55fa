"""Planning a `recontact` run in memory, and storing it (docs/pool.md "A run").

`plan_run` reads the pool and the new openings, scores, excludes and matches; it writes nothing except
a newly trained model version (flushed, so a dry run's rollback removes it too). `store_run` keeps a plan:
the pool snapshot, the potential scores, the opening states, the run and its matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import delete
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db.models_pool import MatchRun, PoolMatch, PotentialScore
from junkan.ingest.upsert import insert_tuples
from junkan.pool.bulk import gc_paused, heap_frozen
from junkan.pool.eligibility import Membership, pool_membership, store_members
from junkan.pool.exclusions import APPLIED_RULE, eligible, exclusion_masks
from junkan.pool.explain import SkillForm, bucket, explain
from junkan.pool.holdout import holdout_mask
from junkan.pool.match_problem import MatchRequest
from junkan.pool.matcher import Matches, PartitionMapper, candidate_skill_keys, match, skill_key
from junkan.pool.model import ModelReport, ensure_model, model_scores
from junkan.pool.openings import NewTargets, Target, find_new_targets, store_states
from junkan.pool.scoring import Scores, rule_scores
from junkan.pool.semantic import Semantics
from junkan.pool.signals import PoolSignals, load_signals
from junkan.pool.stated import Stated, interest_part, read_stated, timing_part, with_stated_skills
from junkan.pool.vocabulary import load_vocabulary

SCORE_COLUMNS = ("candidate_id", "score", "method", "model_version", "reasons", "computed_at")
#: The keys of an explained row, in the order they are stored.
MATCH_COLUMNS = ("job_id", "opening_id", "candidate_id", "application_id", "rank", "score", "required_score",
                 "preferred_score", "text_score", "location_score", "potential_score", "matched_required",
                 "missing_required", "matched_preferred", "bucket", "why", "holdout", "message_id")


@dataclass
class RunPlan:
    as_of: date
    now: datetime
    mode: str
    new: NewTargets
    signals: PoolSignals
    membership: Membership
    scores: Scores
    model_report: ModelReport
    eligible: np.ndarray
    excluded: dict[str, int]
    matches: Matches
    #: pool_match rows without run_id (index-aligned with `matches`).
    rows: list[dict[str, Any]] = field(default_factory=list)
    holdout_key: str = ""
    #: The run's vocabulary (None: `recontact.semantic` is off).
    semantics: Semantics | None = None
    #: What people chose on their own page (None: nobody is read, e.g. a plan built by hand).
    stated: Stated | None = None

    @property
    def targets(self) -> list[Target]:
        return self.new.targets

    def counts(self) -> dict[str, int]:
        matched = {int(r["candidate_id"]) for r in self.rows}
        held = {int(r["candidate_id"]) for r in self.rows if r["holdout"]}
        return {
            "new_openings": len(self.targets),
            "open_openings": self.new.open_targets,
            "pool": self.membership.size,
            "eligible_pool": int(self.eligible.sum()),
            "matches": len(self.rows),
            "matched_people": len(matched),
            "held_out_people": len(held),
            "strong": sum(1 for r in self.rows if r["bucket"] == "強い一致"),
            **{f"excluded_{k}": v for k, v in self.excluded.items()},
        }


def params_of(settings: Settings, mode: str) -> dict[str, Any]:
    cfg = settings.recontact
    return {
        "mode": mode, "top_k": cfg.top_k, "threshold": cfg.threshold, "weights": cfg.weights.model_dump(),
        "cooldown_months": cfg.cooldown_months, "recontact_interval_days": cfg.recontact_interval_days,
        "interest_bonus": cfg.interest_bonus,
        "holdout_share": cfg.holdout_share if mode == "auto" else 0.0,
        "new_opening_days": cfg.new_opening_days, "strong": cfg.strong, "good": cfg.good,
    }


def plan_run(session: Session, settings: Settings, *, as_of: date, now: datetime, mode: str,
             n_threads: int | None = None, map_partitions: PartitionMapper | None = None,
             persist_model: bool = True) -> RunPlan:
    """The run of day `as_of`, in memory. With `persist_model=False` it reads only (`junkan preview`)."""
    signals = load_signals(session, settings, now)
    with heap_frozen():
        return _plan_run(session, settings, signals, as_of=as_of, now=now, mode=mode, n_threads=n_threads,
                         map_partitions=map_partitions, persist_model=persist_model)


def _plan_run(session: Session, settings: Settings, signals: PoolSignals, *, as_of: date, now: datetime,
              mode: str, n_threads: int | None, map_partitions: PartitionMapper | None,
              persist_model: bool) -> RunPlan:
    """`plan_run` once the signals are read (and left out of garbage collection)."""
    cfg = settings.recontact
    membership = pool_membership(signals, settings, now)
    # What people chose on their own page: skills count like the ATS's; interests and timing below.
    stated = read_stated(session, signals, settings.recontact.cooldown_months, now)
    signals = with_stated_skills(signals, stated)
    model, report = ensure_model(session, settings, now, persist=persist_model)
    scores = (model_scores(model, signals, now, membership.mask) if model is not None
              else rule_scores(signals, now, membership.mask))
    keep, excluded = eligible(membership.mask, exclusion_masks(signals, settings, as_of, stated))
    new = find_new_targets(session, settings, now)
    semantics = semantics_of(settings, signals)
    request = MatchRequest(signals, keep, scores.score, new.targets, cfg.weights, top_k=cfg.top_k,
                           threshold=cfg.threshold, text_max_chars=cfg.text_max_chars, semantics=semantics,
                           interests=stated.families if stated.any_interest else (),
                           interest_bonus=cfg.interest_bonus)
    found = match(request, n_threads=n_threads, partition_size=cfg.partition_size,
                  map_partitions=map_partitions)
    excluded[APPLIED_RULE] = found.applied_removed
    plan = RunPlan(as_of=as_of, now=now, mode=mode, new=new, signals=signals, membership=membership,
                   scores=scores, model_report=report, eligible=keep, excluded=excluded, matches=found,
                   holdout_key=as_of.isoformat(), semantics=semantics, stated=stated)
    plan.rows = explained_rows(plan, settings)
    return plan


def semantics_of(settings: Settings, signals: PoolSignals) -> Semantics | None:
    """The run's vocabulary: shipped + the operator file, and what the pool's history teaches."""
    return build_semantics(settings, signals) if settings.recontact.semantic else None


def build_semantics(settings: Settings, signals: PoolSignals) -> Semantics:
    """The vocabulary a run uses when `recontact.semantic` is on (the vocabulary report shows it either
    way), the general synonyms switched as configured."""
    cfg = settings.recontact
    return Semantics(load_vocabulary(cfg.thesaurus_path), signals, general_synonyms=cfg.general_synonyms)


def explained_rows(plan: RunPlan, settings: Settings) -> list[dict[str, Any]]:
    cfg = settings.recontact
    m, s = plan.matches, plan.signals
    if not len(m):
        return []
    share = cfg.holdout_share if plan.mode == "auto" else 0.0
    held = holdout_mask(plan.holdout_key, s.candidate_ids[m.cand], share)
    sem = plan.semantics
    # The openings' skill keys: a general synonym links a person only to these (as in the matcher).
    wanted = m.opening_skill_keys if sem is not None else frozenset()
    # Each opening's family: a stated interest counts only there (and only with a bonus).
    families = [found.family if cfg.interest_bonus > 0 and found is not None else None
                for found in m.occupations]
    forms_cache: dict[int, dict[str, SkillForm]] = {}
    rows: list[dict[str, Any]] = []
    for n in range(len(m)):
        t = plan.targets[int(m.target[n])]
        i = int(m.cand[n])
        forms = forms_cache.get(i)
        if forms is None:
            forms = forms_cache[i] = (sem.skill_forms(s, i, wanted) if sem is not None
                                      else {k: SkillForm(k) for k in candidate_skill_keys(s, i)})
        why = explain(
            required=t.required_skills, preferred=t.preferred_skills, candidate_keys=set(forms),
            key=sem.skill_key if sem is not None else skill_key,
            text_score=float(m.text[n]), last_title=s.last_title[i], location_match=bool(m.location[n]),
            location=t.location,
            stage_level=int(s.max_stage_level[i]), last_stage_level=int(s.stage_level[i]),
            pool_why=plan.membership.why[i],
            forms=forms if sem is not None else None,
            occupation=sem.occupation_part(t, s.past_jobs[i]) if sem is not None else None,
            stated=stated_parts(plan, families[int(m.target[n])], i),
        )
        # A stated interest's bonus comes on top of the weighted sum; the score shown stays 0–100 (the
        # ranking used the uncapped sum).
        score = min(float(m.score[n]), 100.0)
        rows.append({
            "job_id": t.job_id, "opening_id": t.opening_id, "candidate_id": int(s.candidate_ids[i]),
            "application_id": int(s.app_id[i]), "rank": int(m.rank[n]), "score": score,
            "required_score": round(float(m.required[n]) * 100, 1),
            "preferred_score": round(float(m.preferred[n]) * 100, 1),
            "text_score": round(float(m.text[n]) * 100, 1),
            "location_score": round(float(m.location[n]) * 100, 1),
            "potential_score": round(float(m.potential[n]), 1),
            "matched_required": why.matched_required, "missing_required": why.missing_required,
            "matched_preferred": why.matched_preferred, "bucket": bucket(score, cfg.strong, cfg.good),
            "why": why.why, "holdout": bool(held[n]), "message_id": None,
        })
    return rows


def stated_parts(plan: RunPlan, family: str | None, i: int) -> tuple[str, ...]:
    """「ご本人の希望職種: 法人営業」 when the person chose the opening's `family` (the bonus counted),
    「ご本人の希望時期: 3か月後から」 when their own timing replaced the default cooldown."""
    stated, sem = plan.stated, plan.semantics
    if stated is None:
        return ()
    parts: list[str] = []
    if family is not None and sem is not None and family in stated.families[i]:
        parts.append(interest_part(sem.family_title(family)))
    timing = timing_part(stated.timing[i])
    if timing:
        parts.append(timing)
    return tuple(parts)


def store_run(session: Session, settings: Settings, plan: RunPlan) -> int:
    """Keep the plan; returns the run id. The caller commits."""
    s = plan.signals
    with gc_paused():
        store_members(session, s, plan.membership, plan.now)
        session.execute(delete(PotentialScore))
        members = np.flatnonzero(plan.membership.mask).tolist()
        ids, score = s.candidate_ids.tolist(), plan.scores.score.tolist()
        method, version, reasons = plan.scores.method, plan.scores.model_version, plan.scores.reasons
        insert_tuples(session.connection(), PotentialScore.__table__, SCORE_COLUMNS,
                    [(ids[i], score[i], method, version, reasons[i], plan.now) for i in members])
    store_states(session, plan.new.states)
    run = MatchRun(as_of=plan.as_of, run_at=plan.now, new_since=plan.new.new_since, mode=plan.mode,
                   params=params_of(settings, plan.mode), counts=plan.counts(),
                   score_method=plan.scores.method, model_version=plan.scores.model_version,
                   created_at=plan.now)
    session.add(run)
    session.flush()
    insert_tuples(session.connection(), PoolMatch.__table__, (*MATCH_COLUMNS, "run_id"),
                [(*(r[c] for c in MATCH_COLUMNS), run.id) for r in plan.rows])
    return run.id
