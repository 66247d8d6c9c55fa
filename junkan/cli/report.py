"""`junkan report`: the KPI and ROI report for a period, without Prefect."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from junkan.cli.days import command_runtime, parse_day
from junkan.reports.build import build_report
from junkan.reports.costs import CostFileError
from junkan.reports.periods import Period
from junkan.reports.render import FORMATS, render, write_report


def report(
    date_from: Annotated[str, typer.Option("--from", help="First day of the period (YYYY-MM-DD, local).")],
    date_to: Annotated[str, typer.Option("--to", help="Last day of the period, inclusive (YYYY-MM-DD).")],
    lang: Annotated[str, typer.Option("--lang", help="ja or en.")] = "ja",
    fmt: Annotated[str, typer.Option("--format", help="html, pdf, xlsx, csv, json or md.")] = "html",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write; '-' for standard output. "
                                  "Default: <report.output_dir>/roi-<period>.<format>.")
    ] = None,
    recompute: Annotated[
        bool, typer.Option("--recompute", help="Replace the stored snapshot of this period.")
    ] = False,
) -> None:
    """Compute (or read the stored snapshot of) the period's KPIs and write the report."""
    if lang not in ("ja", "en"):
        raise typer.BadParameter(f"unknown language {lang!r} (ja or en)", param_hint="--lang")
    if fmt not in FORMATS:
        raise typer.BadParameter(f"unknown format {fmt!r} ({', '.join(FORMATS)})", param_hint="--format")
    try:
        period = Period(parse_day(date_from, "--from"), parse_day(date_to, "--to"))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--to") from None
    rt = command_runtime()
    settings = rt.settings
    try:
        built = build_report(rt.engine, settings, period, recompute=recompute)
    except CostFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if out is not None and str(out) == "-":
        sys.stdout.buffer.write(render(built, fmt, lang))  # type: ignore[arg-type]
        return
    path = write_report(built, fmt, lang, out, settings.report.output_dir)  # type: ignore[arg-type]
    state = "computed" if built.computed_now else "from the stored snapshot"
    typer.echo(f"report {period.start} – {period.end} ({state}) written to {path}")
