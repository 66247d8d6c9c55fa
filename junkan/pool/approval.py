"""A recruiter approves a run's matches before anyone is mailed or written back (docs/pool.md "Approval").

With `JUNKAN_RECONTACT__APPROVAL=ui` the `recontact` flow pauses and shows, per job, the matched people by
opaque id with score and a one-line reason, all selected. This module gives the form its content
(`choices`) and applies the answer (`apply`): deselected pairs lose their mail listing — a mail left
listing no job is cancelled — and are skipped by write-back; a pause that timed out approves nobody.
The decision (who, when, what was deselected, by opaque id) is kept in `match_run.params["approval"]`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from junkan.db.models_pool import MatchRun, PoolMatch
from junkan.outbox.transitions import cancel_ids
from junkan.pool.export import match_reasons

#: The form lists this many characters of each person's reason.
REASON_CHARS = 60
CANCEL_REASON = "recontact_not_approved"


@dataclass(frozen=True, slots=True)
class Person:
    ref: str
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class JobChoice:
    #: The form field's name (`job_<ATS job id>[_<opening id>]`, made safe for a field name).
    field: str
    title: str
    people: list[Person]


@dataclass(slots=True)
class Decision:
    approved: int = 0
    deselected: int = 0
    mails_cancelled: int = 0
    timed_out: bool = False
    deselected_refs: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"approved_matches": self.approved, "deselected_matches": self.deselected,
                "mails_not_approved": self.mails_cancelled, "approval_timed_out": int(self.timed_out)}


def _field(job_id: str, opening_id: str) -> str:
    raw = f"job_{job_id}" + (f"_{opening_id}" if opening_id else "")
    return "".join(c if c.isalnum() and c.isascii() else "_" for c in raw)


def choices(rows: list[dict[str, Any]]) -> list[JobChoice]:
    """Per job (and opening), its people as `match_rows` lists them (rank order)."""
    by_target: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_target[_field(r["job_id"], r["opening_id"])].append(r)
    out = []
    for name, matches in by_target.items():
        first = matches[0]
        title = f"{first.get('job_title', first['job_id'])}（求人ID {first['job_id']}）"
        people = [Person(m["candidate_ref"], m["score"], (match_reasons(m["why"]) or m["why"])[:REASON_CHARS])
                  for m in matches]
        out.append(JobChoice(name, title, people))
    return out


def form_markdown(options: list[JobChoice]) -> str:
    """The text above the form: each job's people with score and reason (opaque ids only)."""
    lines = ["# 再コンタクトの承認", "",
             "選ばれている人だけにメールを送り、ATSに書き戻します。",
             "外す人のチェックを外して再開してください。", ""]
    for option in options:
        lines += [f"## {option.title}", "", "| 候補者ID | スコア | 理由 |", "| --- | ---: | --- |"]
        lines += [f"| {p.ref} | {p.score:.1f} | {p.reason.replace('|', '／')} |" for p in option.people]
        lines.append("")
    return "\n".join(lines)


def apply(session: Session, run_id: int, rows: list[dict[str, Any]],
          approved: dict[str, list[str]] | None, *, reviewer: str, comment: str, now: datetime) -> Decision:
    """Apply the recruiter's answer (`approved`: form field -> refs kept; None: the pause timed out)."""
    decision = Decision(timed_out=approved is None)
    dropped: list[int] = []
    for r in rows:
        kept_here = approved.get(_field(r["job_id"], r["opening_id"]), []) if approved is not None else []
        kept = r["candidate_ref"] in kept_here
        if kept:
            decision.approved += 1
        else:
            decision.deselected += 1
            dropped.append(r["match_id"])
            if approved is not None:
                decision.deselected_refs.append(f"{r['job_id']}:{r['candidate_ref']}")
    mails = set(session.scalars(select(PoolMatch.message_id).where(PoolMatch.id.in_(dropped),
                                                                   PoolMatch.message_id.is_not(None))))
    if dropped:
        session.execute(update(PoolMatch).where(PoolMatch.id.in_(dropped)).values(message_id=None))
    still_listed = set(session.scalars(select(PoolMatch.message_id).where(PoolMatch.message_id.in_(mails))))
    unlisted = mails - still_listed
    if unlisted:
        decision.mails_cancelled = cancel_ids(session, sorted(m for m in unlisted if m is not None),
                                              reason=CANCEL_REASON, now=now)
    run = session.get(MatchRun, run_id)
    assert run is not None
    run.params = {**run.params, "approval": {
        "state": "timed_out" if approved is None else "decided", "by": reviewer, "at": now.isoformat(),
        # The comment is free text and may name someone: it stays in Prefect's run input only.
        "commented": bool(comment.strip()), "deselected": decision.deselected_refs,
        "deselected_match_ids": dropped}}
    return decision


def not_approved(session: Session, run_id: int) -> set[int]:
    """Match ids of a run that write-back must skip (deselected, or all of them after a time-out)."""
    run = session.get(MatchRun, run_id)
    approval = (run.params or {}).get("approval") if run is not None else None
    return set(approval.get("deselected_match_ids") or []) if isinstance(approval, dict) else set()


def decision_markdown(decision: Decision, *, reviewer: str, at: datetime) -> str:
    if decision.timed_out:
        return ("# 再コンタクトの承認\n\n**承認されないまま期限切れになりました。** "
                "このランでは誰にもメールを送らず、ATSにも書き戻していません。")
    lines = ["# 再コンタクトの承認", "", f"承認者: {reviewer or '—'}　日時: {at.isoformat()}", "",
             f"承認 {decision.approved} 件、除外 {decision.deselected} 件"
             f"（送信取りやめ {decision.mails_cancelled} 通）"]
    if decision.deselected_refs:
        lines += ["", "除外（求人ID:候補者ID）: " + "、".join(decision.deselected_refs)]
    return "\n".join(lines)
