"""The learned potential score: a calibrated scikit-learn model, once the company's own history allows it.

Outcomes are re-applications of pooled people: a rejected or withdrawn application followed by a later,
decided one by the same person. The label is whether the later one ended in a hire; the features are what
was known at the earlier decision (stage reached, reason category, months until the re-application,
applications so far) plus the rule score. With at least `min_outcomes_for_model` outcomes, of which at
least `min_hires_for_model` hires and as many non-hires, a LogisticRegression inside CalibratedClassifierCV
(sigmoid) is trained on the older 75 % and evaluated on the newest 25 % (a time-based split, so the report
shows how it would have done going forward), against the rule score on the same rows: AUC, Brier score and
reliability bins. The fitted estimator is stored, versioned, in `pool_model` (joblib bytes).
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from junkan.config import Settings
from junkan.db.models import Application, Consent, RejectionReason
from junkan.db.models_pool import PoolModel
from junkan.pool.scoring import (
    CATEGORY_POINTS,
    DEFAULT_CATEGORY_POINTS,
    RECENCY_FULL_MONTHS,
    RECENCY_MAX,
    RECENCY_ZERO_MONTHS,
    STAGE_POINTS,
    Scores,
    months_between,
    months_since,
    rule_scores,
)
from junkan.pool.signals import (
    DECIDED_STATUSES,
    PoolSignals,
    columns_of,
    datetimes_of,
    micros_array,
    micros_column,
    stage_level,
)

METHOD = "logreg_calibrated_sigmoid"
CATEGORIES = tuple(CATEGORY_POINTS)
FEATURES = ("stage_level", "months", "applications", "rule_score", *(f"cat_{c}" for c in CATEGORIES))
TEST_SHARE = 0.25
_BINS = 10


@dataclass(frozen=True, slots=True)
class Outcomes:
    x: np.ndarray
    y: np.ndarray
    #: When the re-application came in (the split is on this).
    at: list[datetime]

    @property
    def hires(self) -> int:
        return int(self.y.sum())


@dataclass
class ModelReport:
    """What the artifact shows: which score was used, and why; with a model, its evaluation."""

    method: str
    outcomes: int
    hires: int
    needed: int
    needed_hires: int
    model_version: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def rule_from(level: np.ndarray, category: list[str], months: np.ndarray) -> np.ndarray:
    stage = STAGE_POINTS[level.astype(np.int64)]
    cat = np.array([CATEGORY_POINTS.get(c, DEFAULT_CATEGORY_POINTS) for c in category])
    fade = (RECENCY_ZERO_MONTHS - months) / (RECENCY_ZERO_MONTHS - RECENCY_FULL_MONTHS)
    score: np.ndarray = np.clip(stage + cat + RECENCY_MAX * np.clip(fade, 0.0, 1.0), 0.0, 100.0)
    return score


def feature_matrix(level: np.ndarray, category: list[str], months: np.ndarray,
                   applications: np.ndarray) -> np.ndarray:
    onehot = np.array([[1.0 if c == k else 0.0 for k in CATEGORIES] for c in category])
    onehot = onehot.reshape(-1, len(CATEGORIES))
    base = np.column_stack([
        level / 3.0, np.minimum(months, 48.0) / 12.0, np.minimum(applications, 5) / 5.0,
        rule_from(level, category, months) / 100.0,
    ]) if len(category) else np.zeros((0, 4))
    return np.hstack([base, onehot])


def load_outcomes(session: Session, now: datetime) -> Outcomes:
    conn = session.connection()
    dialect = conn.dialect.name
    pooled = np.unique(np.array(conn.execute(select(Consent.candidate_id).where(
        Consent.purpose == "talent_pool", Consent.granted.is_(True), Consent.recorded_at <= now
    )).scalars().all(), dtype=np.int64))
    # Only people with two applications or more can have re-applied: only their rows are read (the
    # candidate index answers which, without reading the table), as columns (times as microseconds).
    other = aliased(Application)
    several = select(other.candidate_id).group_by(other.candidate_id).having(func.count() > 1)
    rows = conn.execute(
        select(Application.candidate_id, Application.status, micros_column(Application.applied_at, dialect),
               micros_column(Application.created_at, dialect), micros_column(Application.decided_at, dialect),
               Application.stage_reached, RejectionReason.category)
        .outerjoin(RejectionReason, RejectionReason.id == Application.reason_id)
        .where(Application.candidate_id.in_(several))
        .order_by(Application.candidate_id, Application.id)
    ).all()
    cand_col, status_col, applied, created, decided, stage_col, category_col = columns_of(rows, 7)
    del rows
    cand = np.array(cand_col, dtype=np.int64)
    # Every row of a person is read, so all of a pooled person's rows are here: two of them at least.
    wanted = np.flatnonzero(np.isin(cand, pooled)).tolist()
    times = [datetimes_of(micros_array(col, dialect)[wanted]) for col in (applied, created, decided)]
    by_cand: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for n, r in enumerate(wanted):
        by_cand[cand_col[r]].append((status_col[r], times[0][n], times[1][n], times[2][n], stage_col[r],
                                     category_col[r]))
    level: list[int] = []
    cats: list[str] = []
    months: list[float] = []
    apps: list[int] = []
    ys: list[int] = []
    ats: list[datetime] = []
    for history in by_cand.values():
        history.sort(key=lambda a: (a[1] or a[2] or a[3]))
        for k, (status, applied_at, created_at, decided_at, _stage, _cat) in enumerate(history):
            start = applied_at or created_at
            if status not in ("hired", *DECIDED_STATUSES) or decided_at is None or decided_at > now:
                continue
            earlier = [a for a in history[:k]
                       if a[0] in DECIDED_STATUSES and a[3] is not None and a[3] < start]
            if not earlier:
                continue
            last = max(earlier, key=lambda a: a[3])
            level.append(max(stage_level(a[4]) for a in earlier))
            cats.append(last[5] or ("withdrawn" if last[0] == "withdrawn" else "other"))
            months.append(months_between(last[3], start))
            apps.append(k)
            ys.append(1 if status == "hired" else 0)
            ats.append(start)
    x = feature_matrix(np.array(level, dtype=np.int64), cats, np.array(months), np.array(apps))
    return Outcomes(x=x, y=np.array(ys, dtype=np.int64), at=ats)


def _reliability(y: np.ndarray, p: np.ndarray) -> list[dict[str, object]]:
    bins = np.minimum((p * _BINS).astype(int), _BINS - 1)
    out: list[dict[str, object]] = []
    for b in range(_BINS):
        sel = bins == b
        if sel.any():
            out.append({"bin": f"{b / _BINS:.1f}–{(b + 1) / _BINS:.1f}",
                        "predicted": round(float(p[sel].mean()), 3),
                        "observed": round(float(y[sel].mean()), 3), "n": int(sel.sum())})
    return out


def enough(outcomes: Outcomes, settings: Settings) -> bool:
    cfg = settings.recontact
    n, hires = len(outcomes.y), outcomes.hires
    return n >= cfg.min_outcomes_for_model and hires >= cfg.min_hires_for_model and \
        n - hires >= cfg.min_hires_for_model


def train(outcomes: Outcomes) -> tuple[Any, dict[str, Any]]:
    """Fit on the older rows, evaluate on the newest TEST_SHARE (time-based split)."""
    order = np.argsort(np.array([a.timestamp() for a in outcomes.at]), kind="stable")
    x, y = outcomes.x[order], outcomes.y[order]
    cut = round(len(y) * (1 - TEST_SHARE))
    x_train, y_train, x_test, y_test = x[:cut], y[:cut], x[cut:], y[cut:]
    if len(set(y_train.tolist())) < 2 or len(set(y_test.tolist())) < 2:
        raise ValueError("the time-based split leaves one side with a single outcome class")
    estimator = CalibratedClassifierCV(LogisticRegression(max_iter=1000), method="sigmoid", cv=3)
    estimator.fit(x_train, y_train)
    p_model = estimator.predict_proba(x_test)[:, 1]
    p_rules = x_test[:, FEATURES.index("rule_score")]
    metrics = {
        "train": len(y_train), "test": len(y_test),
        "train_until": outcomes.at[int(order[cut - 1])].isoformat(),
        "auc_model": round(float(roc_auc_score(y_test, p_model)), 4),
        "auc_rules": round(float(roc_auc_score(y_test, p_rules)), 4),
        "brier_model": round(float(brier_score_loss(y_test, p_model)), 4),
        "brier_rules": round(float(brier_score_loss(y_test, p_rules)), 4),
        "base_rate_test": round(float(y_test.mean()), 4),
        "reliability_model": _reliability(y_test, p_model),
        "reliability_rules": _reliability(y_test, p_rules),
    }
    return estimator, metrics


def _dump(estimator: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    return buffer.getvalue()


def load_estimator(payload: bytes) -> Any:
    return joblib.load(io.BytesIO(payload))


def active_model(session: Session) -> PoolModel | None:
    return session.scalars(
        select(PoolModel).where(PoolModel.active.is_(True)).order_by(PoolModel.id.desc()).limit(1)
    ).first()


def ensure_model(session: Session, settings: Settings, now: datetime, *,
                 persist: bool = True) -> tuple[PoolModel | None, ModelReport]:
    """The model to score with (training a new version when the history grew), or None for the rules.
    With `persist=False` (`junkan preview`) a new version is trained but neither stored nor activated."""
    cfg = settings.recontact
    outcomes = load_outcomes(session, now)
    report = ModelReport(method="rules", outcomes=len(outcomes.y), hires=outcomes.hires,
                         needed=cfg.min_outcomes_for_model, needed_hires=cfg.min_hires_for_model)
    if not enough(outcomes, settings):
        report.note = "not enough history yet: the rule-based score is used"
        return None, report
    current = active_model(session)
    if current is not None and current.n_outcomes == len(outcomes.y):
        report.method, report.model_version, report.metrics = "model", current.version, dict(current.metrics)
        report.note = "no new outcomes since the model was trained: the stored model is used"
        return current, report
    try:
        estimator, metrics = train(outcomes)
    except ValueError as exc:
        report.note = f"model not trained ({exc}): the rule-based score is used"
        return None, report
    payload = _dump(estimator)
    version = f"pm-{now:%Y%m%d}-{hashlib.sha256(payload).hexdigest()[:10]}"
    existing = session.scalars(select(PoolModel).where(PoolModel.version == version)).first()
    if existing is None:
        existing = PoolModel(version=version, method=METHOD, features=list(FEATURES), payload=payload,
                             metrics=metrics, n_outcomes=len(outcomes.y), trained_at=now, active=persist)
        if persist:
            session.execute(update(PoolModel).values(active=False))
            session.add(existing)
            session.flush()
    report.method, report.model_version, report.metrics = "model", version, metrics
    report.note = "trained on the company's re-application history"
    return existing, report


def model_scores(model: PoolModel, signals: PoolSignals, now: datetime, members: np.ndarray) -> Scores:
    """Potential 0–100 = the model's calibrated hire probability; the reasons stay the rule reasons
    (the same signals, in words), so the why never depends on reading model internals."""
    estimator = load_estimator(model.payload)
    x = feature_matrix(signals.max_stage_level.astype(np.int64), signals.category,
                       months_since(signals, now), signals.n_applications.astype(np.int64))
    score = np.zeros(len(signals))
    if len(signals):
        score = np.round(estimator.predict_proba(x)[:, 1] * 100.0, 1)
    rules = rule_scores(signals, now, members)
    return Scores(score=score, reasons=rules.reasons, method="model", model_version=model.version)
