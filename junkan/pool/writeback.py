"""Re-contact written back into the source ATS, exactly once (docs/pool.md "Write-back").

The same discipline as mail: every write is a keyed row of `ats_writeback`, one per (source, person, job,
action), so planning twice adds nothing.

1. `plan`: rows for the run's matches (shortlist mode: every match; auto: the matches in a mail that was not
   cancelled or suppressed — a person hired since, or who withdrew consent, is not tagged) and for every
   re-application from re-contact (`reapplied_note`, and `hired_note` once it ended in a hire), for the
   actions switched on (JUNKAN_RECONTACT__WRITEBACK__*). Spreadsheet sources get none.
2. `write_back`: claims a batch (state `sending`, attempts + 1, a lease) and commits that before any call;
   then, per row, a row claimed before (attempts > 1: a crash or a retry came between) is first looked
   up in the ATS (`present`), and only written when it is not there; a new application or opportunity
   (`prospect`) is always looked up first, since the person may be on that job already. The outcome is
   recorded at once.
   A throttled or failing ATS (after the shared retry policy) leaves the row `pending` for the next run;
   a permanent refusal (403 scope, 404, 422), or a write the ATS cannot take (`Unwritable`), marks it
   `failed` with the reason. Nothing raises: a failure
   is counted per action and the mail and the run go on.

A dry run plans and counts without storing or calling the ATS.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session, aliased

from junkan.ats.writeback import APPLICATION_NOTES, AtsWriter, Unwritable, Write, marker
from junkan.batching import INSERT_CHUNK, batched
from junkan.config import Settings
from junkan.db.dialect import insert_ignore
from junkan.db.models import Application, Candidate, Job, Message, MessageState
from junkan.db.models_pool import AtsWriteback, MatchRun, PoolMatch, PoolReapplication
from junkan.http import HttpError
from junkan.pool.approval import not_approved
from junkan.pool.months import local_day

#: The actions planned per match, in the order they are written (the tag first: the quickest to see).
MATCH_ACTIONS = ("tag", "note", "prospect")
#: Looked up in the ATS before every write, not only after an interruption: the person may have applied
#: to the job themselves, and a second application or opportunity would be a duplicate.
_LOOK_FIRST = frozenset({"prospect"})
_WRITABLE_KINDS = ("greenhouse", "lever")
#: A re-contact mail in these states will not go out (the send gate cancelled it, or the address is
#: suppressed): its matches are not written back. A mail still due is: it goes out in its window.
_NOT_SENT = frozenset({MessageState.CANCELLED.value, MessageState.SUPPRESSED.value})


def writeback_key(source: str, candidate_id: int, job_id: int, action: str) -> str:
    """Opaque and stable: the same write always has the same key, which says nothing about the person."""
    digest = hashlib.sha256(f"{source}|{candidate_id}|{job_id}|{action}".encode()).hexdigest()
    return f"jk_{digest[:32]}"


def enabled_actions(settings: Settings) -> tuple[str, ...]:
    """Match actions switched on for this source (none for spreadsheets)."""
    if settings.ats.kind not in _WRITABLE_KINDS:
        return ()
    cfg = settings.recontact.writeback
    wanted = {"tag": cfg.tag, "note": cfg.note, "prospect": cfg.prospect}
    return tuple(a for a in MATCH_ACTIONS if wanted[a])


def _row(source: str, candidate_id: int, job_id: int, action: str, application_id: int,
         match_id: int | None, now: datetime) -> dict[str, Any]:
    return {"source": source, "candidate_id": candidate_id, "job_id": job_id, "action": action,
            "key": writeback_key(source, candidate_id, job_id, action), "application_id": application_id,
            "match_id": match_id, "state": "pending", "attempts": 0, "created_at": now}


def plan(session: Session, settings: Settings, run_id: int | None, now: datetime) -> int:
    """Add the pending writes of run `run_id` and of recorded re-applications; returns how many are new."""
    if settings.ats.kind not in _WRITABLE_KINDS:
        return 0
    source = settings.ats.source
    rows: list[dict[str, Any]] = []
    actions = enabled_actions(settings)
    if run_id is not None and actions:
        app = aliased(Application)
        matches = session.execute(
            select(PoolMatch.id, PoolMatch.candidate_id, PoolMatch.job_id, PoolMatch.application_id,
                   PoolMatch.message_id, PoolMatch.holdout, MatchRun.mode, Message.state)
            .join(MatchRun, MatchRun.id == PoolMatch.run_id)
            .join(Job, Job.id == PoolMatch.job_id).join(app, app.id == PoolMatch.application_id)
            .outerjoin(Message, Message.id == PoolMatch.message_id)
            .where(PoolMatch.run_id == run_id, Job.source == source, app.source == source)
        ).all()
        skipped = not_approved(session, run_id)
        for m in matches:
            if m.id in skipped:
                continue  # deselected by the recruiter, or the approval timed out
            if m.mode == "auto" and (m.holdout or m.message_id is None or m.state in _NOT_SENT):
                continue  # auto mode writes back for the people mailed
            rows += [_row(source, m.candidate_id, m.job_id, a, m.application_id, m.id, now) for a in actions]
    cfg = settings.recontact.writeback
    if cfg.reapplied_note or cfg.hired_note:
        reapplied = session.execute(
            select(PoolReapplication.application_id, PoolReapplication.candidate_id,
                   PoolReapplication.match_id, Application.job_id, Application.status)
            .join(Application, Application.id == PoolReapplication.application_id)
            .where(PoolReapplication.grp == "contacted", Application.source == source,
                   Application.job_id.is_not(None))
        ).all()
        for r in reapplied:
            hired = cfg.hired_note and r.status == "hired"
            wanted = [("reapplied_note", cfg.reapplied_note), ("hired_note", hired)]
            rows += [_row(source, r.candidate_id, r.job_id, a, r.application_id, r.match_id, now)
                     for a, on in wanted if on]
    added = 0
    for part in batched(rows, INSERT_CHUNK):
        # RETURNING lists the rows inserted (executemany's rowcount is -1 on PostgreSQL).
        stmt = insert_ignore(session, AtsWriteback.__table__).returning(AtsWriteback.__table__.c.id)
        added += len(session.execute(stmt, part).all())
    return added


def _claimable(source: str, now: datetime) -> Any:
    return (AtsWriteback.source == source) & or_(
        AtsWriteback.state == "pending",
        (AtsWriteback.state == "sending") & (AtsWriteback.lease_until < now))


def _claim(engine: Engine, settings: Settings, now: datetime, after_id: int) -> list[int]:
    cfg = settings.recontact.writeback
    token = secrets.token_hex(16)
    with Session(engine) as session:
        ids = list(session.scalars(
            select(AtsWriteback.id).where(_claimable(settings.ats.source, now), AtsWriteback.id > after_id)
            .order_by(AtsWriteback.id).limit(cfg.batch_size)))
        if not ids:
            return []
        session.execute(
            update(AtsWriteback).where(AtsWriteback.id.in_(ids), _claimable(settings.ats.source, now))
            .values(state="sending", attempts=AtsWriteback.attempts + 1, claim_token=token,
                    lease_until=now + timedelta(seconds=cfg.lease_s)))
        session.commit()  # claimed before any call goes out: a crash from here on is reconciled later
        return list(session.scalars(select(AtsWriteback.id).where(AtsWriteback.claim_token == token)
                                    .order_by(AtsWriteback.id)))


def note_text(action: str, key: str, facts: dict[str, Any], timezone: str) -> str:
    """The note's Japanese text: what happened, the job, why; our key as the last line."""
    if action in APPLICATION_NOTES:
        day = local_day(facts["run_at"], timezone).isoformat() if facts.get("run_at") else "—"
        match = f"{day} の一致（求人「{facts.get('matched_title') or '—'}」）"
        first = (f"循環（Junkan）: この応募は再コンタクトからの再応募です。{match}の後に応募がありました。"
                 if action == "reapplied_note" else
                 f"循環（Junkan）: 再コンタクトからの採用です。{match}の後に応募があり、採用に至りました。")
        return f"{first}\n{marker(key)}"
    lines = [
        "循環（Junkan）: 再コンタクト候補として一致しました。",
        f"新しい求人: {facts['job_title']}（求人ID {facts['job_ext']}）",
        f"スコア: {facts['score']:.1f} / 100（{facts['bucket']}）" if facts.get("score") is not None else "",
        f"一致の理由: {facts['why']}" if facts.get("why") else "",
        marker(key),
    ]
    return "\n".join(line for line in lines if line)


def _emails(session: Session, rows: Iterable[AtsWriteback], actions: frozenset[str]) -> dict[int, str]:
    """`candidate id -> address` of the writes among `rows` whose action names the person by it: loaded
    only for those, handed to the writer only, never logged or returned."""
    wanted = {wb.candidate_id for wb in rows if wb.action in actions}
    if not wanted:
        return {}
    found = session.execute(select(Candidate.id, Candidate.email_key).where(Candidate.id.in_(wanted)))
    return {cid: email for cid, email in found if email}


def _load(session: Session, ids: list[int]) -> list[tuple[AtsWriteback, Write, dict[str, Any]]]:
    app, job, matched_job = aliased(Application), aliased(Job), aliased(Job)
    rows = session.execute(
        select(AtsWriteback, app.external_id, app.candidate_external_id, job.external_id, job.title,
               PoolMatch.score, PoolMatch.bucket, PoolMatch.why, MatchRun.run_at, matched_job.title)
        .join(app, app.id == AtsWriteback.application_id)
        .join(job, job.id == AtsWriteback.job_id)
        .outerjoin(PoolMatch, PoolMatch.id == AtsWriteback.match_id)
        .outerjoin(MatchRun, MatchRun.id == PoolMatch.run_id)
        .outerjoin(matched_job, matched_job.id == PoolMatch.job_id)
        .where(AtsWriteback.id.in_(ids)).order_by(AtsWriteback.id)
    ).all()
    out = []
    for wb, app_ext, person_ext, job_ext, job_title, score, bucket, why, run_at, matched_title in rows:
        facts = {"job_ext": job_ext, "job_title": job_title, "score": score, "bucket": bucket, "why": why,
                 "run_at": run_at, "matched_title": matched_title}
        out.append((wb, Write(key=wb.key, action=wb.action, application_ext=app_ext, person_ext=person_ext,
                              job_ext=job_ext, text=""), facts))
    return out


def _record(session: Session, row_id: int, **values: Any) -> None:
    session.execute(update(AtsWriteback).where(AtsWriteback.id == row_id).values(**values))
    session.commit()


def _people(writer: AtsWriter, writes: Iterable[Write], counts: Counter[str]) -> dict[str, str]:
    """The ATS's person ids of the writes that lack one (Greenhouse applications ingested before 0014)."""
    missing = sorted({w.application_ext for w in writes if w.person_ext is None})
    if not missing:
        return {}
    try:
        return writer.resolve(missing)
    except HttpError:
        counts["writeback_lookup_failed"] += 1
        return {}


def write_back(engine: Engine, settings: Settings, writer: AtsWriter, *, now: datetime) -> dict[str, int]:
    """Claim, write (or find already written) and record every due write of this source."""
    counts: Counter[str] = Counter()
    zone = settings.business.timezone
    last = 0
    while ids := _claim(engine, settings, now, last):
        last = ids[-1]
        with Session(engine) as session:
            loaded = _load(session, ids)
            people = _people(writer, [w for _wb, w, _f in loaded], counts)
            emails = _emails(session, [wb for wb, _w, _f in loaded], writer.needs_email)
            for wb, planned, facts in loaded:
                action = wb.action
                write = Write(key=planned.key, action=action, application_ext=planned.application_ext,
                              person_ext=planned.person_ext or people.get(planned.application_ext),
                              job_ext=planned.job_ext, text=note_text(action, wb.key, facts, zone),
                              email=emails.get(wb.candidate_id) if action in writer.needs_email else None)
                if action not in writer.actions:
                    _record(session, wb.id, state="failed", error="not offered by this ATS", claim_token=None)
                    counts[f"{action}_failed"] += 1
                    continue
                try:
                    found = writer.present(write) if wb.attempts > 1 or action in _LOOK_FIRST else None
                    ref = found or writer.write(write)
                except Unwritable as exc:  # its message names no person
                    counts[f"{action}_failed"] += 1
                    _record(session, wb.id, state="failed", claim_token=None, error=str(exc)[:300])
                    continue
                except HttpError as exc:
                    counts[f"{action}_failed"] += 1
                    if exc.retryable:  # throttled or down past the retry policy: the next run tries again
                        _record(session, wb.id, state="pending", claim_token=None, lease_until=None,
                                error=f"HTTP {exc.status or 'transport'}: will retry")
                    else:
                        _record(session, wb.id, state="failed", claim_token=None,
                                error=f"HTTP {exc.status}: refused by the ATS")
                    continue
                counts[f"{action}_{'already_there' if found else 'written'}"] += 1
                _record(session, wb.id, state="done", ats_ref=str(ref)[:128], done_at=now, claim_token=None,
                        error=None)
    return dict(counts)


def dry_run_counts(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """What a real run would write now: due rows per action (call after `plan`, then roll back)."""
    actions = session.scalars(select(AtsWriteback.action).where(_claimable(settings.ats.source, now)))
    return {f"{a}_would_write": n for a, n in Counter(actions).items()}


def run(engine: Engine, settings: Settings, writer: AtsWriter | None, *, run_id: int | None, now: datetime,
        dry_run: bool = False) -> dict[str, int]:
    """Plan the writes of run `run_id` (and of re-applications), then write every due one. Counts only."""
    with Session(engine) as session:
        planned = plan(session, settings, run_id, now)
        if dry_run:
            would = dry_run_counts(session, settings, now)
            session.rollback()
            return {"writeback_planned": planned, **would}
        session.commit()
    if writer is None:
        return {"writeback_planned": planned}
    return {"writeback_planned": planned, **write_back(engine, settings, writer, now=now)}
