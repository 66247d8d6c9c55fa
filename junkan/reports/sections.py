"""The report's tables, one per section, as plain rows: what the HTML, CSV, Markdown and the Prefect
table artifacts all show. Every figure sits next to its inputs, or next to the reason it has none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from junkan.reports.figures import Figure
from junkan.reports.labels import (
    RATE_INPUTS,
    YEN_INPUTS,
    Lang,
    definition,
    dim_value,
    fmt,
    fmt_input,
    group_label,
    input_label,
    kpi_label,
    missing_text,
    text,
)
from junkan.reports.registry import kpi_names

SECTION_ORDER = ("funnel", "follow_up", "email", "partner", "pool", "reapplication", "cost",
                 "preference_page")
HEADLINE = ("applications", "hires", "follow_up_rate", "reapplication_rate", "reapplication_rate_vs_baseline",
            "reapplications_via_recontact", "hires_from_pool", "recontact_lift", "cost_per_hire",
            "cost_per_hire_change", "credits_earned", "credit_value", "roi")
#: The first screen's cards: is the loop working?
CARDS = ("follow_up_rate", "reapplication_rate", "credits_earned", "credit_value", "hires_from_pool",
         "cost_per_hire", "roi")
#: The baseline each card is compared with, where there is one: (figure holding it, input holding it).
_BASELINE_OF = {"reapplication_rate": ("reapplication_rate_vs_baseline", "baseline_reapplication_rate"),
                "cost_per_hire": ("cost_per_hire_change", "baseline_cost_per_hire")}


def _input_value(key: str, value: Any) -> str:
    if key in YEN_INPUTS and isinstance(value, int | float):
        return f"¥{round(value):,}"
    if key in RATE_INPUTS and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    return fmt_input(value)


def _inputs_text(f: Figure, lang: Lang) -> str:
    """The counts behind a figure in the reader's words; inputs without a name (sources, internals) are
    left out rather than shown as identifiers."""
    parts = []
    for k, v in [*f["inputs"].items(), *f["apart"].items()]:
        label = input_label(k, lang)
        if label is not None and not isinstance(v, str):
            parts.append(f"{label} {_input_value(k, v)}")
    return "、".join(parts) if lang == "ja" else ", ".join(parts)


def change(current: Any, previous: Any, unit: str) -> str:
    """Change against the previous period: points for rates, a signed difference otherwise."""
    if current is None or previous is None:
        return "—"
    if unit == "rate":
        return f"{(current - previous) * 100:+.1f} pt"
    if unit in ("count", "yen"):
        diff = current - previous
        return f"{'¥' if unit == 'yen' else ''}{diff:+,.0f}"
    return f"{(current - previous) * 100:+.1f} pt"


def _value_text(f: Figure, lang: Lang) -> str:
    """The value (「データなし」 without one); a lift also carries its 95% confidence interval."""
    if f["value"] is None:
        return text("no_data", lang)
    value = fmt(f["value"], f["unit"], f["name"])
    low, high = f["inputs"].get("ci95_low"), f["inputs"].get("ci95_high")
    if f["value"] is not None and low is not None and high is not None:
        value += f" ({text('ci95', lang)} {low:.2f}–{high:.2f}×)"
    return value


def kpi_row(f: Figure, lang: Lang, previous: dict[str, Figure] | None) -> dict[str, str]:
    prev = (previous or {}).get(f["name"])
    prev_value = prev["value"] if prev else None
    return {
        "key": f["name"],
        "kpi": kpi_label(f["name"], lang),
        "value": _value_text(f, lang),
        "inputs": _inputs_text(f, lang),
        "previous": fmt(prev_value, f["unit"], f["name"]),
        "change": change(f["value"], prev_value, f["unit"]),
        "note": missing_text(f["missing"], lang),
        "definition": definition(f["name"], lang),
    }


def cards(kpis: dict[str, Figure], lang: Lang, previous: dict[str, Figure] | None) -> list[dict[str, str]]:
    """The headline cards: value, change against the previous period and against the baseline."""
    out = []
    for name in CARDS:
        if name not in kpis:
            continue
        row = kpi_row(kpis[name], lang, previous)
        baseline = ""
        if name in _BASELINE_OF:
            holder, key = _BASELINE_OF[name]
            base = kpis.get(holder, {}).get("inputs", {}).get(key)
            if base is not None:
                baseline = f"{text('baseline', lang)} {_input_value(key, base)}"
        row["baseline"] = baseline
        out.append(row)
    return out


def ordered_names(kpis: dict[str, Figure]) -> list[str]:
    registered = kpi_names()
    return [n for n in registered if n in kpis] + [n for n in kpis if n not in registered]


def sections(kpis: dict[str, Figure], lang: Lang,
             previous: dict[str, Figure] | None = None) -> dict[str, dict[str, Any]]:
    """{group: {"title": …, "rows": [...]}} in report order."""
    out: dict[str, dict[str, Any]] = {}
    names = ordered_names(kpis)
    for group in SECTION_ORDER:
        rows = [kpi_row(kpis[n], lang, previous) for n in names if kpis[n]["group"] == group]
        if rows:
            out[group] = {"title": group_label(group, lang), "rows": rows}
    return out


def headline(kpis: dict[str, Figure], lang: Lang, previous: dict[str, Figure] | None) -> list[dict[str, str]]:
    return [kpi_row(kpis[n], lang, previous) for n in HEADLINE if n in kpis]


def breakdowns(kpis: dict[str, Figure], lang: Lang) -> dict[str, dict[str, Any]]:
    """Per-dimension tables: funnel and follow-up by department, e-mail by kind and template, partners."""
    specs: dict[str, tuple[list[str], tuple[str, ...], Callable[[dict[str, Any]], bool]]] = {
        "by_department": (["applications", "rejections", "hires", "follow_up_rate"], ("department",),
                          lambda d: d.get("job_id") == "*"),
        "email": (["email_delivered_rate", "email_bounced_rate", "email_opened_rate", "email_clicked_rate"],
                  ("kind", "template_name", "template_version"), lambda d: True),
        "partners": (["partner_link_clicks", "partner_registrations", "partner_registration_rate",
                      "credits_earned", "credits_redeemed", "credit_value"], ("partner",), lambda d: True),
    }
    out: dict[str, dict[str, Any]] = {}
    for key, (names, dims, keep) in specs.items():
        table: dict[tuple[Any, ...], dict[str, str]] = {}
        for n in names:
            if n not in kpis:
                continue
            for row in kpis[n]["breakdown"]:
                if not keep(row["dims"]):
                    continue
                ident = tuple(row["dims"].get(d) for d in dims)
                entry = table.setdefault(ident, {d: dim_value(d, v, lang) for d, v in zip(dims, ident,
                                                                                         strict=True)})
                entry[kpi_label(n, lang)] = fmt(row["value"], kpis[n]["unit"], n)
        rows = [table[k] for k in sorted(table, key=lambda t: tuple("" if v is None else str(v) for v in t))]
        out[key] = {"title": text(f"breakdown_{key}", lang),
                    "columns": [*dims, *[kpi_label(n, lang) for n in names if n in kpis]],
                    "headers": [*(text(f"dim_{d}", lang) for d in dims),
                                *[kpi_label(n, lang) for n in names if n in kpis]],
                    "rows": rows}
    return out
