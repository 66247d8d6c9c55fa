"""Writes a built report in one format; the single entry point of the CLI, the flow task and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from junkan.files import write_private
from junkan.reports.build import Report
from junkan.reports.export import to_csv, to_json, to_markdown
from junkan.reports.html import default_filename, to_html
from junkan.reports.labels import Lang

Format = Literal["html", "csv", "json", "md"]
FORMATS: tuple[str, ...] = ("html", "csv", "json", "md")


def render(report: Report, fmt: Format, lang: Lang = "ja") -> bytes:
    if fmt == "html":
        return to_html(report, lang).encode("utf-8")
    if fmt == "csv":
        return to_csv(report, lang)
    if fmt == "json":
        return to_json(report).encode("utf-8")
    if fmt == "md":
        return to_markdown(report, lang).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def write_report(report: Report, fmt: Format, lang: Lang, out: Path | None, output_dir: Path) -> Path:
    """Write to `out`, or to output_dir/roi-<period>.<fmt>; returns the path written."""
    path = out if out is not None else output_dir / default_filename(report, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, render(report, fmt, lang))
    return path
