"""The report's tables, one per section, as plain rows: what the HTML, CSV, Markdown and the Prefect
table artifacts all show. Every figure sits next to its inputs, or next to the reason it has none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from junkan.reports.figures import Figure
from junkan.reports.labels import Lang, fmt, fmt_input, group_label, kpi_label, missing_text, text
from junkan.reports.registry import kpi_names

SECTION_ORDER = ("funnel", "follow_up", "email", "partner", "pool", "reapplication", "cost")
HEADLINE = ("applications", "hires", "follow_up_rate", "reapplication_rate", "reapplication_rate_vs_baseline",
            "reapplications_via_recontact", "hires_from_pool", "recontact_lift", "cost_per_hire",
            "cost_per_hire_change", "credits_earned", "credit_value", "roi")


def _inputs_text(f: Figure) -> str:
    parts = [f"{k}={fmt_input(v)}" for k, v in f["inputs"].items()]
    parts += [f"{k}={fmt_input(v)}" for k, v in f["apart"].items()]
    return ", ".join(parts)


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
    """The value; a lift also carries its 95% confidence interval."""
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
        "inputs": _inputs_text(f),
        "previous": fmt(prev_value, f["unit"], f["name"]),
        "change": change(f["value"], prev_value, f["unit"]),
        "note": missing_text(f["missing"], lang),
    }


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
                entry = table.setdefault(ident, {d: "" if v is None else str(v) for d, v in zip(dims, ident,
                                                                                               strict=True)})
                entry[kpi_label(n, lang)] = fmt(row["value"], kpis[n]["unit"], n)
        rows = [table[k] for k in sorted(table, key=lambda t: tuple("" if v is None else str(v) for v in t))]
        out[key] = {"columns": [*dims, *[kpi_label(n, lang) for n in names if n in kpis]], "rows": rows}
    return out
