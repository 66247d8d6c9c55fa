"""Cost per hire (ISO/TS 30407:2017) and ROI, from the configured monthly cost inputs.

- external costs = advertising + agency fees + other external costs;
- internal costs = the recruiters' time + other internal costs;
- CPHI (internal form) = (external + internal) / hires: every cost the organisation bears;
- CPHC (comparable form) = (external + the recruiters' time) / hires: the narrower set that is comparable
  between organisations (other internal costs, e.g. hiring managers' time, left out);
- hire-cost ratio = (external + internal) / first-year pay of the hires, where pay is given;
- savings from pool hires = hires from the pool × the baseline cost per hire (each such hire is one the
  usual channels did not have to pay for);
- ROI = (savings from pool hires + credit value − running cost) / running cost.

Costs are monthly: a period that does not cover whole months has no cost figures ("—", with the reason),
never pro-rated guesses.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from junkan.config import CostInputs, Settings
from junkan.reports.figures import Figure, figure, ratio
from junkan.reports.periods import Period

COST_FIELDS = ("advertising_yen", "agency_fees_yen", "other_external_yen", "recruiter_time_yen",
               "other_internal_yen", "running_cost_yen", "first_year_pay_yen")
#: Inputs that are zero unless given ("no other costs"); the others must be stated to be used.
_ZERO_UNLESS_GIVEN = ("other_external_yen", "other_internal_yen")
#: The cost file's Japanese headers (the template the report offers uses them; English ones are read too).
HEADERS_JA: dict[str, str] = {
    "month": "月", "advertising_yen": "広告費（円）", "agency_fees_yen": "人材紹介手数料（円）",
    "other_external_yen": "その他の社外費用（円）", "recruiter_time_yen": "採用担当者の人件費（円）",
    "other_internal_yen": "その他の社内費用（円）", "running_cost_yen": "Junkan の運用費（円）",
    "first_year_pay_yen": "採用者の初年度年収（円）",
}
_FROM_JA = {v: k for k, v in HEADERS_JA.items()}


class CostFileError(ValueError):
    """The monthly-cost CSV cannot be used; the message names the file, the row and the column."""


def load_costs_csv(path: Path) -> list[CostInputs]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CostFileError(f"{path}: cannot read the cost file ({exc.strerror})") from None
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames:
        reader.fieldnames = [_FROM_JA.get(c.strip(), c.strip()) for c in reader.fieldnames]
    unknown = [c for c in reader.fieldnames or [] if c not in ("month", *COST_FIELDS)]
    if not reader.fieldnames or "month" not in reader.fieldnames or unknown:
        raise CostFileError(f"{path}: needs a 'month' column and only {', '.join(COST_FIELDS)}"
                            + (f"; unknown column(s): {', '.join(unknown)}" if unknown else ""))
    out = []
    for line, row in enumerate(reader, start=2):
        values = {k: (v.strip() or None) for k, v in row.items() if k}
        try:
            out.append(CostInputs(**values))  # type: ignore[arg-type]
        except ValidationError as exc:
            col = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise CostFileError(f"{path}: row {line}, column {col}: {exc.errors()[0]['msg']}") from None
    return out


def cost_template(months: list[str]) -> str:
    """A cost CSV to fill in (Japanese headers, one empty row per month), for `report.costs_csv`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([HEADERS_JA[f] for f in ("month", *COST_FIELDS)])
    for m in months:
        writer.writerow([m, *("" for _ in COST_FIELDS)])
    return buf.getvalue()


def monthly_costs(settings: Settings) -> dict[str, CostInputs]:
    """Cost inputs by "YYYY-MM": the TOML list, then the CSV (which wins for the same month)."""
    costs = {c.month: c for c in settings.report.costs}
    if settings.report.costs_csv:
        costs.update({c.month: c for c in load_costs_csv(settings.report.costs_csv)})
    return costs


def period_costs(period: Period, costs: dict[str, CostInputs]) -> tuple[dict[str, int | None], list[str]]:
    """Each cost input summed over the period's months (None when any month lacks it), and the months
    that have no cost row at all. A period not made of whole months has no costs."""
    months = period.months()
    whole = months[0].start == period.start and months[-1].end == period.end
    labels = [m.label for m in months]
    absent = [m for m in labels if m not in costs]
    totals: dict[str, int | None] = {}
    for field in COST_FIELDS:
        values = []
        for m in labels:
            v = getattr(costs[m], field) if m in costs else None
            values.append(0 if v is None and field in _ZERO_UNLESS_GIVEN and m in costs else v)
        given = [v for v in values if v is not None]
        totals[field] = sum(given) if whole and values and len(given) == len(values) else None
    if not whole:
        absent = ["(the period does not cover whole months; costs are monthly)"]
    return totals, absent


def _missing(names: list[str], absent: list[str]) -> str:
    text = "missing input: " + ", ".join(names)
    return text + (f" (no cost row for {', '.join(absent)})" if absent else "")


def cost_figures(kpis: dict[str, Figure], costs: dict[str, int | None], absent: list[str],
                 baseline_cph: tuple[float | None, str]) -> dict[str, Figure]:
    """The cost-per-hire and ROI figures; `baseline_cph` is (value or None, where it comes from)."""
    out: dict[str, Figure] = {}
    hires = kpis["hires"]["value"]
    external = ("advertising_yen", "agency_fees_yen", "other_external_yen")
    internal = ("recruiter_time_yen", "other_internal_yen")

    def total(fields: tuple[str, ...]) -> int | None:
        values = [costs.get(f) for f in fields]
        return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]

    def cph(name: str, fields: tuple[str, ...]) -> Figure:
        inputs: dict[str, Any] = {f: costs.get(f) for f in fields} | {"hires": hires}
        lacking = [f for f in fields if costs.get(f) is None]
        if lacking:
            return figure(name, "cost", None, inputs=inputs, missing=_missing(lacking, absent))
        value = ratio(total(fields) or 0, hires or 0)
        return figure(name, "cost", value, inputs=inputs, missing="no hires in the period", unit="yen")

    out["cost_per_hire"] = cph("cost_per_hire", external + internal)
    out["cost_per_hire_comparable"] = cph("cost_per_hire_comparable", (*external, "recruiter_time_yen"))

    all_costs = total(external + internal)
    pay = costs.get("first_year_pay_yen")
    ratio_inputs = {"costs_yen": all_costs, "first_year_pay_yen": pay}
    lacking = [f for f in (*external, *internal, "first_year_pay_yen") if costs.get(f) is None]
    out["hire_cost_ratio"] = (
        figure("hire_cost_ratio", "cost", None, inputs=ratio_inputs, missing=_missing(lacking, absent))
        if lacking else figure("hire_cost_ratio", "cost", ratio(all_costs or 0, pay or 0),
                               inputs=ratio_inputs, missing="first-year pay is zero"))

    current = out["cost_per_hire"]["value"]
    base, source = baseline_cph
    change_inputs = {"cost_per_hire": current, "baseline_cost_per_hire": base, "baseline": source}
    if current is None:
        out["cost_per_hire_change"] = figure("cost_per_hire_change", "cost", None, inputs=change_inputs,
                                             missing=str(current_missing(out)))
    elif base is None:
        out["cost_per_hire_change"] = figure("cost_per_hire_change", "cost", None, inputs=change_inputs,
                                             missing="missing input: baseline cost per hire")
    else:
        out["cost_per_hire_change"] = figure("cost_per_hire_change", "cost", ratio(current - base, base),
                                             inputs=change_inputs, missing="baseline cost per hire is zero")

    credit_value = kpis["credit_value"]["value"]
    out["savings_partner_credits"] = figure(
        "savings_partner_credits", "cost", credit_value,
        inputs={"credits_redeemed": kpis["credits_redeemed"]["value"], "credit_value": credit_value},
        unit="yen")
    out["savings_pool_hires"] = _pool_savings(kpis["hires_from_pool"]["value"], base, source)
    out["roi"] = _roi(out["savings_pool_hires"], credit_value, costs.get("running_cost_yen"), absent)
    return out


def current_missing(out: dict[str, Figure]) -> str | None:
    missing = out["cost_per_hire"]["missing"]
    return missing if isinstance(missing, str) else None


def _pool_savings(hires_from_pool: int | None, base: float | None, source: str) -> Figure:
    inputs = {"hires_from_pool": hires_from_pool, "baseline_cost_per_hire": base, "baseline": source}
    if base is None:
        return figure("savings_pool_hires", "cost", None, inputs=inputs,
                      missing="missing input: baseline cost per hire")
    return figure("savings_pool_hires", "cost", (hires_from_pool or 0) * base, inputs=inputs, unit="yen")


def _roi(pool_savings: Figure, credit_value: float | None, running: int | None, absent: list[str]) -> Figure:
    saved = pool_savings["value"]
    inputs = {"savings_pool_hires": saved, "credit_value": credit_value, "running_cost_yen": running}
    lacking = []
    if running is None:
        lacking.append("running_cost_yen")
    if saved is None:
        lacking.append("baseline cost per hire")
    if lacking:
        return figure("roi", "cost", None, inputs=inputs,
                      missing=_missing(lacking, absent if running is None else []))
    if not running:
        return figure("roi", "cost", None, inputs=inputs, missing="running cost is zero")
    if not saved and not credit_value:
        # (0 − cost) / cost = −100% would read as a loss; it only means nothing has been saved *yet*.
        return figure("roi", "cost", None, inputs=inputs,
                      missing="no savings recorded yet (no hire from the pool, no credit used)")
    return figure("roi", "cost", (saved + (credit_value or 0) - running) / running, inputs=inputs)
