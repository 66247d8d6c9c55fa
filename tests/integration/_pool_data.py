"""Builders for the pool tests: jobs with skills, openings, pooled candidates with consents."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from junkan.cli import pool as pool_cli
from junkan.clock import RunClock
from junkan.config import ConsentSettings, Settings
from junkan.consent.expiry import expires_at
from junkan.db.models import Application, Candidate, Consent, Job, Opening, RejectionReason, Suppression
from tests.privacy_support import hashed

JST = ZoneInfo("Asia/Tokyo")
_seq = itertools.count(1)

#: The business day of most tests (a Friday, in the past so `as_of` re-runs use it): 10:00 JST.
AS_OF = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=JST)
#: A run of AS_OF whose real clock stands at NOW (inside the sending window).
CLOCK = RunClock.fixed(NOW, as_of=AS_OF)
#: Rejected seven months before AS_OF: past the default cooldown.
DECIDED = datetime(2026, 4, 10, 12, 0, tzinfo=JST)
CONSENTED = datetime(2026, 4, 10, 12, 0, tzinfo=JST)

_REASONS = {
    "other_candidate": ("他の候補者を優先", "silver"),
    "skills": ("スキル不足", "standard"),
    "spam": ("スパム応募", "never"),
    "final_interview": ("最終面接にて総合判断", "standard"),
}


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


def pool_command(*args: str) -> list[str]:
    """The output lines of `junkan pool <args>`, which must succeed (the failure shows its output)."""
    result = CliRunner().invoke(pool_cli.app, list(args))
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def pool_settings(settings: Settings, **recontact: object) -> Settings:
    data = settings.recontact.model_dump()
    data.update(recontact)
    return settings.model_copy(update={"recontact": type(settings.recontact)(**data)})


def add_job(
    session: Session,
    title: str = "バックエンドエンジニア",
    *,
    required: list[str] | None = None,
    preferred: list[str] | None = None,
    location: str | None = "東京都",
    opened_at: datetime | None = None,
    status: str = "open",
    description: str | None = None,
    source: str = "csv",
    external_id: str | None = None,
) -> Job:
    n = next(_seq)
    job = Job(source=source, external_id=external_id or f"J-{n}", title=title, status=status,
              opened_at=opened_at, required_skills=required, preferred_skills=preferred, location=location,
              description=description)
    session.add(job)
    session.flush()
    return job


def add_opening(session: Session, job: Job, *, opened_at: datetime | None, status: str = "open",
                external_id: str | None = None) -> Opening:
    n = next(_seq)
    opening = Opening(source=job.source, external_id=external_id or f"O-{n}", job_id=job.id, status=status,
                      opened_at=opened_at)
    session.add(opening)
    session.flush()
    return opening


def _reason(session: Session, category: str) -> RejectionReason:
    name, eligibility = _REASONS[category]
    n = next(_seq)
    reason = RejectionReason(source="csv", external_id=f"R-{n}", name=name, category=category,
                             pool_eligibility=eligibility)
    session.add(reason)
    session.flush()
    return reason


def add_consent(session: Session, candidate_id: int, purpose: str, granted: bool,
                at: datetime = CONSENTED) -> None:
    # As ingest writes it: the expiry the default settings give (talent_pool grants: 365 days).
    session.add(Consent(candidate_id=candidate_id, purpose=purpose, granted=granted, recorded_at=at,
                        source="csv", expires_at=expires_at(purpose, granted, at, ConsentSettings())))
    session.flush()


def add_member(
    session: Session,
    *,
    past_job: Job | None = None,
    past_title: str = "バックエンドエンジニア",
    status: str = "rejected",
    decided_at: datetime = DECIDED,
    stage: str | None = "最終面接",
    category: str = "other_candidate",
    skills: list[str] | None = None,
    tags: list[str] | None = None,
    location: str | None = "東京都渋谷区",
    talent_pool: bool | None = True,
    recontact: bool | None = True,
    email: str | None = None,
    locale: str = "ja",
    name: str = "山田 太郎",
) -> Candidate:
    """A candidate with one decided application and (by default) current pool and re-contact consent."""
    n = next(_seq)
    cand = Candidate(email_key=email or f"pool{n}@example.com", display_name=name, locale=locale,
                     tags=tags or [], skills=skills or [], location=location)
    session.add(cand)
    session.flush()
    job = past_job or add_job(session, past_title, status="closed", opened_at=decided_at - timedelta(days=60))
    add_application(session, cand, job, status=status, decided_at=decided_at, stage=stage, category=category)
    if talent_pool is not None:
        add_consent(session, cand.id, "talent_pool", talent_pool)
    if recontact is not None:
        add_consent(session, cand.id, "recontact", recontact)
    return cand


def add_application(session: Session, cand: Candidate, job: Job, *, status: str = "rejected",
                    decided_at: datetime | None = DECIDED, applied_at: datetime | None = None,
                    stage: str | None = None, category: str = "skills") -> Application:
    n = next(_seq)
    reason = _reason(session, category) if status in ("rejected", "withdrawn") else None
    app = Application(
        source=job.source, external_id=f"A-{n}", candidate_id=cand.id, job_id=job.id, status=status,
        decided_at=decided_at, applied_at=applied_at or ((decided_at or NOW) - timedelta(days=30)),
        reason_id=reason.id if reason else None, stage_reached=stage, content_hash="x",
    )
    session.add(app)
    session.flush()
    return app


def add_in_house_job_learned_as_backend(session: Session, people: int) -> Job:
    """A closed バックエンドエンジニア job, a closed job with an in-house name (〇〇プロダクトの開発), and
    `people` pool members (Python, 社内基盤X) who applied to both, 90 days back: what teaches the learned
    vocabulary that the in-house name is backend work. Returns the in-house job."""
    before = DECIDED - timedelta(days=90)
    backend = add_job(session, "バックエンドエンジニア", status="closed", opened_at=before)
    internal = add_job(session, "〇〇プロダクトの開発", status="closed", opened_at=before)
    for _ in range(people):
        both = add_member(session, past_job=backend, skills=["Python", "社内基盤X"])
        add_application(session, both, internal, decided_at=DECIDED - timedelta(days=1))
    return internal


def suppress(session: Session, email_key: str) -> None:
    session.add(Suppression(email_hash=hashed(email_key), reason="unsubscribe", source="manual",
                            created_at=datetime(2026, 9, 1, tzinfo=UTC)))
    session.flush()
