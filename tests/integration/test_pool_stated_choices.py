"""What a person chose on their own page changes their re-contact (docs/pool.md "The person's own choices"):
a stated interest ranks them higher for jobs of that family and is named in the explanation, their timing
replaces the default cooldown, "never" excludes them, stated skills count like profile skills."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.consent.preferences import Preferences, record_preferences
from junkan.consent.wording import PREFERENCE_WORDING_VERSION
from junkan.db import session_scope
from junkan.pool.runs import RunPlan, plan_run
from tests.integration._pool_data import AS_OF, NOW, add_job, add_member, jst, pool_settings

SAVED = NOW - timedelta(days=10)


def choose(session: Session, candidate_id: int, at: datetime = SAVED, **chosen: object) -> None:
    record_preferences(session, candidate_id, Preferences(**chosen),  # type: ignore[arg-type]
                       at=at, wording_version=PREFERENCE_WORDING_VERSION)


def plan(engine: Engine, settings: Settings, as_of: date = AS_OF) -> RunPlan:
    with Session(engine) as session:
        result = plan_run(session, settings, as_of=as_of, now=NOW, mode="shortlist")
        session.rollback()
    return result


def _sales_job(session: Session) -> int:
    return add_job(session, "法人営業", required=["法人営業", "Salesforce"], location="大阪府",
                   opened_at=NOW - timedelta(days=2)).id


def _seller(session: Session, decided_at: datetime | None = None) -> int:
    return add_member(session, skills=["法人営業"], past_title="インサイドセールス", location="大阪府",
                      **({"decided_at": decided_at} if decided_at else {})).id


def test_a_stated_interest_outranks_an_otherwise_equal_person_and_is_named(engine: Engine,
                                                                           settings: Settings) -> None:
    with session_scope(engine) as s:
        job = _sales_job(s)
        plain, wants_sales, wants_other = _seller(s), _seller(s), _seller(s)
        choose(s, wants_sales, families=("corporate_sales",))
        choose(s, wants_other, families=("accounting",))
    rows = {r["candidate_id"]: r for r in plan(engine, settings).rows if r["job_id"] == job}
    # Without the page all three tie and rank by id; the person who chose 法人営業 comes first, the bonus up.
    assert [c for c, _ in sorted(rows.items(), key=lambda kv: kv[1]["rank"])] == [wants_sales, plain,
                                                                                 wants_other]
    assert rows[wants_sales]["score"] == round(rows[plain]["score"] + settings.recontact.interest_bonus, 1)
    assert rows[wants_other]["score"] == rows[plain]["score"]
    assert rows[wants_sales]["why"].startswith("ご本人の希望職種: 法人営業、必須スキル 1/2 一致")
    assert "ご本人の希望" not in rows[plain]["why"] + rows[wants_other]["why"]

    # The bonus is a setting: at 0 the three tie again.
    off = plan(engine, pool_settings(settings, interest_bonus=0))
    assert [r["candidate_id"] for r in off.rows if r["job_id"] == job] == [plain, wants_sales, wants_other]
    assert not any("ご本人の希望職種" in r["why"] for r in off.rows)


def test_a_stated_interest_finds_a_person_below_the_threshold(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        job = _sales_job(s)
        # Nothing links an accountant in Fukuoka to a sales job in Osaka but their own choice.
        accountants = [add_member(s, past_title="経理", location="福岡県", stage=None).id for _ in range(2)]
        choose(s, accountants[1], families=("corporate_sales", "accounting"))
    listed = [r["candidate_id"] for r in plan(engine, pool_settings(settings, threshold=25)).rows
              if r["job_id"] == job]
    assert listed == [accountants[1]]


def test_the_latest_save_counts(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        job = _sales_job(s)
        plain, changed = _seller(s), _seller(s)
        choose(s, changed, at=SAVED - timedelta(days=5), families=("corporate_sales",))
        choose(s, changed, families=("accounting",))
    assert [r["candidate_id"] for r in plan(engine, settings).rows if r["job_id"] == job] == [plain, changed]


def test_a_run_for_an_earlier_moment_does_not_see_a_later_save(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        job = _sales_job(s)
        plain, later = _seller(s), _seller(s)
        choose(s, later, at=NOW + timedelta(days=1), families=("corporate_sales",))
    rows = [r for r in plan(engine, settings).rows if r["job_id"] == job]
    assert [r["candidate_id"] for r in rows] == [plain, later]
    assert not any("ご本人の希望職種" in r["why"] for r in rows)


def test_timing_three_months_makes_a_person_eligible_earlier(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _sales_job(s)
        # Rejected 20 July 2026: four months before AS_OF, inside the default six-month cooldown.
        early = _seller(s, jst(2026, 7, 20, 12, 0))
        waits = _seller(s, jst(2026, 7, 20, 12, 0))
        # Three months from 21 August is 21 November: one day after AS_OF.
        too_soon = _seller(s, jst(2026, 8, 21, 12, 0))
        choose(s, early, timing_months=3)
        choose(s, too_soon, timing_months=3)
    p = plan(engine, settings)
    rows = {r["candidate_id"]: r for r in p.rows}
    assert set(rows) == {early}
    assert "ご本人の希望時期: 3か月後から" in rows[early]["why"]
    assert p.counts()["excluded_cooldown"] == 2 and waits not in rows and too_soon not in rows


def test_timing_twelve_months_makes_a_person_wait_longer(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _sales_job(s)
        # Rejected seven months before AS_OF: past the default cooldown.
        default, later = _seller(s), _seller(s)
        choose(s, later, timing_months=12)
    p = plan(engine, settings)
    assert {r["candidate_id"] for r in p.rows} == {default}
    assert p.counts()["excluded_cooldown"] == 1
    # A year after the rejection (10 April 2027) the person who asked for twelve months is matched.
    assert later in {r["candidate_id"] for r in plan(engine, settings, as_of=date(2027, 4, 10)).rows}


def test_never_excludes_with_its_own_count(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _sales_job(s)
        stays, leaves = _seller(s), _seller(s)
        choose(s, leaves, never=True, families=("corporate_sales",))
    p = plan(engine, settings)
    assert {r["candidate_id"] for r in p.rows} == {stays}
    assert p.counts()["excluded_stated_never"] == 1 and p.counts()["eligible_pool"] == 1


def test_stated_skills_count_like_profile_skills(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        job = _sales_job(s)
        stated = _seller(s)
        choose(s, stated, skills_text="SFDCの管理者資格を取りました", skills=("Salesforce",))
    row = next(r for r in plan(engine, settings).rows if r["job_id"] == job and r["candidate_id"] == stated)
    assert row["matched_required"] == ["法人営業", "Salesforce"] and row["required_score"] == 100.0
