"""Builds a report: the period's snapshot (computed once, or again on `recompute`), the previous period for
changes, the baseline, and the monthly trend read from snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from junkan.config import Settings
from junkan.db import session_scope
from junkan.reports import snapshots
from junkan.reports.compute import compute_kpis
from junkan.reports.costs import cost_figures, monthly_costs, period_costs
from junkan.reports.figures import Figure, figure
from junkan.reports.lift import lift_figure
from junkan.reports.periods import Period, month
from junkan.reports.registry import load_queries

TREND_MONTHS = 12


@dataclass
class Report:
    period: Period
    kpis: dict[str, Figure]
    tables: dict[str, list[dict[str, Any]]]
    inputs: dict[str, Any]
    computed_at: datetime
    #: True when the figures were computed by this run (False: read from an earlier snapshot).
    computed_now: bool
    previous: dict[str, Figure] | None = None
    previous_period: Period | None = None
    #: One entry per month: {"month": "YYYY-MM", "follow_up_rate": …, "reapplication_rate": …, …}.
    trend: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat(),
                       "label": self.period.label},
            "computed_at": self.computed_at.isoformat(),
            "kpis": self.kpis,
            "previous_period": (None if self.previous_period is None else
                                {"start": self.previous_period.start.isoformat(),
                                 "end": self.previous_period.end.isoformat()}),
            "previous_kpis": {k: v["value"] for k, v in (self.previous or {}).items()},
            "trend": self.trend,
            "tables": self.tables,
            "inputs": self.inputs,
        }


def _inputs(settings: Settings, period: Period, costs: dict[str, Any], absent: list[str]) -> dict[str, Any]:
    return {
        "timezone": settings.business.timezone,
        "period": [period.start.isoformat(), period.end.isoformat()],
        "follow_up_sla_business_days": settings.report.follow_up_sla_business_days,
        "extra_closed_days": list(settings.notice.extra_closed_days),
        "notice_max_age_days": settings.notice.max_age_days,
        "min_group_size": settings.report.min_group_size,
        "baseline": settings.report.baseline.model_dump(mode="json"),
        "costs": costs,
        "months_without_costs": absent,
        "queries": {q.name: q.sha256 for q in load_queries()},
    }


def _base_figures(engine: Engine, settings: Settings, period: Period
                  ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[Any]]:
    with engine.connect() as conn:
        kpis, tables = compute_kpis(conn, period, settings)
        conn.rollback()
    costs, absent = period_costs(period, monthly_costs(settings))
    return kpis, tables, costs, absent


def _snapshot(engine: Engine, settings: Settings, period: Period, *, replace: bool,
              with_baseline: bool = True) -> tuple[dict[str, Any], dict[str, Any], datetime, bool]:
    """(figures, inputs, computed_at, computed now) for a period, from its snapshot when there is one."""
    with session_scope(engine) as session:
        existing = snapshots.find(session, period)
        if existing is not None and not replace:
            return existing.figures, existing.inputs, existing.computed_at, False
    kpis, tables, costs, absent = _base_figures(engine, settings, period)
    baseline_cph: tuple[float | None, str] = (None, "not configured")
    baseline_rate: tuple[float | None, str] = (None, "not configured")
    if with_baseline:
        baseline_cph, baseline_rate = _baselines(engine, settings)
    kpis["recontact_lift"] = lift_figure(kpis["recontact_reapplication_rate"],
                                         kpis["holdout_reapplication_rate"], settings.report.min_group_size)
    kpis.update(cost_figures(kpis, costs, absent, baseline_cph))
    kpis["reapplication_rate_vs_baseline"] = _vs_baseline(kpis["reapplication_rate"], baseline_rate,
                                                          settings.report.min_group_size)
    figures = {"kpis": kpis, "tables": tables}
    inputs = _inputs(settings, period, costs, absent)
    with session_scope(engine) as session:
        snap, written = snapshots.store(session, period, figures, inputs, replace=replace)
        return snap.figures, snap.inputs, snap.computed_at, written


Baseline = tuple[float | None, str]


def _baselines(engine: Engine, settings: Settings) -> tuple[Baseline, Baseline]:
    """(cost per hire, re-application rate) of the baseline: configured figures first, else the
    baseline period's snapshot (computed once, like any period)."""
    b = settings.report.baseline
    cph: tuple[float | None, str] = (b.cost_per_hire_yen, "configured figure")
    rate: tuple[float | None, str] = (b.reapplication_rate, "configured figure")
    if (cph[0] is None or rate[0] is None) and b.period_from and b.period_to:
        period = Period(b.period_from, b.period_to)
        figures, _, _, _ = _snapshot(engine, settings, period, replace=False, with_baseline=False)
        source = f"baseline period {period.start}–{period.end}"
        if cph[0] is None:
            cph = (figures["kpis"]["cost_per_hire"]["value"], source)
        if rate[0] is None:
            rate = (figures["kpis"]["reapplication_rate"]["value"], source)
    elif cph[0] is None or rate[0] is None:
        cph = cph if cph[0] is not None else (None, "no baseline configured (report.baseline)")
        rate = rate if rate[0] is not None else (None, "no baseline configured (report.baseline)")
    return cph, rate


def _vs_baseline(current: Figure, baseline: tuple[float | None, str], min_group: int) -> Figure:
    base, source = baseline
    group_size = current["inputs"].get("rejected_candidates", 0)
    inputs = {"reapplication_rate": current["value"], "baseline_reapplication_rate": base,
              "baseline": source, "rejected_candidates": group_size, "min_group_size": min_group}
    name, group = "reapplication_rate_vs_baseline", "reapplication"
    if group_size < min_group:
        return figure(name, group, None, inputs=inputs,
                      missing=f"not enough data ({group_size} rejected candidates, minimum {min_group})")
    if current["value"] is None:
        return figure(name, group, None, inputs=inputs, missing=f"reapplication_rate: {current['missing']}")
    if not base:
        return figure(name, group, None, inputs=inputs, missing=f"missing input: baseline ({source})")
    return figure(name, group, current["value"] / base, inputs=inputs)


def trend(engine: Engine, settings: Settings, period: Period,
          months: int = TREND_MONTHS) -> list[dict[str, Any]]:
    """The last `months` calendar months up to the period's end, each from its snapshot (computed and
    stored the first time a month is needed; never recomputed here)."""
    last = period.months()[-1]
    y, m = last.start.year, last.start.month
    wanted = []
    for _ in range(months):
        wanted.append(month(y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    out = []
    for p in reversed(wanted):
        figures, _, _, _ = _snapshot(engine, settings, p, replace=False)
        k = figures["kpis"]
        out.append({"month": p.label, **{n: k[n]["value"] for n in (
            "applications", "follow_up_rate", "reapplication_rate", "credits_earned", "hires")}})
    return out


def build_report(engine: Engine, settings: Settings, period: Period, *, recompute: bool = False,
                 trend_months: int = TREND_MONTHS) -> Report:
    figures, inputs, computed_at, now = _snapshot(engine, settings, period, replace=recompute)
    previous_period = period.previous()
    prev, _, _, _ = _snapshot(engine, settings, previous_period, replace=False)
    return Report(
        period=period, kpis=figures["kpis"], tables=figures["tables"], inputs=inputs,
        computed_at=computed_at, computed_now=now, previous=prev["kpis"], previous_period=previous_period,
        trend=trend(engine, settings, period, trend_months) if trend_months else [],
    )
