"""Stored KPI snapshots: one per (period, scope), replaced only when asked to recompute."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from junkan.db.models_reports import ReportSnapshot
from junkan.db.types import utcnow
from junkan.reports.periods import Period


def find(session: Session, period: Period, scope: str = "overall") -> ReportSnapshot | None:
    return session.scalar(
        select(ReportSnapshot).where(ReportSnapshot.period_start == period.start,
                                     ReportSnapshot.period_end == period.end, ReportSnapshot.scope == scope)
    )


def store(session: Session, period: Period, figures: dict[str, Any], inputs: dict[str, Any], *,
          replace: bool, scope: str = "overall") -> tuple[ReportSnapshot, bool]:
    """(the snapshot, whether it was written). An existing snapshot is kept unless `replace`."""
    existing = find(session, period, scope)
    if existing is not None and not replace:
        return existing, False
    if existing is None:
        existing = ReportSnapshot(period_start=period.start, period_end=period.end, scope=scope)
        session.add(existing)
    existing.figures = figures
    existing.inputs = inputs
    existing.computed_at = utcnow()
    session.flush()
    return existing, True
