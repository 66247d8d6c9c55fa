"""The report in every format a reader or a machine opens: self-contained HTML (inline CSS and SVG, no
script, no URL), PDF (the HTML printed by headless Chromium), Excel, Markdown (the Prefect summary), CSV
(UTF-8 with a BOM, for Excel) and JSON; and the one entry point that writes a file.

Every date and time is written in the business time zone; the headers and the words are the reader's
language; numbers stay numbers in Excel and JSON.
"""

from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, select_autoescape

from junkan.files import write_private
from junkan.reports.build import Report
from junkan.reports.charts import all_charts
from junkan.reports.costs import cost_template
from junkan.reports.labels import TEXT, Lang, definition, input_label, kpi_label, text
from junkan.reports.periods import Period, business_zone
from junkan.reports.sections import breakdowns, cards, kpi_row, sections

Format = Literal["html", "pdf", "xlsx", "csv", "json", "md"]
FORMATS: tuple[str, ...] = ("html", "pdf", "xlsx", "csv", "json", "md")
TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates" / "reports"
#: Debian's Chromium, which prints the PDF (installed by `make chromium`; never a downloaded browser).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")

#: Columns of a figure's row and their headers.
_COLS = ("kpi", "value", "previous", "change", "inputs", "note")
_HEADERS = {"kpi": ("指標", "Figure"), "value": ("値", "Value"), "previous": ("前期間", "Previous period"),
            "change": ("前期間比", "Change"), "inputs": ("内訳", "Counts"), "note": ("備考", "Note"),
            "baseline": ("導入前", "Baseline"), "definition": ("定義", "Definition")}


def header(col: str, lang: Lang) -> str:
    pair = _HEADERS[col]
    return pair[0] if lang == "ja" else pair[1]


# -- words for dates ---------------------------------------------------------------------------------------

def period_text(report: Report, lang: Lang) -> str:
    """「2026年10月」, 「2026年12月（7日時点）」, a quarter or a range of days."""
    p, cut = report.period, report.cut_from is not None
    whole = Period(p.start, report.cut_from) if report.cut_from else p
    label = whole.label
    if lang == "ja":
        if label.count("-") == 1 and "Q" not in label:
            out = f"{p.start.year}年{p.start.month}月"
        elif "Q" in label:
            out = f"{p.start.year}年 第{label[-1]}四半期（{p.start.month}月〜{whole.end.month}月）"
        else:
            # A range cut at the day computed for ends there: 「2026年1月1日〜2026年12月8日時点」.
            return f"{_day_ja(p.start)}〜{_day_ja(p.end)}" + ("時点" if cut else "")
        return out + (f"（{text('as_of', lang).format(day=_day_ja(p.end))}）" if cut else "")
    if label.count("-") == 1 and "Q" not in label:
        out = f"{p.start:%B %Y}"
    elif "Q" in label:
        out = f"Q{label[-1]} {p.start.year}"
    else:
        out = f"{p.start:%d %B %Y} – {whole.end:%d %B %Y}"
    return out + (f" ({text('as_of', lang).format(date=f'{p.end:%d %B %Y}')})" if cut else "")


def _day_ja(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def computed_text(report: Report, lang: Lang) -> str:
    local = report.computed_at.astimezone(business_zone(report.timezone))
    if lang == "ja":
        return f"{_day_ja(local.date())} {local:%H:%M}（{report.timezone}）"
    return f"{local:%d %B %Y %H:%M} ({report.timezone})"


def go_live_text(report: Report, lang: Lang) -> str:
    if report.go_live is None:
        return text("go_live_queued" if report.go_live_source == "queued" else "go_live_none", lang)
    day = report.go_live.astimezone(business_zone(report.timezone)).date()
    source = text(f"go_live_{report.go_live_source}", lang)
    return f"{text('go_live', lang)}: {_day_ja(day) if lang == 'ja' else f'{day:%d %B %Y}'}（{source}）" \
        if lang == "ja" else f"{text('go_live', lang)}: {day:%d %B %Y} ({source})"


def settings_needed(report: Report, lang: Lang) -> list[dict[str, str]]:
    """Each missing setting once: what it is, how to set it, and a template where one helps."""
    out = []
    missing = report.settings_missing
    sep = "、" if lang == "ja" else ", "
    if "costs" in missing:
        fields = sep.join(input_label(f, lang) or f for f in missing["costs"]["fields"])
        months = [m for m in missing["costs"]["months"] if not m.startswith("(")] or [
            m.label for m in report.period.months()]
        out.append({"what": text("need_costs", lang).format(fields=fields, months=sep.join(months)),
                    "template": cost_template(months)})
    for key in ("baseline_cost_per_hire", "baseline_reapplication_rate", "go_live"):
        if key in missing:
            out.append({"what": text(f"need_{key}", lang), "template": ""})
    return out


def _definitions(kpis: dict[str, Any], lang: Lang) -> list[dict[str, str]]:
    return [{"key": n, "kpi": kpi_label(n, lang), "definition": definition(n, lang)}
            for n in kpis if definition(n, lang)]


# -- HTML and PDF ------------------------------------------------------------------------------------------

def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def to_html(report: Report, lang: Lang = "ja") -> str:
    t = {k: (v[0] if lang == "ja" else v[1]) for k, v in TEXT.items()}
    secs = sections(report.kpis, lang, report.previous)
    defs = _definitions({n: None for s in secs.values() for n in (r["key"] for r in s["rows"])}, lang)
    numbers = {d["key"]: i for i, d in enumerate(defs, start=1)}
    history = report.kpis.get("follow_up_rate", {}).get("apart", {}).get("before_go_live", 0)
    return _env().get_template("report.html.j2").render(
        lang=lang, t=t, headers={c: header(c, lang) for c in _HEADERS},
        period_text=period_text(report, lang), computed=computed_text(report, lang),
        timezone_note=text("timezone", lang).format(tz=report.timezone), computed_now=report.computed_now,
        previous_text=None if report.previous_period is None else _range_text(report.previous_period, lang),
        go_live=go_live_text(report, lang),
        history_note=text("history_note", lang).format(n=history) if history else "",
        cards=cards(report.kpis, lang, report.previous), sections=secs,
        breakdowns={k: v for k, v in breakdowns(report.kpis, lang).items() if v["rows"]},
        charts=all_charts(report.kpis, report.trend, lang), lift=_lift_row(report, lang),
        needed=settings_needed(report, lang), definitions=defs, numbers=numbers,
    )


def _lift_row(report: Report, lang: Lang) -> dict[str, str] | None:
    f = report.kpis.get("recontact_lift")
    if f is None:
        return None
    return kpi_row(f, lang, report.previous)


def _range_text(p: Period, lang: Lang) -> str:
    if lang == "ja":
        return f"{_day_ja(p.start)}〜{_day_ja(p.end)}"
    return f"{p.start:%d %B %Y} – {p.end:%d %B %Y}"


def html_to_pdf(html: str) -> bytes:
    """A4 PDF of the HTML, printed by Debian's Chromium through Playwright: fonts embedded (subset),
    the page breaks of the print style sheet kept."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # an optional extra: the one-line reason, not a traceback
        raise RuntimeError("PDF needs the `pdf` extra (pip install 'junkan[pdf]') and Debian's chromium "
                           "(make chromium)") from None
    if not CHROMIUM.exists():
        raise RuntimeError(f"PDF needs Debian's chromium at {CHROMIUM} (make chromium)")
    # Playwright's sync API refuses to run where an event loop is running (a Prefect task, a test that
    # already drives a browser): its own thread has none.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_print, html).result()


def _print(html: str) -> bytes:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.set_content(html, wait_until="load")
            page.evaluate("document.fonts.ready")
            return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()


# -- Excel -------------------------------------------------------------------------------------------------

_NUMBER_FORMATS = {"rate": "0.0%", "yen": '"¥"#,##0', "count": "#,##0"}


def _number_format(f: dict[str, Any]) -> str:
    if f["unit"] == "ratio":
        return '0.00"×"' if f["name"].endswith(("_vs_baseline", "_lift")) else "+0.0%;-0.0%;0.0%"
    return _NUMBER_FORMATS.get(f["unit"], "#,##0.##")


def to_xlsx(report: Report, lang: Lang = "ja") -> bytes:
    """One sheet per section, Japanese headers, numbers as numbers and dates as dates, the definitions on
    their own sheet: for HR's own pivots."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    bold = Font(bold=True)
    info = wb.active
    assert info is not None
    info.title = text("xlsx_about", lang)[:31]
    for row in ((text("title", lang),), (text("period", lang), report.period.start, report.period.end),
                (text("computed_at", lang), computed_text(report, lang)), (go_live_text(report, lang),)):
        info.append(list(row))
    for cell in (info["B2"], info["C2"]):
        cell.number_format = "yyyy-mm-dd"
    cols = ("kpi", "value", "previous", "note", "definition")

    def sheet(title: str, names: list[str]) -> None:
        ws = wb.create_sheet(title[:31].replace("/", "・"))
        ws.append([header(c, lang) for c in cols])
        for cell in ws[1]:
            cell.font = bold
        for n in names:
            f = report.kpis[n]
            prev = (report.previous or {}).get(n, {}).get("value")
            rows = kpi_row(f, lang, report.previous)
            ws.append([rows["kpi"], f["value"], prev, rows["note"], rows["definition"]])
            for cell in (ws.cell(ws.max_row, 2), ws.cell(ws.max_row, 3)):
                cell.number_format = _number_format(f)
        ws.column_dimensions["A"].width = 34
        ws.column_dimensions["D"].width = 40
        ws.column_dimensions["E"].width = 60

    sheet(text("cards", lang), [n for n in ("applications", "hires", *[c["key"] for c in cards(
        report.kpis, lang, report.previous)]) if n in report.kpis])
    for sec in sections(report.kpis, lang, report.previous).values():
        sheet(sec["title"], [r["key"] for r in sec["rows"]])
    if report.trend:
        ws = wb.create_sheet(text("trends", lang)[:31])
        names = ("applications", "hires", "follow_up_rate", "reapplication_rate", "credits_earned")
        ws.append([text("month", lang), *(kpi_label(n, lang) for n in names)])
        for t in report.trend:
            y, m = (int(x) for x in t["month"].split("-"))
            ws.append([date(y, m, 1), *(t[n] for n in names)])
            ws.cell(ws.max_row, 1).number_format = 'yyyy"年"m"月"' if lang == "ja" else "yyyy-mm"
            for i, n in enumerate(names, start=2):
                ws.cell(ws.max_row, i).number_format = "0.0%" if n.endswith("_rate") else "#,##0"
    for table in breakdowns(report.kpis, lang).values():
        if not table["rows"]:
            continue
        ws = wb.create_sheet(table["title"][:31])
        ws.append(table["headers"])
        for row in table["rows"]:
            ws.append([_cell(row.get(c, "")) for c in table["columns"]])
    ws = wb.create_sheet(text("definitions", lang)[:31])
    ws.append([header("kpi", lang), header("definition", lang)])
    for d in _definitions(report.kpis, lang):
        ws.append([d["kpi"], d["definition"]])
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 90
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(value: str) -> Any:
    """A formatted breakdown value back to a number ("25.0%" → 0.25, "¥1,000" → 1000)."""
    raw = value.replace(",", "").replace("¥", "")
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else (int(raw) if raw.isdigit() else float(raw))
    except ValueError:
        return value


# -- Markdown, CSV, JSON -----------------------------------------------------------------------------------

def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str], lang: Lang) -> list[str]:
    lines = ["| " + " | ".join(header(c, lang) for c in columns) + " |",
             "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(_md_cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return lines


def reader_rows(rows: list[dict[str, str]], lang: Lang,
                columns: tuple[str, ...] = _COLS) -> list[dict[str, str]]:
    """Rows keyed by their headers in the reader's language (for table artifacts)."""
    return [{header(c, lang): r.get(c, "") for c in columns} for r in rows]


def to_markdown(report: Report, lang: Lang = "ja", *, summary_only: bool = False) -> str:
    lines = [f"# {text('title', lang)}", "", f"{text('period', lang)}: {period_text(report, lang)}", "",
             f"{text('computed_at', lang)}: {computed_text(report, lang)}", ""]
    lines += [f"## {text('cards', lang)}", "",
              *md_table(cards(report.kpis, lang, report.previous),
                        ("kpi", "value", "change", "baseline", "note"), lang)]
    if summary_only:
        return "\n".join(lines)
    for section in sections(report.kpis, lang, report.previous).values():
        lines += ["", f"## {section['title']}", "", *md_table(section["rows"], _COLS, lang)]
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


# -- one entry point -----------------------------------------------------------------------------------------

def render(report: Report, fmt: Format, lang: Lang = "ja") -> bytes:
    if fmt == "html":
        return to_html(report, lang).encode("utf-8")
    if fmt == "pdf":
        return html_to_pdf(to_html(report, lang))
    if fmt == "xlsx":
        return to_xlsx(report, lang)
    if fmt == "csv":
        return to_csv(report, lang)
    if fmt == "json":
        return to_json(report).encode("utf-8")
    if fmt == "md":
        return to_markdown(report, lang).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def default_filename(report: Report, fmt: str = "html") -> str:
    """roi-YYYY-MM.html for a month; the period's label otherwise."""
    return f"roi-{report.period.label}.{fmt}"


def write_report(report: Report, fmt: Format, lang: Lang, out: Path | None, output_dir: Path) -> Path:
    """Write to `out`, or to output_dir/roi-<period>.<fmt>; returns the path written."""
    path = out if out is not None else output_dir / default_filename(report, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, render(report, fmt, lang))
    return path
