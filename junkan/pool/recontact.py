"""The `recontact` run as library calls, one per batch of work (the Prefect tasks are thin wrappers).

1. `attribute`: record re-applications from earlier runs (before this run changes anything);
2. `match_and_store`: refresh the pool and the potential scores, find the new openings, match, store the
   run; in `auto` mode enqueue one mail per person in the same transaction; write the shortlist file
   (Excel by default, `JUNKAN_RECONTACT__SHORTLIST_FORMAT`).
   A dry run does all of it and rolls back, after rendering the mails it would send;
3. `send`: hand the run's due `recontact` mails to the outbox sender (auto mode, not in a dry run);
4. `write_back`: the run's matches into the source ATS, exactly once (junkan.pool.writeback).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from junkan.ats.base import AtsError
from junkan.ats.factory import build_writer
from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db.types import utcnow
from junkan.files import write_private
from junkan.http import Throttle
from junkan.mail.backends import MailBackend
from junkan.outbox.recontact import enqueue_recontact, plan_mails, send_recontact
from junkan.pool import approval, writeback
from junkan.pool.attribution import lift, record_reapplications
from junkan.pool.export import match_rows, to_csv, to_xlsx
from junkan.pool.matcher import PartitionMapper
from junkan.pool.report import counts_markdown, digest_markdown, model_markdown
from junkan.pool.runs import plan_run, store_run

log = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    """Numbers and markdown only (they become Prefect results and artifacts)."""

    run_id: int | None
    as_of: date
    counts: dict[str, int]
    summary_md: str
    digest_md: str
    model_md: str
    csv_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def attribute(engine: Engine, settings: Settings, clock: RunClock) -> int:
    now = clock.due_by()
    with Session(engine) as session:
        recorded = record_reapplications(session, now)
        session.commit()
    return recorded


def _shortlist_path(settings: Settings, day: date, run_id: int | None) -> Path:
    name = f"recontact-{day.isoformat()}-{'dry-run' if run_id is None else f'run{run_id}'}"
    return Path(settings.recontact.shortlist_dir) / f"{name}.{settings.recontact.shortlist_format}"


def shortlist_file(settings: Settings, rows: list[dict[str, Any]]) -> bytes:
    """The flow's own shortlist file: Japanese columns, opaque ids, never a name."""
    if settings.recontact.shortlist_format == "xlsx":
        return to_xlsx(rows)
    return to_csv(rows, lang="ja")


def match_and_store(engine: Engine, settings: Settings, clock: RunClock, *, mode: str | None = None,
                    dry_run: bool = False, backend: MailBackend | None = None,
                    n_threads: int | None = None,
                    map_partitions: PartitionMapper | None = None) -> RunOutcome:
    mode = mode or settings.recontact.mode
    if mode not in ("shortlist", "auto"):
        raise ValueError(f"recontact mode must be 'shortlist' or 'auto', not {mode!r}")
    day, now = clock.day, clock.due_by()
    with Session(engine) as session:
        plan = plan_run(session, settings, as_of=day, now=now, mode=mode, n_threads=n_threads,
                        map_partitions=map_partitions)
        run_id = store_run(session, settings, plan)
        counts = plan.counts()
        rows = match_rows(session, settings, run_id, extra=True)
        planned = []
        if mode == "auto":
            mails = plan_mails(session, settings, run_id, now) if dry_run else \
                enqueue_recontact(session, settings, run_id, now)
            counts.update(mails.counts())
            if dry_run:
                counts["mails_enqueued"] = len(mails.planned)
                planned = mails.planned
        counts["shortlists"] = len({(r["job_id"], r["opening_id"]) for r in rows})
        if dry_run:
            session.rollback()
        else:
            session.commit()
    kept_id = None if dry_run else run_id
    csv_path = None
    if rows:
        path = _shortlist_path(settings, day, kept_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, shortlist_file(settings, rows))
        csv_path = str(path)
    if dry_run and planned:
        preview = send_recontact(engine, settings, clock=clock.now, due_by=now, backend=backend, dry_run=True,
                                 planned=planned)
        counts["mails_previewed"] = preview.previewed
    with Session(engine) as session:
        measured = lift(session)
    return RunOutcome(
        run_id=kept_id, as_of=day, counts=counts,
        summary_md=counts_markdown(counts, mode=mode, dry_run=dry_run, lift=measured),
        digest_md=digest_markdown(rows, csv_name=Path(csv_path).name if csv_path else None),
        model_md=model_markdown(plan.model_report), csv_path=csv_path,
    )


def approval_choices(engine: Engine, settings: Settings, run_id: int) -> list[approval.JobChoice]:
    with Session(engine) as session:
        return approval.choices(match_rows(session, settings, run_id, extra=True))


def apply_approval(engine: Engine, settings: Settings, run_id: int,
                   approved: dict[str, list[str]] | None, *, reviewer: str = "",
                   comment: str = "") -> tuple[dict[str, int], str]:
    """Record the recruiter's decision (None: the pause timed out); counts and the artifact's markdown."""
    now = utcnow()
    with Session(engine) as session:
        rows = match_rows(session, settings, run_id, extra=True)
        decision = approval.apply(session, run_id, rows, approved, reviewer=reviewer, comment=comment,
                                  now=now)
        session.commit()
    return decision.counts(), approval.decision_markdown(decision, reviewer=reviewer, at=now)


def write_back(engine: Engine, settings: Settings, *, run_id: int | None, dry_run: bool = False,
               throttle: Throttle | None = None) -> dict[str, int]:
    """4. Write the run's matches (and re-applications from re-contact) back into the ATS. Counts only;
    an ATS that refuses or cannot be configured is counted, never raised: the mail and the run go on."""
    try:
        writer = None if dry_run else build_writer(settings.ats, settings.recontact.writeback,
                                                   throttle=throttle)
    except AtsError as exc:
        log.warning("write-back skipped: %s", exc)
        return {"writeback_not_configured": 1}
    try:
        # The lease is measured on the wall clock: --as-of chooses the work, not the moment of writing.
        return writeback.run(engine, settings, writer, run_id=run_id, now=utcnow(), dry_run=dry_run)
    finally:
        if writer is not None:
            writer.close()


def send(engine: Engine, settings: Settings, clock: RunClock, *,
         backend: MailBackend | None = None) -> dict[str, int]:
    """Send the re-contact mails due by `clock.due_by()`, only inside the real clock's sending window."""
    counts = send_recontact(engine, settings, clock=clock.now, due_by=clock.due_by(), backend=backend)
    return {"mails_sent": counts.sent, "mails_failed": counts.failed, "mails_cancelled": counts.cancelled,
            "mails_suppressed": counts.suppressed, "mails_unknown": counts.unknown,
            "mails_no_consent": counts.no_consent, "mails_hired_since": counts.hired_since,
            "mails_applied_since": counts.applied_since,
            "outside_window": int(counts.outside_window)}
