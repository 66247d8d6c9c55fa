"""Prefect tasks for the `roi-report` flow: build the report (one batch), write the files, publish it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from junkan.reports.build import Report, build_report
from junkan.reports.periods import Period
from junkan.reports.render import period_text, reader_rows, to_markdown, write_report
from junkan.reports.sections import sections
from junkan.runtime import runtime

ARTIFACT_KEY = "roi-report"


@task(name="build-report", cache_policy=NO_CACHE)
def build(start: date, end: date, recompute: bool = False) -> Report:
    rt = runtime()
    return build_report(rt.engine, rt.settings, Period(start, end), recompute=recompute)


@task(name="write-report", cache_policy=NO_CACHE)
def write(report: Report, lang: str = "ja",
          formats: tuple[str, ...] = ("html", "pdf", "xlsx", "json")) -> list[str]:
    out_dir: Path = runtime().settings.report.output_dir
    return [str(write_report(report, f, lang, None, out_dir)) for f in formats]  # type: ignore[arg-type]


@task(name="publish-report", cache_policy=NO_CACHE)
def publish(report: Report, lang: str = "ja") -> dict[str, Any]:
    """A markdown summary (headline and changes) and one table artifact per section, under stable keys.
    Artifacts carry aggregate figures only: no names, no addresses, no per-candidate rows."""
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=to_markdown(report, lang, summary_only=True),
                             description=f"採用 KPI・ROI レポート {period_text(report, 'ja')} / "
                             f"KPI and ROI report {period_text(report, 'en')}")
    keys = []
    for group, section in sections(report.kpis, lang, report.previous).items():
        key = f"{ARTIFACT_KEY}-{group.replace('_', '-')}"
        create_table_artifact(key=key, table=reader_rows(section["rows"], lang), description=section["title"])
        keys.append(key)
    return {"summary": ARTIFACT_KEY, "tables": keys}
