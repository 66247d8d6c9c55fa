"""Matching: ranking, explanations, buckets, top K, threshold, new-opening detection, and what is read."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Job, Opening
from junkan.db.models_pool import MatchRun, PoolMatch
from junkan.pool.runs import plan_run, store_run
from tests.integration._pool_data import AS_OF, NOW, add_job, add_member, add_opening, pool_settings


def _dataset(s: Session) -> dict[str, int]:
    job = add_job(s, "バックエンドエンジニア（Go）", required=["Python", "Go", "SQL", "AWS"],
                  preferred=["Docker"], location="東京都", opened_at=NOW - timedelta(days=3),
                  description="Go と AWS で決済サービスを開発します")
    sales = add_job(s, "法人営業", required=["法人営業"], location="大阪府",
                    opened_at=NOW - timedelta(days=1))
    full = add_member(s, skills=["Python", "Go", "SQL", "AWS"], tags=["Docker"])
    half = add_member(s, skills=["python", "ＳＱＬ"], past_title="ｻｰﾊﾞｰｻｲﾄﾞエンジニア",
                      stage="一次面接", category="skills", location="神奈川県横浜市")
    seller = add_member(s, skills=["法人営業"], past_title="法人営業", location="大阪府大阪市")
    return {"job": job.id, "sales": sales.id, "full": full.id, "half": half.id, "seller": seller.id}


def _plan(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        p = plan_run(session, settings, as_of=AS_OF, now=NOW, mode="shortlist")
        session.rollback()
    return p


def test_ranking_and_explanations_for_a_fixed_dataset(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        ids = _dataset(s)
    p = _plan(engine, pool_settings(settings, threshold=20))
    by = {(r["job_id"], r["candidate_id"]): r for r in p.rows}
    top = by[(ids["job"], ids["full"])]
    assert top["rank"] == 1 and top["bucket"] == "強い一致"
    assert top["why"] == ("必須スキル 4/4 一致（Python、Go、SQL、AWS）、歓迎スキル 1/1 一致（Docker）、"
                          "職種: バックエンドエンジニア、勤務地が合う（東京都）、"
                          "前回は最終面接まで、他の候補者を優先")
    assert top["matched_required"] == ["Python", "Go", "SQL", "AWS"] and top["missing_required"] == []
    second = by[(ids["job"], ids["half"])]
    assert second["rank"] == 2
    assert second["matched_required"] == ["Python", "SQL"] and second["missing_required"] == ["Go", "AWS"]
    assert second["why"].startswith("必須スキル 2/4 一致（Python、SQL）、不足：Go、AWS")
    assert second["location_score"] == 0.0
    assert by[(ids["sales"], ids["seller"])]["why"] == (
        "必須スキル 1/1 一致（法人営業）、職種: 法人営業、勤務地が合う（大阪府）、"
        "前回は最終面接まで、他の候補者を優先")
    # Every component is kept, and the score is their weighted sum (0–100).
    assert 0 < top["text_score"] <= 100 and top["potential_score"] == 100.0 and top["required_score"] == 100.0


def test_the_same_dataset_always_gives_the_same_matches(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _dataset(s)
    keys = ("job_id", "candidate_id", "rank", "score", "why", "bucket", "text_score")
    first = [tuple(r[k] for k in keys) for r in _plan(engine, settings).rows]
    again = [tuple(r[k] for k in keys) for r in _plan(engine, settings).rows]
    assert first == again and first


def test_half_width_katakana_titles_match_their_full_width_form(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        job = add_job(s, "カスタマーサクセス", location=None, opened_at=NOW - timedelta(days=1))
        hankaku = add_member(s, past_title="ｶｽﾀﾏｰｻｸｾｽ", location=None)
        other = add_member(s, past_title="経理", location=None)
    rows = {r["candidate_id"]: r for r in _plan(engine, pool_settings(settings, threshold=0)).rows}
    assert rows[hankaku.id]["text_score"] > 80
    assert rows[other.id]["text_score"] == 0.0
    assert rows[hankaku.id]["job_id"] == job.id


def test_top_k_and_threshold(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        add_job(s, "データアナリスト", required=["SQL"], opened_at=NOW - timedelta(days=1))
        for _ in range(5):
            add_member(s, skills=["SQL"], past_title="データアナリスト")
        weak = add_member(s, skills=[], past_title="経理", stage=None, category="skills", location=None)
    rows = _plan(engine, pool_settings(settings, top_k=3)).rows
    assert [r["rank"] for r in rows] == [1, 2, 3]
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    everyone = _plan(engine, pool_settings(settings, top_k=20, threshold=0)).rows
    assert weak.id in {r["candidate_id"] for r in everyone}
    strict = _plan(engine, pool_settings(settings, top_k=20, threshold=60)).rows
    assert weak.id not in {r["candidate_id"] for r in strict} and all(r["score"] >= 60 for r in strict)


def test_weights_are_configurable(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        add_job(s, "バックエンドエンジニア", required=["Go"], opened_at=NOW - timedelta(days=1))
        skilled = add_member(s, skills=["Go"], past_title="営業")
        similar = add_member(s, skills=[], past_title="バックエンドエンジニア")
    skills_first = pool_settings(settings, threshold=0, weights={"required_skills": 1, "preferred_skills": 0,
                                                                  "text": 0, "location": 0, "potential": 0})
    text_first = pool_settings(settings, threshold=0, weights={"required_skills": 0, "preferred_skills": 0,
                                                                "text": 1, "location": 0, "potential": 0})
    assert _plan(engine, skills_first).rows[0]["candidate_id"] == skilled.id
    assert _plan(engine, text_first).rows[0]["candidate_id"] == similar.id


def _store(engine: Engine, settings: Settings, now=NOW) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        p = plan_run(session, settings, as_of=now.date(), now=now, mode="shortlist")
        store_run(session, settings, p)
        return {t.key: t.job_id for t in p.targets}


def test_new_openings_first_run_window_then_since_the_last_run(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        recent = add_job(s, "SRE", opened_at=NOW - timedelta(days=13))
        add_job(s, "SRE", opened_at=NOW - timedelta(days=15))  # outside the 14-day first-run window
        with_openings = add_job(s, "SRE", opened_at=NOW - timedelta(days=100))
        opening = add_opening(s, with_openings, opened_at=NOW - timedelta(days=2))
        add_member(s, past_title="SRE")
    assert set(_store(engine, settings)) == {f"job:{recent.id}", f"opening:{opening.id}"}
    later = NOW + timedelta(days=1)
    with session_scope(engine) as s:
        fresh = add_job(s, "SRE", opened_at=NOW + timedelta(hours=2))
    assert set(_store(engine, settings, later)) == {f"job:{fresh.id}"}
    with Session(engine) as s:
        runs = s.scalars(select(MatchRun).order_by(MatchRun.id)).all()
        assert runs[1].new_since == runs[0].run_at


def test_a_reopened_job_counts_again(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        job = add_job(s, "SRE", opened_at=NOW - timedelta(days=3))
        add_member(s, past_title="SRE")
    assert set(_store(engine, settings)) == {f"job:{job.id}"}
    with session_scope(engine) as s:
        s.get(Job, job.id).status = "closed"
    assert _store(engine, settings, NOW + timedelta(days=1)) == {}
    with session_scope(engine) as s:
        s.get(Job, job.id).status = "open"  # the ATS kept the first opening date
    assert set(_store(engine, settings, NOW + timedelta(days=2))) == {f"job:{job.id}"}


def test_an_opening_closing_is_not_new(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        job = add_job(s, "SRE", opened_at=NOW - timedelta(days=3))
        o = add_opening(s, job, opened_at=NOW - timedelta(days=1))
        add_member(s, past_title="SRE")
    assert set(_store(engine, settings)) == {f"opening:{o.id}"}
    with session_scope(engine) as s:
        s.get(Opening, o.id).status = "closed"
    assert _store(engine, settings, NOW + timedelta(days=1)) == {}


def test_matching_never_reads_personal_or_protected_data(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _dataset(s)
    statements: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    event.listen(engine, "before_cursor_execute", watch)
    try:
        p = _plan(engine, settings)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert p.rows
    selects = [s for s in statements if s.lstrip().startswith(("select", "with"))]
    assert selects
    # The suppression check (junkan.consent.suppressed.suppressed_candidates) reads id and address only,
    # to hash the address against the suppression list (and its pre-0010 plain rows); nothing else may
    # select a personal column.
    def columns(sql: str) -> list[str]:
        return re.split(r"\sfrom\s", sql, maxsplit=1)[0].replace(",", " ").split()[1:]

    check = [s for s in selects if columns(s) == ["candidate.id", "candidate.email_key"]
             or columns(s) in (["suppression.email_key"], ["suppression.email_hash"])]
    assert any(columns(s) == ["candidate.id", "candidate.email_key"] for s in check)
    for sql in selects:
        if sql in check:
            continue
        selected = re.split(r"\sfrom\s", sql, maxsplit=1)[0]
        for forbidden in ("display_name", "email_key", "phone_key", "birth", "gender", "age", "photo"):
            assert f".{forbidden}" not in selected, (forbidden, sql[:200])


def test_stored_matches_keep_every_component(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        _dataset(s)
    _store(engine, settings)
    with Session(engine) as s:
        stored = s.scalars(select(PoolMatch).order_by(PoolMatch.job_id, PoolMatch.rank)).all()
    assert stored and all(m.why and m.bucket in ("強い一致", "良い一致", "部分一致") for m in stored)
    assert all(m.holdout is False for m in stored)  # shortlist mode holds nobody out
    assert {m.potential_score for m in stored} >= {100.0}
