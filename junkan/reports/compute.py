"""Runs every registered KPI query for one period and turns the rows into figures.

All queries run on one connection (the SLA calendar is a temporary table of that connection). Overall
figures are sums of the returned rows; the rows themselves are kept as the breakdown (by job and
department, by kind and template, by partner).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from junkan.config import Settings
from junkan.db.types import UtcDateTime
from junkan.reports.calendar import prepare_sla_calendar
from junkan.reports.figures import Figure, figure, ratio
from junkan.reports.periods import Period, business_timezone
from junkan.reports.registry import PENDING_KPIS, PENDING_REASON, KpiDef, QueryDef, load_queries

#: Prepared inputs a query may declare with `-- needs:`.
_PREPARERS = {"sla_calendar": prepare_sla_calendar}
#: Instants a query may bind: the period [start, end), `horizon`, 30 days after its end (expiries), and
#: `go_live`, when Junkan started following up (None: nothing is history; see build.go_live).
_INSTANTS = ("start", "end", "horizon", "go_live")
HORIZON = timedelta(days=30)
NO_HISTORY = datetime(1970, 1, 1, tzinfo=UTC)
#: PostgreSQL work_mem of the report transaction (per hash or sort; hashes may use twice that).
REPORT_WORK_MEM = "64MB"


def _statement(q: QueryDef):  # type: ignore[no-untyped-def]
    stmt = text(q.sql)
    binds = [bindparam(n, type_=UtcDateTime()) for n in _INSTANTS if f":{n}" in q.sql]
    return stmt.bindparams(*binds)


def tune_transaction(conn: Connection) -> None:
    """Planner settings for the report's queries, local to the current transaction (PostgreSQL)."""
    if conn.dialect.name != "postgresql":
        return
    # These are a dozen short aggregates: JIT compilation (seconds, when row estimates are off, as they
    # are for the calendar join) would cost far more than it saves.
    conn.exec_driver_sql("SET LOCAL jit = off")
    # The follow-up join and the e-mail evidence sets hash a year of notices and events (~600,000 ids at
    # 1M applications): at the 4 MB default they spill to disk in batches, and an evidence set that does not
    # fit is not hashed at all. One report at a time, so the memory is bounded.
    conn.exec_driver_sql(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")


def run_query(conn: Connection, q: QueryDef, period: Period, settings: Settings,
              go_live: datetime | None = None) -> list[dict[str, Any]]:
    for need in q.needs:
        try:
            _PREPARERS[need](conn, period, settings)
        except KeyError:
            raise ValueError(f"{q.path.name}: unknown input '-- needs: {need}'") from None
    start, end = period.bounds(business_timezone(settings))
    instants = {"start": start, "end": end, "horizon": end + HORIZON,
                "go_live": NO_HISTORY if go_live is None else go_live}
    params = {k: v for k, v in instants.items() if f":{k}" in q.sql}
    return [dict(r) for r in conn.execute(_statement(q), params).mappings()]


def _num(value: Any) -> int | float:
    if value is None:
        return 0
    return int(value) if float(value).is_integer() else float(value)


def _totals(rows: Sequence[Mapping[str, Any]], dims: Sequence[str]) -> dict[str, int | float]:
    totals: dict[str, int | float] = defaultdict(int)
    for row in rows:
        for col, value in row.items():
            if col not in dims:
                totals[col] += _num(value)
    return dict(totals)


def _value(k: KpiDef, totals: Mapping[str, int | float],
           empty: str = "") -> tuple[float | int | None, str | None]:
    num = totals.get(k.numerator, 0)
    if k.denominator is None:
        return num, None
    value = ratio(num, totals.get(k.denominator, 0))
    return value, None if value is not None else empty


def _breakdown(k: KpiDef, q: QueryDef, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        totals = _totals([row], q.dims)
        value, _ = _value(k, totals)
        out.append({"dims": {d: row.get(d) for d in q.dims}, "value": value,
                    "inputs": {c: totals[c] for c in _inputs_of(k, q)}})
    if "department" in q.dims:
        by_dept: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for row in rows:
            by_dept[row.get("department") or ""].append(row)
        for dept, group in sorted(by_dept.items()):
            totals = _totals(group, q.dims)
            value, _ = _value(k, totals)
            out.append({"dims": {"department": dept or None, "job_id": "*"}, "value": value,
                        "inputs": {c: totals.get(c, 0) for c in _inputs_of(k, q)}})
    return out


def _inputs_of(k: KpiDef, q: QueryDef) -> list[str]:
    cols = [k.numerator] + ([k.denominator] if k.denominator else [])
    return cols


def figures_from_rows(q: QueryDef, rows: Sequence[Mapping[str, Any]]) -> dict[str, Figure]:
    totals = _totals(rows, q.dims)
    out = {}
    for k in q.kpis:
        value, missing = _value(k, totals, q.empty)
        inputs = {c: totals.get(c, 0) for c in _inputs_of(k, q)}
        apart = {c: totals.get(c, 0) for c in q.apart}
        out[k.name] = figure(k.name, k.group, value, inputs=inputs, missing=missing, apart=apart,
                             breakdown=_breakdown(k, q, rows),
                             unit="yen" if k.numerator.endswith("_yen") and not k.is_rate else None)
    return out


def pending_figures(defined: set[str]) -> dict[str, Figure]:
    pending = PENDING_KPIS.items()
    return {n: figure(n, g, None, missing=PENDING_REASON) for n, g in pending if n not in defined}


def compute_kpis(conn: Connection, period: Period, settings: Settings,
                 queries: Sequence[QueryDef] | None = None, go_live: datetime | None = None,
                 ) -> tuple[dict[str, Figure], dict[str, list[Any]]]:
    """(figures by KPI name, raw rows by query name) for one period."""
    figures: dict[str, Figure] = {}
    tables: dict[str, list[Any]] = {}
    tune_transaction(conn)
    for q in queries if queries is not None else load_queries():
        rows = run_query(conn, q, period, settings, go_live)
        tables[q.name] = [{k: _json(v) for k, v in r.items()} for r in rows]
        figures.update(figures_from_rows(q, rows))
    figures.update(pending_figures(set(figures)))
    return figures, tables


def _json(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return _num(value)
