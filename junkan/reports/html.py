"""The self-contained HTML report: one file, inline CSS and SVG, no script and no URL of any kind."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from junkan.reports.build import Report
from junkan.reports.charts import all_charts
from junkan.reports.labels import TEXT, Lang
from junkan.reports.sections import breakdowns, headline, sections

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates" / "reports"


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def to_html(report: Report, lang: Lang = "ja") -> str:
    t = {k: (v[0] if lang == "ja" else v[1]) for k, v in TEXT.items()}
    inputs = {k: (json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v)
              for k, v in report.inputs.items()}
    return _env().get_template("report.html.j2").render(
        lang=lang, t=t, period=report.period, previous_period=report.previous_period,
        computed_at=report.computed_at.isoformat(timespec="seconds"), computed_now=report.computed_now,
        headline=headline(report.kpis, lang, report.previous),
        sections=sections(report.kpis, lang, report.previous),
        breakdowns=breakdowns(report.kpis, lang),
        charts=all_charts(report.kpis, report.trend, lang),
        inputs=inputs,
    )


def default_filename(report: Report, fmt: str = "html") -> str:
    """reports/roi-YYYY-MM.html for a month; the period's label otherwise."""
    return f"roi-{report.period.label}.{fmt}"
