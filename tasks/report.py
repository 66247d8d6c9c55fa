"""Prefect tasks for the `roi-report` flow: build the report (one batch), write the files, mail the PDF to
the internal recipients (a month's report only), publish it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from junkan.count_labels import ja_en
from junkan.db.errors import database_errors_scrubbed
from junkan.reports.build import Report, build_report
from junkan.reports.distribution import distribute, distribution_note, is_monthly
from junkan.reports.labels import group_label, text
from junkan.reports.periods import Period
from junkan.reports.render import period_text, reader_rows, to_markdown, write_report
from junkan.reports.sections import sections
from junkan.runtime import runtime
from tasks.common import RESULT_SERIALIZER, retry_transient
from tasks.limits import throttled_backend

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


@task(name="mail-report", retries=1, retry_delay_seconds=30, cache_policy=NO_CACHE,
      result_serializer=RESULT_SERIALIZER, retry_condition_fn=retry_transient)
@database_errors_scrubbed
def mail(report: Report, files: list[str], lang: str = "ja") -> dict[str, Any]:
    """Mail the month's PDF to `report.recipients` through the outbox. Safe to retry: each recipient gets
    a period's mail once (the outbox's logical key), whatever runs again. Counts and one sentence only:
    never an address."""
    if not is_monthly(report):  # only a whole month is mailed: no PDF to find, no mail backend to open
        return {"note": distribution_note(None, lang), "counts": {}}
    rt = runtime()
    pdf = next(Path(f) for f in files if f.endswith(".pdf"))
    with throttled_backend(rt.settings, rt.clock.now) as backend:
        run = distribute(rt.engine, rt.settings, rt.clock, report, pdf, lang,
                         backend=backend)
    return {"note": distribution_note(run, lang), "counts": run.counts() if run else {}}


@task(name="publish-report", cache_policy=NO_CACHE)
def publish(report: Report, lang: str = "ja", mail_note: str = "") -> dict[str, Any]:
    """A markdown summary (headline and changes, and what was mailed) and one table artifact per section,
    under stable keys. Artifacts carry aggregate figures only: no names, no addresses, no per-candidate
    rows."""
    summary = to_markdown(report, lang, summary_only=True)
    if mail_note:
        summary += f"\n\n## {text('mail', lang)}\n\n{mail_note}"
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=summary,
                             description=ja_en(f"採用 KPI・ROI レポート {period_text(report, 'ja')}",
                                               f"KPI and ROI report {period_text(report, 'en')}"))
    keys = []
    for group, section in sections(report.kpis, lang, report.previous).items():
        key = f"{ARTIFACT_KEY}-{group.replace('_', '-')}"
        create_table_artifact(key=key, table=reader_rows(section["rows"], lang),
                              description=ja_en(group_label(group, 'ja'), group_label(group, 'en')))
        keys.append(key)
    return {"summary": ARTIFACT_KEY, "tables": keys}
