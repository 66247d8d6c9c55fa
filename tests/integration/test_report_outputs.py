"""The files a person opens: self-contained HTML in the reader's words, Excel, CSV and JSON."""

from __future__ import annotations

import io
import json
import re
import stat
import warnings
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from junkan.cli import app
from junkan.config import Settings
from junkan.reports.build import Report, build_report
from junkan.reports.charts import all_charts
from junkan.reports.periods import month
from junkan.reports.render import render, to_html
from tests.integration._report_data import OCTOBER_COSTS, load_october

IDENTIFIER = re.compile(r"[a-z]+_[a-z_]+")


@pytest.fixture
def report(engine: Engine, settings: Settings) -> Report:
    load_october(engine)
    s = settings.model_copy(update={"report": settings.report.model_validate(
        {"costs": [OCTOBER_COSTS], "baseline": {"cost_per_hire_yen": 2_750_000}})})
    return build_report(engine, s, month(2026, 10), trend_months=3)


class _Collector(HTMLParser):
    """The tags and the visible text (not the inline SVG's glyph comments, not the style sheet)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._hidden += tag in ("style", "svg", "title")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("style", "svg", "title")

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.text.append(data.strip())


def _visible(html: str) -> tuple[list[str], str]:
    parser = _Collector()
    parser.feed(html)
    parser.close()
    return parser.tags, " ".join(parser.text)


def test_html_is_self_contained_and_in_the_readers_words(report: Report) -> None:
    html = to_html(report, "ja")
    tags, body = _visible(html)
    assert "script" not in tags
    assert not re.search(r"https?://", html), "no URL of any kind"
    assert "@page" in html and "A4" in html
    # The loop, both trends and the funnel are drawn; the lift has no re-contact run: a sentence instead.
    assert [m for m in re.findall(r'id="chart-(\w+)"><svg', html)] == ["loop", "trend", "credits", "funnel"]
    assert "まだ自動再コンタクトを実行していないため" in body
    assert "フォローアップ率" in body and "25.0%" in body  # 1 of 4 eligible rejections
    assert "¥2,200,000" in body and "-20.0%" in body  # cost per hire, against the baseline
    assert "データ不足（過去の不採用者 2 人、最低 30 人必要）" in body
    assert "タレントプールが空です" in body
    # No identifier, no raw JSON, no hash, no English reason, no UTC timestamp.
    assert not IDENTIFIER.findall(body), IDENTIFIER.findall(body)
    assert "{" not in body and not re.search(r"[0-9a-f]{40}", body)
    assert "missing input" not in body and "not enough data" not in body
    assert "2026年10月" in body and "（Asia/Tokyo）" in body and "+00:00" not in body
    # A figure without a value reads 「データなし」, never 0.0% or an empty cell.
    assert "データなし" in body
    # Definitions: 分子・分母・対象期間 for each figure, one footnote away.
    assert "分子：期限（営業日）内に不採用通知を送った件数" in body and 'href="#def-1"' in html
    # The one missing setting is named once, with how to set it.
    assert body.count("JUNKAN_REPORT__BASELINE__REAPPLICATION_RATE") == 1


def test_english_html_is_english_throughout(report: Report) -> None:
    html = to_html(report, "en")
    _, body = _visible(html)
    assert '<html lang="en">' in html and "Follow-up rate" in body
    assert "not enough data (2 rejected candidates, minimum 30)" in body
    assert not IDENTIFIER.findall(body), IDENTIFIER.findall(body)
    # Japanese only where it is the company's own data (department names).
    assert set(re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]+", body)) <= {"営業部", "開発部"}


def test_charts_draw_japanese_labels_as_glyph_paths_without_font_fallback(report: Report) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s) DejaVu Sans"
        charts = all_charts(report.kpis, report.trend, "ja")
    funnel = charts["funnel"].svg
    assert funnel is not None and "<text" not in funnel
    assert "応募数" in funnel  # matplotlib names each drawn string in a comment next to its glyphs
    assert re.search(r'<path id="IPAexGothic-[0-9a-f]+"', funnel), "IPAex Gothic glyph definitions"
    assert "DejaVu" not in funnel
    loop = charts["loop"].svg
    assert loop is not None and "不採用" in loop and "50%" in loop  # 1 of 2 notified registered


def test_a_month_without_data_shows_sentences_not_empty_charts(engine: Engine, settings: Settings) -> None:
    load_october(engine)
    empty = build_report(engine, settings, month(2027, 3), trend_months=2, as_of=date(2027, 4, 1))
    html = to_html(empty, "ja")
    _, body = _visible(html)
    # Only the re-application trend has figures (0 of October's rejected came back): every other chart is
    # a plain sentence, not an empty axis.
    assert re.findall(r'id="chart-(\w+)"><svg', html) == ["trend"]
    assert "期間内に不採用・通知・プールの動きがなく、循環を描けません。" in body
    assert "期間内に応募も選考結果もありません。" in body
    assert "まだパートナーのクレジットを獲得していません。" in body
    assert "データなし" in body
    # Costs missing: said once, with a template with Japanese headers.
    assert body.count("JUNKAN_REPORT__COSTS_CSV") == 1
    assert "月,広告費（円）,人材紹介手数料（円）" in body


def test_xlsx_has_a_sheet_per_section_with_numbers_and_dates(report: Report) -> None:
    wb = load_workbook(io.BytesIO(render(report, "xlsx", "ja")))
    assert {"主要指標", "選考ファネル", "フォローアップ", "採用単価と ROI", "月次推移", "指標の定義"} <= set(
        wb.sheetnames)
    ws = wb["フォローアップ"]
    assert [c.value for c in ws[1]][:3] == ["指標", "値", "前期間"]
    assert ws["A2"].value == "フォローアップ率" and ws["B2"].value == 0.25
    assert ws["B2"].number_format == "0.0%"
    cost = {r[0].value: r[1].value for r in wb["採用単価と ROI"].iter_rows(min_row=2)}
    assert cost["採用単価（全費用）"] == 2_200_000
    trend = wb["月次推移"]
    assert trend["A4"].value.date() == date(2026, 10, 1) and trend["D4"].value == 0.25
    assert wb["このレポートについて"]["B2"].value.date() == date(2026, 10, 1)


def test_csv_has_a_bom_and_every_table(report: Report) -> None:
    data = render(report, "csv", "ja")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "follow_up,follow_up_rate,フォローアップ率,25.0%" in text
    assert "partners" in text and "careerrelay" in text


def test_json_kpis_are_keyed_by_name_and_cover_the_pool(report: Report) -> None:
    doc = json.loads(render(report, "json"))
    kpis = doc["kpis"]
    for name in ("applications", "hires", "rejections", "withdrawals", "reapplications", "follow_up_rate"):
        assert name in kpis
    assert kpis["applications"]["value"] == 8
    for name in ("pool_size", "pool_eligibility", "pool_consents_expiring_30d", "recontacts_sent",
                 "recontact_click_rate", "reapplications_via_recontact", "hires_from_pool", "recontact_lift",
                 "savings_pool_hires", "roi"):
        assert name in kpis, name
    assert kpis["pool_size"]["value"] == 0  # this fixture has no pool
    assert kpis["recontact_lift"]["missing"].startswith("not enough data")
    assert doc["computed_at"].endswith("+09:00")  # the business time zone


def test_cli_writes_the_report(engine: Engine, database_url: str, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    load_october(engine)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_REPORT__OUTPUT_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["report", "--from", "2026-10-01", "--to", "2026-10-31"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "roi-2026-10.html").read_text(encoding="utf-8")
    assert stat.S_IMODE((tmp_path / "roi-2026-10.html").stat().st_mode) == 0o600
    assert "応募数" in html
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["report", "--from", "2026-10-01", "--to", "2026-10-31",
                                      "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "from the stored snapshot" in result.output
    assert json.loads(out.read_text(encoding="utf-8"))["kpis"]["rejections"]["value"] == 6
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    result = CliRunner().invoke(app, ["report", "--from", "2026-10-01", "--to", "2026-10-31",
                                      "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    assert load_workbook(tmp_path / "roi-2026-10.xlsx")["フォローアップ"]["B2"].value == 0.25
    assert stat.S_IMODE((tmp_path / "roi-2026-10.xlsx").stat().st_mode) == 0o600
    bad = CliRunner().invoke(app, ["report", "--from", "2026-10-31", "--to", "2026-10-01"])
    assert bad.exit_code == 2
