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
from junkan.pool.eligibility import Membership, pool_membership, store_members
from junkan.pool.exclusions import APPLIED_RULE, eligible, exclusion_masks
from junkan.pool.explain import SkillForm, bucket, explain
from junkan.pool.holdout import holdout_mask
from junkan.pool.matcher import Matches, PartitionMapper, candidate_skill_keys, match, skill_key
from junkan.pool.model import ModelReport, ensure_model, model_scores
from junkan.pool.openings import NewTargets, Target, find_new_targets, store_states
from junkan.pool.scoring import Scores, rule_scores
from junkan.pool.semantic import Semantics
from junkan.pool.signals import PoolSignals, load_signals
from junkan.pool.vocabulary import load_vocabulary

_INSERT_CHUNK = 5000


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
        "holdout_share": cfg.holdout_share if mode == "auto" else 0.0,
        "new_opening_days": cfg.new_opening_days, "strong": cfg.strong, "good": cfg.good,
    }


def plan_run(session: Session, settings: Settings, *, as_of: date, now: datetime, mode: str,
             n_threads: int | None = None, map_partitions: PartitionMapper | None = None,
             persist_model: bool = True) -> RunPlan:
    """The run of day `as_of`, in memory. With `persist_model=False` it reads only (`junkan preview`)."""
    cfg = settings.recontact
    signals = load_signals(session, settings, now)
    membership = pool_membership(signals, settings, now)
    model, report = ensure_model(session, settings, now, persist=persist_model)
    scores = (model_scores(model, signals, now, membership.mask) if model is not None
              else rule_scores(signals, now, membership.mask))
    keep, excluded = eligible(membership.mask, exclusion_masks(signals, settings, as_of))
    new = find_new_targets(session, settings, now)
    semantics = semantics_of(settings, signals)
    found = match(signals, keep, scores.score, new.targets, cfg.weights, top_k=cfg.top_k,
                  threshold=cfg.threshold, text_max_chars=cfg.text_max_chars, n_threads=n_threads,
                  partition_size=cfg.partition_size, map_partitions=map_partitions, semantics=semantics)
    excluded[APPLIED_RULE] = found.applied_removed
    plan = RunPlan(as_of=as_of, now=now, mode=mode, new=new, signals=signals, membership=membership,
                   scores=scores, model_report=report, eligible=keep, excluded=excluded, matches=found,
                   holdout_key=as_of.isoformat(), semantics=semantics)
    plan.rows = explained_rows(plan, settings)
    return plan


def semantics_of(settings: Settings, signals: PoolSignals) -> Semantics | None:
    """The run's vocabulary: shipped + the operator file, and what the pool's history teaches."""
    cfg = settings.recontact
    if not cfg.semantic:
        return None
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
    wanted = frozenset(sem.skill_key(x) for t in plan.targets
                       for x in (*t.required_skills, *t.preferred_skills)) if sem is not None else frozenset()
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
            stage_level=int(s.max_stage_level[i]), pool_why=plan.membership.why[i],
            forms=forms if sem is not None else None,
            occupation=sem.occupation_part(t, s.past_jobs[i]) if sem is not None else None,
        )
        score = float(m.score[n])
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


def store_run(session: Session, settings: Settings, plan: RunPlan) -> int:
    """Keep the plan; returns the run id. The caller commits."""
    s = plan.signals
    store_members(session, s, plan.membership, plan.now)
    session.execute(delete(PotentialScore))
    members = np.flatnonzero(plan.membership.mask)
    score_rows = [
        {"candidate_id": int(s.candidate_ids[i]), "score": float(plan.scores.score[i]),
         "method": plan.scores.method, "model_version": plan.scores.model_version,
         "reasons": plan.scores.reasons[i], "computed_at": plan.now}
        for i in members
    ]
    for start in range(0, len(score_rows), _INSERT_CHUNK):
        session.execute(PotentialScore.__table__.insert(), score_rows[start:start + _INSERT_CHUNK])
    store_states(session, plan.new.states)
    run = MatchRun(as_of=plan.as_of, run_at=plan.now, new_since=plan.new.new_since, mode=plan.mode,
                   params=params_of(settings, plan.mode), counts=plan.counts(),
                   score_method=plan.scores.method, model_version=plan.scores.model_version,
                   created_at=plan.now)
    session.add(run)
    session.flush()
    rows = [{**r, "run_id": run.id} for r in plan.rows]
    for start in range(0, len(rows), _INSERT_CHUNK):
        session.execute(PoolMatch.__table__.insert(), rows[start:start + _INSERT_CHUNK])
    return run.id
