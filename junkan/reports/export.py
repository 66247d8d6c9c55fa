"""The report as Markdown (the Prefect summary artifact), CSV (UTF-8 with a BOM, for Excel) and JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from junkan.reports.build import Report
from junkan.reports.labels import Lang, text
from junkan.reports.sections import breakdowns, headline, sections

_COLS = ("kpi", "value", "inputs", "previous", "change", "note")


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(_md_cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return lines


def to_markdown(report: Report, lang: Lang = "ja", *, summary_only: bool = False) -> str:
    p = report.period
    lines = [f"# {text('title', lang)}", "",
             f"{text('period', lang)}: {p.start.isoformat()} – {p.end.isoformat()}", ""]
    if report.previous_period is not None:
        pp = report.previous_period
        lines += [f"{text('previous', lang)}: {pp.start.isoformat()} – {pp.end.isoformat()}", ""]
    lines += [f"## {text('headline', lang)}", "",
              *md_table(headline(report.kpis, lang, report.previous), _COLS)]
    if summary_only:
        return "\n".join(lines)
    for section in sections(report.kpis, lang, report.previous).values():
        lines += ["", f"## {section['title']}", "", *md_table(section["rows"], _COLS)]
    return "\n".join(lines)


def to_csv(report: Report, lang: Lang = "ja") -> bytes:
    """Every table in one sheet: a `section` column says which; UTF-8 with a BOM so Excel reads Japanese."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["section", "key", *_COLS])
    for group, section in sections(report.kpis, lang, report.previous).items():
        for row in section["rows"]:
            writer.writerow([group, row["key"], *(row[c] for c in _COLS)])
    for key, table in breakdowns(report.kpis, lang).items():
        writer.writerow([])
        writer.writerow(["section", *table["columns"]])
        for row in table["rows"]:
            writer.writerow([key, *(row.get(c, "") for c in table["columns"])])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_json(report: Report) -> str:
    return json.dumps(report.as_json(), ensure_ascii=False, indent=2, sort_keys=False, default=str)
