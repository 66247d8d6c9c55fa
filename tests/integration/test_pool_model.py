"""Potential score: rules on a cold start (the report says so); a stored, calibrated model with history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Candidate
from junkan.db.models_pool import PoolModel, PotentialScore
from junkan.pool.model import FEATURES, load_estimator
from junkan.pool.report import model_markdown
from junkan.pool.runs import plan_run, store_run
from tests.integration._pool_data import AS_OF, NOW, add_application, add_job, add_member, jst, pool_settings


def _history(s: Session, n: int = 60) -> None:
    """n pooled people who re-applied: those who had reached the final interview were mostly hired."""
    old_job = add_job(s, "営業", status="closed")
    new_job = add_job(s, "営業", status="closed")
    for k in range(n):
        final = k % 2 == 0
        hired = (final and k % 5 != 0) or (not final and k % 7 == 0)
        decided = jst(2024, 1, 10, 12, 0) + timedelta(days=5 * k)
        cand = add_member(s, past_job=old_job, decided_at=decided, stage="最終面接" if final else "書類選考",
                          category="other_candidate" if final else "skills")
        add_application(s, s.get(Candidate, cand.id), new_job, status="hired" if hired else "rejected",
                        applied_at=decided + timedelta(days=200), decided_at=decided + timedelta(days=230),
                        category="skills")


def _enough_history(engine: Engine, settings: Settings) -> tuple[Settings, Candidate, Candidate]:
    """Settings that train on 60 outcomes, that history, a new opening and two pooled people."""
    settings = pool_settings(settings, min_outcomes_for_model=40, min_hires_for_model=8)
    with session_scope(engine) as s:
        _history(s)
        add_job(s, "営業", opened_at=NOW - timedelta(days=1))
        final = add_member(s, past_title="営業", stage="最終面接", category="other_candidate")
        early = add_member(s, past_title="営業", stage="書類選考", category="skills")
    return settings, final, early


def _run(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        p = plan_run(session, settings, as_of=AS_OF, now=NOW, mode="shortlist")
        store_run(session, settings, p)
    return p


def test_cold_start_uses_the_rules_and_says_why(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        add_job(s, "営業", opened_at=NOW - timedelta(days=1))
        final = add_member(s, past_title="営業", stage="最終面接", category="other_candidate")
        early = add_member(s, past_title="営業", stage="書類選考", category="skills")
    p = _run(engine, settings)
    assert p.scores.method == "rules" and p.model_report.method == "rules"
    text = model_markdown(p.model_report)
    assert "Rule-based score in use" in text and "not enough history" in text and "needs 200" in text
    with Session(engine) as s:
        stored = {r.candidate_id: r for r in s.scalars(select(PotentialScore))}
        assert s.scalar(select(func.count()).select_from(PoolModel)) == 0
    assert stored[final.id].method == "rules" and stored[final.id].model_version is None
    assert stored[final.id].score > stored[early.id].score
    assert stored[final.id].reasons[:2] == ["最終面接まで進んだ", "他の候補者を優先"]


def test_with_enough_history_a_calibrated_model_is_trained_stored_and_used(
    engine: Engine, settings: Settings
) -> None:
    settings, final, early = _enough_history(engine, settings)
    p = _run(engine, settings)
    assert p.scores.method == "model" and p.model_report.outcomes == 60
    metrics = p.model_report.metrics
    assert metrics["train"] == 45 and metrics["test"] == 15
    assert 0.0 <= metrics["auc_model"] <= 1.0 and 0.0 <= metrics["brier_model"] <= 1.0
    assert "auc_rules" in metrics and metrics["reliability_model"]
    text = model_markdown(p.model_report)
    assert "AUC" in text and "Brier" in text and "Time-based split" in text
    with Session(engine) as s:
        model = s.scalars(select(PoolModel)).one()
        stored = {r.candidate_id: r for r in s.scalars(select(PotentialScore))}
    assert model.active and model.version == p.scores.model_version and model.features == list(FEATURES)
    assert hasattr(load_estimator(model.payload), "predict_proba")
    assert stored[final.id].method == "model" and stored[final.id].model_version == model.version
    assert stored[final.id].score > stored[early.id].score
    assert 0.0 <= stored[early.id].score <= 100.0

    # Nothing new happened: the stored version is used again, not retrained.
    again = _run(engine, settings)
    assert again.scores.model_version == model.version
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(PoolModel)) == 1


def test_history_with_a_single_outcome_class_stays_on_the_rules(engine: Engine, settings: Settings) -> None:
    settings = pool_settings(settings, min_outcomes_for_model=10, min_hires_for_model=2)
    with session_scope(engine) as s:
        old_job, new_job = add_job(s, "営業", status="closed"), add_job(s, "営業", status="closed")
        for k in range(12):
            decided = jst(2024, 3, 1, 12, 0) + timedelta(days=3 * k)
            cand = add_member(s, past_job=old_job, decided_at=decided)
            add_application(s, s.get(Candidate, cand.id), new_job, status="rejected",
                            applied_at=decided + timedelta(days=200),
                            decided_at=decided + timedelta(days=210))
    p = _run(engine, settings)
    assert p.scores.method == "rules"
    assert "not enough history" in model_markdown(p.model_report)


def test_a_plan_that_may_not_persist_trains_in_memory_and_stores_nothing(
    engine: Engine, settings: Settings
) -> None:
    # What `junkan preview` does: the run's scores, from a model the run would train, and no row written.
    settings, _final, _early = _enough_history(engine, settings)
    with Session(engine) as session:
        p = plan_run(session, settings, as_of=AS_OF, now=NOW, mode="shortlist", persist_model=False)
        assert not session.new and not session.dirty
        session.commit()
    assert p.scores.method == "model" and p.model_report.method == "model"
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(PoolModel)) == 0
    stored = _run(engine, settings)
    # The run that persists trains the very same version.
    assert stored.scores.model_version == p.scores.model_version
