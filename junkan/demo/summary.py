"""The short text `junkan demo` prints: what came in, what went out, where to look."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select

from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Message, Quarantine
from junkan.demo.company import CompanyStats


def summarize(engine: Engine, *, workdir: Path, stats: CompanyStats, day: date) -> str:
    with session_scope(engine) as s:
        by_status = dict(s.execute(select(Application.status, func.count()).group_by(Application.status)).all())
        candidates = s.scalar(select(func.count()).select_from(Candidate)) or 0
        reapplied = s.scalar(select(func.count()).where(Application.is_reapplication.is_(True))) or 0
        quarantined = s.scalar(select(func.count()).select_from(Quarantine)) or 0
        by_state = dict(s.execute(select(Message.state, func.count()).group_by(Message.state)).all())
    emails = sorted((workdir / "outbox").glob("*.eml")) if (workdir / "outbox").exists() else []
    lines = [
        f"Junkan demo — run date {day.isoformat()} (Asia/Tokyo)",
        f"  export:        {stats.applications} applications in {workdir / 'ats-export.csv'} (CP932)",
        f"  ingested:      {sum(by_status.values())} applications, {candidates} candidates",
        "                 " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())),
        f"  re-applied:    {reapplied}",
        f"  quarantined:   {quarantined} malformed rows (see the quarantine table)",
        "  notices:       " + (", ".join(f"{k} {v}" for k, v in sorted(by_state.items())) or "none"),
        f"  e-mails:       {len(emails)} .eml files in {workdir / 'outbox'}",
        f"  database:      {workdir / 'junkan.db'}",
    ]
    return "\n".join(lines)
