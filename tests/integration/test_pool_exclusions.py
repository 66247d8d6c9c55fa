"""Pool membership and every "never match" rule, one test each, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Candidate, Message
from junkan.pool.runs import RunPlan, plan_run
from tests.integration._pool_data import (
    AS_OF,
    JST,
    NOW,
    add_application,
    add_consent,
    add_job,
    add_member,
    jst,
    pool_settings,
    suppress,
)


def _opening(session: Session) -> int:
    job = add_job(session, "バックエンドエンジニア", required=["Python", "Go"],
                  opened_at=NOW - timedelta(days=2))
    return job.id


def plan(engine: Engine, settings: Settings, as_of: date = AS_OF, now: datetime = NOW) -> RunPlan:
    with Session(engine) as session:
        result = plan_run(session, settings, as_of=as_of, now=now, mode="shortlist")
        session.rollback()
    return result


def matched_ids(p: RunPlan) -> set[int]:
    return {int(r["candidate_id"]) for r in p.rows}


def outcome(p: RunPlan, *counts: str) -> tuple[set[int], dict[str, int]]:
    """The candidates a planned run matches, and the named counts among its own."""
    return matched_ids(p), {key: p.counts()[key] for key in counts}


def test_a_pooled_candidate_past_the_cooldown_is_matched(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        cand = add_member(s, skills=["Python", "Go"])
    assert outcome(plan(engine, settings), "eligible_pool") == ({cand.id}, {"eligible_pool": 1})


def test_cooldown_exactly_six_calendar_months(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        # Rejected 20 May 2026 (JST): matched from 20 November 2026, not on the 19th.
        on_time = add_member(s, skills=["Python"], decided_at=jst(2026, 5, 20, 18, 0))
        one_day_short = add_member(s, skills=["Python"], decided_at=jst(2026, 5, 21, 9, 0))
    p = plan(engine, settings)
    assert outcome(p, "excluded_cooldown") == ({on_time.id}, {"excluded_cooldown": 1})
    assert one_day_short.id not in matched_ids(p)


def test_cooldown_from_31_august_ends_on_the_last_day_of_february(engine: Engine, settings: Settings) -> None:
    feb_27, feb_28 = jst(2027, 2, 27, 12, 0), jst(2027, 2, 28, 12, 0)
    with session_scope(engine) as s:
        add_job(s, "バックエンドエンジニア", required=["Python"], opened_at=feb_27 - timedelta(days=1))
        cand = add_member(s, skills=["Python"], decided_at=jst(2026, 8, 31, 15, 0))
    assert matched_ids(plan(engine, settings, date(2027, 2, 27), feb_27)) == set()
    assert matched_ids(plan(engine, settings, date(2027, 2, 28), feb_28)) == {cand.id}


def test_cooldown_is_configurable(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        cand = add_member(s, skills=["Python"], decided_at=NOW - timedelta(days=40))
    assert matched_ids(plan(engine, settings)) == set()
    assert matched_ids(plan(engine, pool_settings(settings, cooldown_months=1))) == {cand.id}


def test_recontacted_in_the_last_90_days_is_not_matched(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        recent = add_member(s, skills=["Python"])
        long_ago = add_member(s, skills=["Python"])
        for cand, days in ((recent, 89), (long_ago, 91)):
            s.add(Message(public_id=f"p{cand.id}", logical_key=f"match:{cand.id}00:recontact",
                          kind="recontact",
                          candidate_id=cand.id, state="accepted", due_at=NOW - timedelta(days=days),
                          created_at=NOW - timedelta(days=days), advertising=True))
    assert outcome(plan(engine, settings), "excluded_recently_contacted") == (
        {long_ago.id}, {"excluded_recently_contacted": 1})


def test_opted_out_of_recontact_is_not_matched(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        out = add_member(s, skills=["Python"])
        add_consent(s, out.id, "recontact", False, at=NOW - timedelta(days=3))  # the unsubscribe link
        stays = add_member(s, skills=["Python"])
    assert outcome(plan(engine, settings)) == ({stays.id}, {})


def test_withdrawn_talent_pool_consent_leaves_the_pool(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        gone = add_member(s, skills=["Python"])
        add_consent(s, gone.id, "talent_pool", False, at=NOW - timedelta(days=1))
        never_asked = add_member(s, skills=["Python"], talent_pool=None)
        stays = add_member(s, skills=["Python"])
    p = plan(engine, settings)
    assert outcome(p, "pool") == ({stays.id}, {"pool": 1})
    assert gone.id not in matched_ids(p) and never_asked.id not in matched_ids(p)


def test_already_applied_to_that_job_is_not_matched_to_it(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        job = add_job(s, "バックエンドエンジニア", required=["Python"], opened_at=NOW - timedelta(days=2))
        other = add_job(s, "バックエンドエンジニア", required=["Python"], opened_at=NOW - timedelta(days=2))
        # Rejected for this very job before it reopened: matched to the other job only.
        applied = add_member(s, past_job=job, skills=["Python"])
    p = plan(engine, settings)
    assert {(r["candidate_id"], r["job_id"]) for r in p.rows} == {(applied.id, other.id)}
    assert p.counts()["excluded_already_applied"] == 1


def test_hired_since_is_not_matched(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        hired = add_member(s, skills=["Python"])
        job = add_job(s, "データエンジニア", status="closed")
        add_application(s, s.get(Candidate, hired.id), job, status="hired",
                        decided_at=NOW - timedelta(days=20))
        stays = add_member(s, skills=["Python"])
    assert outcome(plan(engine, settings), "excluded_hired") == ({stays.id}, {"excluded_hired": 1})


def test_suppressed_address_is_not_matched(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        bounced = add_member(s, skills=["Python"], email="bounced@example.com")
        suppress(s, "bounced@example.com")
        stays = add_member(s, skills=["Python"])
    p = plan(engine, settings)
    assert outcome(p, "excluded_suppressed") == ({stays.id}, {"excluded_suppressed": 1})
    assert bounced.id not in matched_ids(p)


def test_a_never_reason_anywhere_keeps_the_candidate_out(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        spam = add_member(s, skills=["Python"], category="spam")
        misconduct_then_other = add_member(s, skills=["Python"])
        add_application(s, s.get(Candidate, misconduct_then_other.id), add_job(s, "営業", status="closed"),
                        decided_at=jst(2026, 1, 5, 10, 0), category="spam")
    p = plan(engine, settings)
    assert outcome(p, "pool") == (set(), {"pool": 0})
    assert spam.id not in matched_ids(p)


def test_expired_consent_and_anonymised_candidates_are_out(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        stale = add_member(s, skills=["Python"], talent_pool=None)
        add_consent(s, stale.id, "talent_pool", True, at=NOW - timedelta(days=366))
        fresh = add_member(s, skills=["Python"], talent_pool=None)
        add_consent(s, fresh.id, "talent_pool", True, at=NOW - timedelta(days=364))
        anonymised = add_member(s, skills=["Python"])
        s.get(Candidate, anonymised.id).anonymized_at = NOW - timedelta(days=1)
    assert outcome(plan(engine, settings), "pool") == ({fresh.id}, {"pool": 1})


def test_back_in_a_selection_is_not_matched(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        busy = add_member(s, skills=["Python"])
        add_application(s, s.get(Candidate, busy.id), add_job(s, "SRE", status="open"), status="in_process",
                        decided_at=None, applied_at=NOW - timedelta(days=5))
    assert outcome(plan(engine, settings), "excluded_in_process") == (set(), {"excluded_in_process": 1})


def test_decisions_after_as_of_are_not_seen(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _opening(s)
        cand = add_member(s, skills=["Python"])
        add_application(s, s.get(Candidate, cand.id), add_job(s, "SRE", status="closed"), status="hired",
                        decided_at=datetime(2026, 11, 25, 10, 0, tzinfo=JST))
    assert matched_ids(plan(engine, settings)) == {cand.id}
