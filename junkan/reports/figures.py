"""A KPI's figure as the report carries it: its value, the inputs that fed it, or why it has none."""

from __future__ import annotations

from typing import Any

Figure = dict[str, Any]


def unit_of(name: str) -> str:
    if name.endswith(("_rate", "_ratio")) or name == "pool_eligibility":
        return "rate"
    if name.endswith(("_value", "_yen", "cost_per_hire", "cost_per_hire_comparable")) or name.startswith(
        "savings_"
    ):
        return "yen"
    if name.endswith(("_vs_baseline", "_change", "roi", "_lift")):
        return "ratio"
    return "count"


def figure(name: str, group: str, value: float | int | None, *, inputs: dict[str, Any] | None = None,
           missing: str | None = None, apart: dict[str, Any] | None = None,
           breakdown: list[dict[str, Any]] | None = None, unit: str | None = None) -> Figure:
    """A JSON-safe figure. `value` None must come with `missing`: the reason shown instead of a number."""
    if value is None and not missing:
        raise ValueError(f"KPI {name}: a missing value needs a reason")
    return {
        "name": name,
        "group": group,
        "unit": unit or unit_of(name),
        "value": value,
        "missing": missing if value is None else None,
        "inputs": inputs or {},
        "apart": apart or {},
        "breakdown": breakdown or [],
    }


def ratio(numerator: float | int, denominator: float | int) -> float | None:
    return None if not denominator else numerator / denominator
