"""The short text `junkan demo` prints: what came in, what went out, what it earned, where to look."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Message, Quarantine
from junkan.db.models_pool import MatchRun, PoolMatch
from junkan.db.models_privacy import PrivacyAudit
from junkan.demo.company import CompanyStats
from junkan.partner.sync import partner_summaries


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def summarize(
    engine: Engine, *, workdir: Path, stats: CompanyStats, days: tuple[date, date], settings: Settings,
    report: Path | None = None, report_mail: str | None = None,
) -> str:
    with session_scope(engine) as s:
        by_status = dict(
            s.execute(select(Application.status, func.count()).group_by(Application.status)).all()
        )
        candidates = s.scalar(select(func.count()).select_from(Candidate)) or 0
        reapplied = s.scalar(select(func.count()).where(Application.is_reapplication.is_(True))) or 0
        quarantined = (
            s.scalar(
                select(func.count()).select_from(Quarantine).where(Quarantine.record_type == "application")
            )
            or 0
        )
        no_address = s.scalar(
            select(func.count()).select_from(Quarantine).where(Quarantine.record_type == "address")
        ) or 0
        # The candidates' mails only: the monthly report to internal recipients is told apart below.
        by_state = dict(s.execute(select(Message.state, func.count()).where(Message.candidate_id.is_not(None))
                                  .group_by(Message.state)).all())
        with_partner = s.scalar(select(func.count()).where(Message.ref_code.is_not(None))) or 0
        runs = s.scalar(select(func.count()).select_from(MatchRun)) or 0
        matches = s.scalar(select(func.count()).select_from(PoolMatch)) or 0
        matched_jobs = s.scalar(select(func.count(func.distinct(PoolMatch.job_id)))) or 0
        shortlisted = s.scalar(select(func.count(func.distinct(PoolMatch.candidate_id)))) or 0
        by_rule = dict(s.execute(
            select(PrivacyAudit.rule, func.sum(PrivacyAudit.candidates))
            .where(PrivacyAudit.action == "anonymise").group_by(PrivacyAudit.rule)).all())
        anonymised = s.scalar(select(func.count()).where(Candidate.anonymized_at.is_not(None))) or 0
    outbox = workdir / "outbox"
    emails = sorted(outbox.glob("*.eml")) if outbox.exists() else []
    lines = [
        f"Junkan demo: two business days, {days[0].isoformat()} and {days[1].isoformat()} (Asia/Tokyo)",
        f"  export:       {stats.applications} applications in {workdir / 'ats-export.csv'} (CP932)",
        f"  ingested:     {sum(by_status.values())} applications of {candidates} candidates",
        f"                {_pairs(by_status)}",
        f"  re-applied:   {reapplied}",
        f"  quarantined:  {quarantined} malformed rows (table `quarantine`, with reasons)",
        f"  no address:   {no_address} decisions stored without a usable address, to review "
        "(`quarantine`, record_type 'address'); never mailed",
        f"  notices:      {_pairs(by_state)}; {with_partner} carry the partner link",
        f"  e-mails:      {len(emails)} .eml files in {outbox}",
    ]
    day2 = RunClock(ZoneInfo(settings.business.timezone), as_of=days[1])
    for p in partner_summaries(engine, settings, day2):
        lines.append(
            f"  partner {p.partner}: {p.registrations_all_time} registrations, "
            f"{p.credits_earned} credit(s) earned, balance {p.balance} (¥{p.value_yen:,}), "
            f"next credit {p.progress}"
        )
    shortlists = sorted(workdir.glob("recontact-*.xlsx"))
    lines.append(f"  re-contact:   {runs} run(s): {matches} matches for {matched_jobs} new job(s), "
                 f"{shortlisted} people shortlisted from the talent pool")
    for path in shortlists:
        lines.append(f"  shortlist:    {path}")
    lines.append(f"  retention:    {anonymised} candidates anonymised "
                 f"({_pairs({k: int(v or 0) for k, v in by_rule.items()})})")
    lines.append(f"  database:     {workdir / 'junkan.db'}")
    lines += [f"  KPI report:   {report}"] if report else []
    lines += [f"  report mail:  {report_mail}"] if report_mail else []
    return "\n".join(lines)
