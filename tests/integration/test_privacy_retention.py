"""Retention rules at their boundary days, on both databases (docs/privacy.md, Retention)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.clock import RunClock
from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application, Candidate, Consent, Quarantine
from junkan.db.models_privacy import PrivacyAudit
from junkan.privacy.run import run_retention

JST = ZoneInfo("Asia/Tokyo")
#: Decided at 23:30 JST on 10 January 2026 (14:30 UTC): the local day is the 10th, not the UTC one.
DECIDED = datetime(2026, 1, 10, 23, 30, tzinfo=JST)
NOW = datetime(2028, 1, 1, tzinfo=UTC)


def person(s: Session, email: str, *apps: tuple[str, datetime | None, datetime | None],
           source: str = "csv") -> int:
    cand = Candidate(email_key=email, display_name="山田 太郎", phone_key="+819012345678")
    s.add(cand)
    s.flush()
    for n, (status, applied, decided) in enumerate(apps):
        s.add(Application(source=source, external_id=f"{email}-{n}", candidate_id=cand.id, status=status,
                          applied_at=applied, decided_at=decided, content_hash="x"))
    s.flush()
    return cand.id


def anonymised(engine: Engine) -> set[str]:
    """Which people lost their address (e-mail keys are the test's names for them)."""
    with session_scope(engine) as s:
        return {a for (a,) in s.execute(select(Application.external_id).join(
            Candidate, Candidate.id == Application.candidate_id).where(Candidate.anonymized_at.is_not(None)))}


def due_on(engine: Engine, settings: Settings, day: date) -> dict[str, int]:
    return run_retention(engine, settings, RunClock.fixed(NOW, as_of=day), dry_run=True).by_rule


def test_rejected_candidate_is_due_on_day_n_not_day_n_minus_1(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        person(s, "r@example.jp", ("rejected", DECIDED - timedelta(days=20), DECIDED))
    day_n = date(2026, 1, 10) + timedelta(days=180)
    assert due_on(engine, settings, day_n - timedelta(days=1)) == {"rejected_days": 0, "pool_expired": 0}
    assert due_on(engine, settings, day_n) == {"rejected_days": 1, "pool_expired": 0}
    assert anonymised(engine) == set()  # a dry run changes nothing

    result = run_retention(engine, settings, RunClock.fixed(NOW, as_of=day_n))
    assert result.by_rule["rejected_days"] == 1
    assert anonymised(engine) == {"r@example.jp-0"}
    with session_scope(engine) as s:
        audits = s.scalars(select(PrivacyAudit)).all()
        assert [(a.action, a.rule, a.as_of, a.candidates) for a in audits] == [
            ("anonymise", "rejected_days", day_n, 1)]
        assert audits[0].tables["candidate"] == 1 and audits[0].tables["application"] == 1
    # Anonymised once: not due again.
    assert due_on(engine, settings, day_n + timedelta(days=400)) == {"rejected_days": 0, "pool_expired": 0}


def test_a_new_application_restarts_the_clock(engine: Engine, settings: Settings) -> None:
    again = DECIDED + timedelta(days=100)
    with session_scope(engine) as s:
        person(s, "back@example.jp", ("rejected", DECIDED - timedelta(days=20), DECIDED),
               ("rejected", again, again + timedelta(days=10)))
    last_decision = (again + timedelta(days=10)).date()
    assert due_on(engine, settings, date(2026, 1, 10) + timedelta(days=180))["rejected_days"] == 0
    assert due_on(engine, settings, last_decision + timedelta(days=179))["rejected_days"] == 0
    assert due_on(engine, settings, last_decision + timedelta(days=180))["rejected_days"] == 1


def test_an_application_in_process_holds_the_clock_and_hired_people_are_never_touched(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        person(s, "open@example.jp", ("rejected", DECIDED, DECIDED), ("in_process", DECIDED, None))
        person(s, "hired@example.jp", ("rejected", DECIDED, DECIDED), ("hired", DECIDED, DECIDED))
    assert due_on(engine, settings, date(2030, 1, 1)) == {"rejected_days": 0, "pool_expired": 0}


def test_rejected_days_per_source(engine: Engine, settings: Settings) -> None:
    configured = settings.model_copy(update={"retention": settings.retention.model_validate(
        {"sources": {"greenhouse": {"rejected_days": 30}}})})
    with session_scope(engine) as s:
        person(s, "gh@example.jp", ("rejected", DECIDED, DECIDED), source="greenhouse")
        person(s, "csv@example.jp", ("rejected", DECIDED, DECIDED))
    day_30 = date(2026, 1, 10) + timedelta(days=30)
    assert due_on(engine, configured, day_30 - timedelta(days=1))["rejected_days"] == 0
    assert due_on(engine, configured, day_30)["rejected_days"] == 1
    run_retention(engine, configured, RunClock.fixed(NOW, as_of=day_30))
    assert anonymised(engine) == {"gh@example.jp-0"}


def test_a_pool_member_goes_on_the_day_the_consent_expires_unrenewed(
    engine: Engine, settings: Settings
) -> None:
    expires = datetime(2026, 12, 1, 0, 0, tzinfo=JST)  # the grant's last day is 30 November (local)
    with session_scope(engine) as s:
        pooled = person(s, "pool@example.jp", ("rejected", DECIDED, DECIDED))
        renewed = person(s, "renewed@example.jp", ("rejected", DECIDED, DECIDED))
        for cid in (pooled, renewed):
            s.add(Consent(candidate_id=cid, purpose="talent_pool", granted=True, source="csv",
                          recorded_at=DECIDED, expires_at=expires))
        s.add(Consent(candidate_id=renewed, purpose="talent_pool", granted=True, source="renewal",
                      recorded_at=datetime(2026, 11, 25, tzinfo=JST),
                      expires_at=datetime(2027, 11, 25, tzinfo=JST)))
    # 180 days after the decision the consent still holds both.
    assert due_on(engine, settings, date(2026, 7, 9)) == {"rejected_days": 0, "pool_expired": 0}
    assert due_on(engine, settings, date(2026, 11, 30)) == {"rejected_days": 0, "pool_expired": 0}
    assert due_on(engine, settings, date(2026, 12, 1)) == {"rejected_days": 0, "pool_expired": 1}
    run_retention(engine, settings, RunClock.fixed(NOW, as_of=date(2026, 12, 1)))
    assert anonymised(engine) == {"pool@example.jp-0"}


def test_quarantined_records_not_seen_for_the_retention_period_lose_their_raw_record(
    engine: Engine, settings: Settings
) -> None:
    """A broken record never became an application: no candidate rule reaches it, and without a usable
    address no request finds it by address either. Retention empties it once stale."""
    raw = {"氏名": "山田 太郎", "電話番号": "090-1234-5678", "email": "taro@@example.jp"}
    as_of = date(2027, 12, 31)
    last_fresh = datetime(2027, 7, 5, tzinfo=JST)  # 180 local days before as_of, the first fresh instant
    with session_scope(engine) as s:
        for n, seen in enumerate((last_fresh - timedelta(minutes=1), last_fresh)):
            s.add(Quarantine(source="csv", external_id=f"Q{n}", fingerprint=f"f{n}", reason="row 3: bad date",
                             raw=raw, first_seen=seen, last_seen=seen))

    result = run_retention(engine, settings, RunClock.fixed(NOW, as_of=as_of))

    with session_scope(engine) as s:
        kept = dict(s.execute(select(Quarantine.external_id, Quarantine.raw)).all())
        audit = s.scalars(select(PrivacyAudit)).one()
    assert kept == {"Q0": {}, "Q1": raw}
    assert result.tables == {"quarantine": 1}
    assert (audit.rule, audit.candidates, audit.tables) == ("stale_quarantine", 0, {"quarantine": 1})
    # A second run finds nothing more to do.
    assert run_retention(engine, settings, RunClock.fixed(NOW, as_of=as_of)).tables == {}
