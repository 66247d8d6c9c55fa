"""Back-testing the matcher on the company's own history (`junkan pool evaluate`, docs/pool.md).

An event is a re-application of a pooled person: someone whose application was rejected or withdrawn
later applied to a job that opened after that decision. For each event the pool is read as it was the
day the job opened (`load_signals(..., now=opened_at)`: the re-application itself is not known yet) and
the matcher ranks every pool member of that day for that job, with and without the semantic parts.
Recall@K is the share of events whose person ranked within the top K; the median rank is over all
events (a person ranked below `MAX_RANK` counts as below it). Potential is the rule score of that day;
the exclusions (cooldown, recently contacted …) are not applied, since they say who may be contacted,
not how well the matcher ranks.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db.models import Application, Job
from junkan.pool.eligibility import pool_membership
from junkan.pool.match_problem import MatchRequest
from junkan.pool.matcher import match
from junkan.pool.openings import job_target
from junkan.pool.runs import semantics_of
from junkan.pool.scoring import rule_scores
from junkan.pool.signals import DECIDED_STATUSES, load_signals

KS = (5, 10, 20)
#: Ranks are computed this deep; a person further down counts as MAX_RANK + 1.
MAX_RANK = 1000


@dataclass
class Evaluation:
    #: Rank per event (1 = first), with and without the semantic parts.
    semantic: list[int] = field(default_factory=list)
    plain: list[int] = field(default_factory=list)
    #: Events skipped because the person was not in the pool the day the job opened.
    not_in_pool: int = 0

    @property
    def events(self) -> int:
        return len(self.semantic)

    @staticmethod
    def recall(ranks: list[int], k: int) -> float:
        return sum(r <= k for r in ranks) / len(ranks) if ranks else 0.0

    @staticmethod
    def median(ranks: list[int]) -> float:
        return float(statistics.median(ranks)) if ranks else 0.0


def reapplications(session: Session, since: datetime | None) -> dict[int, set[int]]:
    """Job id -> candidate ids who applied to it after a rejection/withdrawal decided before it opened."""
    opened = {jid: at for jid, at in session.execute(select(Job.id, Job.opened_at)) if at is not None}
    decided: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
    applied: list[tuple[int, int]] = []
    for cid, job_id, status, dec in session.execute(
        select(Application.candidate_id, Application.job_id, Application.status, Application.decided_at)
        .order_by(Application.id)
    ):
        if status in DECIDED_STATUSES and dec is not None:
            decided[cid].append((dec, job_id))
        if job_id is not None and job_id in opened:
            applied.append((cid, job_id))
    events: dict[int, set[int]] = defaultdict(set)
    for cid, job_id in applied:
        at = opened[job_id]
        if since is not None and at < since:
            continue
        if any(dec < at and other != job_id for dec, other in decided.get(cid, ())):
            events[job_id].add(cid)
    return events


def evaluate(session: Session, settings: Settings, since: datetime | None = None) -> Evaluation:
    cfg = settings.recontact
    result = Evaluation()
    jobs = {j.id: j for j in session.scalars(select(Job))}
    events = reapplications(session, since)
    for job_id in sorted(events, key=lambda j: (jobs[j].opened_at, j)):
        job = jobs[job_id]
        now = job.opened_at
        assert now is not None  # reapplications() keeps opened jobs only
        signals = load_signals(session, settings, now)
        members = pool_membership(signals, settings, now).mask
        scores = rule_scores(signals, now, members)
        target = job_target(f"job:{job_id}", job, None, now)
        depth = int(min(MAX_RANK, max(int(members.sum()), 1)))
        ranked = {}
        for label, sem in (("semantic", semantics_of(settings, signals)), ("plain", None)):
            found = match(MatchRequest(signals, members, scores.score, [target], cfg.weights, top_k=depth,
                                       threshold=0.0, text_max_chars=cfg.text_max_chars, semantics=sem))
            ranked[label] = {int(signals.candidate_ids[c]): int(r) for c, r in zip(found.cand, found.rank,
                                                                                   strict=True)}
        for cid in sorted(events[job_id]):
            i = signals.index.get(cid)
            if i is None or not bool(members[i]):
                result.not_in_pool += 1
                continue
            result.semantic.append(ranked["semantic"].get(cid, MAX_RANK + 1))
            result.plain.append(ranked["plain"].get(cid, MAX_RANK + 1))
    return result


def lines(ev: Evaluation) -> list[str]:
    """Side by side, as the CLI prints it."""
    out = [f"再応募 {ev.events}件で検証（プールの人が、不採用・辞退の後に開いた求人へ応募したもの。"
           f"その日にプール外だった {ev.not_in_pool}件は除外）",
           "指標\t語彙あり\t語彙なし"]
    for k in KS:
        on, off = Evaluation.recall(ev.semantic, k), Evaluation.recall(ev.plain, k)
        out.append(f"recall@{k}\t{on:.3f}\t{off:.3f}")
    out.append(f"順位の中央値\t{Evaluation.median(ev.semantic):g}\t{Evaluation.median(ev.plain):g}")
    return out


__all__ = ["KS", "MAX_RANK", "Evaluation", "evaluate", "lines", "reapplications"]
