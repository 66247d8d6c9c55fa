"""Builders for outbox tests: jobs, candidates, decided applications, consents, suppressions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from junkan.db.models import Application, Candidate, Consent, Job, RejectionReason, Suppression
from tests.privacy_support import hashed

JST = ZoneInfo("Asia/Tokyo")
_seq = itertools.count(1)

#: Monday 2026-11-16 15:00 JST: a decision; with 2 business days the notice is due Wed 18th 09:00 JST.
DECIDED = datetime(2026, 11, 16, 15, 0, tzinfo=JST)
#: Wednesday 2026-11-18 10:00 JST: inside the window, after the notice above became due.
SEND_NOW = datetime(2026, 11, 18, 10, 0, tzinfo=JST)


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


def add_candidate(session: Session) -> int:
    """A person with no address or name: enough for records that only point at someone (consent,
    preferences). Returns the candidate id."""
    candidate = Candidate(locale="ja", tags=[])
    session.add(candidate)
    session.flush()
    return candidate.id


def add_application(
    session: Session,
    *,
    status: str = "rejected",
    decided_at: datetime | None = DECIDED,
    email: str | None = None,
    name: str = "山田 太郎",
    locale: str = "ja",
    partner_consent: bool | None = None,
    job_title: str = "バックエンドエンジニア",
    category: str = "other",
) -> Application:
    n = next(_seq)
    cand = Candidate(email_key=email if email is not None else f"cand{n}@example.com", display_name=name,
                     locale=locale)
    job = Job(source="csv", external_id=f"J-{n}", title=job_title)
    reason = RejectionReason(source="csv", external_id=f"R-{n}", name="skills", category=category)
    session.add_all([cand, job, reason])
    session.flush()
    app = Application(source="csv", external_id=f"A-{n}", candidate_id=cand.id, job_id=job.id,
                      status=status, decided_at=decided_at, reason_id=reason.id, content_hash="x")
    session.add(app)
    if partner_consent is not None:
        session.add(Consent(candidate_id=cand.id, purpose="partner_info", granted=partner_consent,
                            recorded_at=datetime(2026, 11, 1, tzinfo=UTC), source="csv"))
    session.flush()
    return app


def add_consent(session: Session, candidate_id: int, granted: bool, at: datetime) -> None:
    session.add(Consent(candidate_id=candidate_id, purpose="partner_info", granted=granted, recorded_at=at,
                        source="operator"))
    session.flush()


def suppress(session: Session, email_key: str, reason: str = "unsubscribe") -> None:
    session.add(Suppression(email_hash=hashed(email_key), reason=reason, source="manual"))
    session.flush()
