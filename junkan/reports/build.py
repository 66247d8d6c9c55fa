"""Builds a report: the period's snapshot (computed once, or again on `recompute`), the previous period for
changes, the baseline, and the monthly trend read from snapshots.

A period never runs past the day it is computed for (`as_of`, in the business time zone): a month in
progress is reported up to that day and says so. Rejections decided before go-live (when Junkan started
following up) are history: counted apart from the rates that judge Junkan's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.db.models_reports import ReportSnapshot
from junkan.db.types import utcnow
from junkan.reports.compute import compute_kpis
from junkan.reports.costs import cost_figures, monthly_costs, period_costs
from junkan.reports.figures import Figure, figure
from junkan.reports.lift import lift_figure
from junkan.reports.periods import Period, business_timezone, business_zone, local_midnight, month
from junkan.reports.registry import load_queries

TREND_MONTHS = 12
#: Bound for go-live when Junkan has sent nothing yet: every decision is history.
_NOT_YET = datetime(9999, 1, 1, tzinfo=UTC)


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
    #: The business time zone every date and time of the report is written in.
    timezone: str = "Asia/Tokyo"
    #: The last day of the period asked for, when it was cut at the day computed for (a month in progress).
    cut_from: date | None = None
    #: When Junkan started following up (UTC), and where that comes from ("setting" or "first_notice").
    go_live: datetime | None = None
    go_live_source: str | None = None
    #: The configuration the report could not find (cost months, baseline, go-live), for the reader.
    settings_missing: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat(),
                       "label": self.period.label, "in_progress": self.cut_from is not None},
            "computed_at": self.computed_at.astimezone(business_zone(self.timezone)).isoformat(),
            "timezone": self.timezone,
            "go_live": None if self.go_live is None else self.go_live.isoformat(),
            "go_live_source": self.go_live_source,
            "kpis": self.kpis,
            "previous_period": (None if self.previous_period is None else
                                {"start": self.previous_period.start.isoformat(),
                                 "end": self.previous_period.end.isoformat()}),
            "previous_kpis": {k: v["value"] for k, v in (self.previous or {}).items()},
            "trend": self.trend,
            "tables": self.tables,
            "inputs": self.inputs,
        }


def find_snapshot(session: Session, period: Period, scope: str = "overall") -> ReportSnapshot | None:
    return session.scalar(
        select(ReportSnapshot).where(ReportSnapshot.period_start == period.start,
                                     ReportSnapshot.period_end == period.end, ReportSnapshot.scope == scope)
    )


def store_snapshot(session: Session, period: Period, figures: dict[str, Any], inputs: dict[str, Any], *,
                   replace: bool, scope: str = "overall") -> tuple[ReportSnapshot, bool]:
    """(the snapshot, whether it was written). An existing snapshot is kept unless `replace`."""
    existing = find_snapshot(session, period, scope)
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


def go_live(engine: Engine, settings: Settings) -> tuple[datetime | None, str | None]:
    """(when Junkan went live, from where). A rejection whose follow-up deadline had passed by then is
    history: Junkan could not have followed it up in time.

    - the configured day (`report.go_live`, local midnight): "setting";
    - else the first rejection notice accepted by the provider: "first_notice";
    - else, notices queued but none sent yet: (None, "queued"), nothing is history;
    - else (None, None): Junkan has not started, every rejection is history.
    """
    if settings.report.go_live is not None:
        return local_midnight(settings.report.go_live, business_timezone(settings)), "setting"
    with engine.connect() as conn:
        first = conn.scalar(select(func.min(Message.accepted_at)).where(Message.kind == "rejection"))
        if first is not None:
            return first, "first_notice"
        queued = conn.scalar(select(Message.id).where(Message.kind == "rejection").limit(1))
    return (None, "queued") if queued is not None else (None, None)


def today(settings: Settings) -> date:
    return utcnow().astimezone(business_zone(business_timezone(settings))).date()


def cut_at(period: Period, as_of: date) -> Period:
    """The period up to `as_of` (included) when it runs past it."""
    if period.start > as_of:
        raise ValueError(f"the period starts ({period.start}) after the day it is computed for ({as_of})")
    return Period(period.start, as_of) if period.end > as_of else period


def _inputs(settings: Settings, period: Period, costs: dict[str, Any], absent: list[str],
            live: datetime | None) -> dict[str, Any]:
    return {
        "go_live": None if live is None else live.isoformat(),
        "timezone": business_timezone(settings),
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


def _base_figures(engine: Engine, settings: Settings, period: Period, live: datetime | None,
                  source: str | None, cost_period: Period,
                  ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[Any]]:
    started = source is not None
    with engine.connect() as conn:
        kpis, tables = compute_kpis(conn, period, settings, go_live=live if started else _NOT_YET)
        conn.rollback()
    if not started:
        kpis["follow_up_rate"] = figure(
            "follow_up_rate", "follow_up", None, inputs=kpis["follow_up_rate"]["inputs"],
            apart=kpis["follow_up_rate"]["apart"], breakdown=kpis["follow_up_rate"]["breakdown"],
            missing="Junkan has not sent a rejection notice yet: every rejection is history")
    # Costs are monthly figures: a month in progress counts its month's costs whole.
    costs, absent = period_costs(cost_period, monthly_costs(settings))
    return kpis, tables, costs, absent


def _snapshot(engine: Engine, settings: Settings, period: Period, *, replace: bool,
              with_baseline: bool = True, cost_period: Period | None = None,
              ) -> tuple[dict[str, Any], dict[str, Any], datetime, bool]:
    """(figures, inputs, computed_at, computed now) for a period, from its snapshot when there is one."""
    with session_scope(engine) as session:
        existing = find_snapshot(session, period)
        if existing is not None and not replace:
            return existing.figures, existing.inputs, existing.computed_at, False
    live, source = go_live(engine, settings)
    kpis, tables, costs, absent = _base_figures(engine, settings, period, live, source,
                                                cost_period or period)
    baseline_cph: tuple[float | None, str] = (None, "no baseline configured")
    baseline_rate: tuple[float | None, str] = (None, "no baseline configured")
    if with_baseline:
        baseline_cph, baseline_rate = _baselines(engine, settings)
    kpis["recontact_lift"] = lift_figure(kpis["recontact_reapplication_rate"],
                                         kpis["holdout_reapplication_rate"], settings.report.min_group_size)
    kpis.update(cost_figures(kpis, costs, absent, baseline_cph))
    kpis["reapplication_rate_vs_baseline"] = _vs_baseline(kpis["reapplication_rate"], baseline_rate,
                                                          settings.report.min_group_size)
    figures = {"kpis": kpis, "tables": tables}
    inputs = _inputs(settings, period, costs, absent, live)
    with session_scope(engine) as session:
        snap, written = store_snapshot(session, period, figures, inputs, replace=replace)
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
        cph = cph if cph[0] is not None else (None, "no baseline configured")
        rate = rate if rate[0] is not None else (None, "no baseline configured")
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
        return figure(name, group, None, inputs=inputs, missing=current["missing"])
    if not base:
        return figure(name, group, None, inputs=inputs, missing="missing input: baseline re-application rate")
    return figure(name, group, current["value"] / base, inputs=inputs)


def trend(engine: Engine, settings: Settings, period: Period, months: int = TREND_MONTHS,
          as_of: date | None = None) -> list[dict[str, Any]]:
    """The last `months` calendar months up to the period's end, each from its snapshot (computed and
    stored the first time a month is needed; never recomputed here). A month in progress is cut at
    `as_of`; a month without a value keeps None (a gap in the charts, never a zero)."""
    last = period.months()[-1]
    y, m = last.start.year, last.start.month
    wanted = []
    for _ in range(months):
        wanted.append(month(y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    out = []
    for whole in reversed(wanted):
        p = whole if as_of is None else cut_at(whole, max(as_of, whole.start))
        figures, _, _, _ = _snapshot(engine, settings, p, replace=False, cost_period=whole)
        k = figures["kpis"]
        out.append({"month": whole.label, **{n: k[n]["value"] for n in (
            "applications", "follow_up_rate", "reapplication_rate", "credits_earned", "hires")}})
    return out


def build_report(engine: Engine, settings: Settings, period: Period, *, recompute: bool = False,
                 trend_months: int = TREND_MONTHS, as_of: date | None = None) -> Report:
    """The report of `period`, cut at `as_of` (default: today in the business time zone)."""
    day = as_of or today(settings)
    asked = period
    period = cut_at(asked, day)
    figures, inputs, computed_at, now = _snapshot(engine, settings, period, replace=recompute,
                                                  cost_period=asked)
    previous_period = asked.previous()
    prev, _, _, _ = _snapshot(engine, settings, previous_period, replace=False)
    live, source = go_live(engine, settings)
    return Report(
        period=period, kpis=figures["kpis"], tables=figures["tables"], inputs=inputs,
        computed_at=computed_at, computed_now=now, previous=prev["kpis"], previous_period=previous_period,
        trend=trend(engine, settings, period, trend_months, day) if trend_months else [],
        timezone=business_timezone(settings), cut_from=asked.end if period != asked else None,
        go_live=live, go_live_source=source,
        settings_missing=missing_settings(settings, inputs, source),
    )


def missing_settings(settings: Settings, inputs: dict[str, Any], source: str | None) -> dict[str, Any]:
    """What the reader has to configure for every figure to have a value (named once in the report)."""
    out: dict[str, Any] = {}
    costs = inputs.get("costs", {})
    lacking = [k for k, v in costs.items() if v is None]
    if lacking:
        out["costs"] = {"fields": lacking, "months": inputs.get("months_without_costs", [])}
    b = settings.report.baseline
    if b.cost_per_hire_yen is None and not (b.period_from and b.period_to):
        out["baseline_cost_per_hire"] = True
    if b.reapplication_rate is None and not (b.period_from and b.period_to):
        out["baseline_reapplication_rate"] = True
    if source is None:
        out["go_live"] = True
    return out
