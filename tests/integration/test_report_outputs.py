"""The files a person opens: self-contained HTML with Japanese charts, CSV for Excel, JSON for scripts."""

from __future__ import annotations

import json
import re
import stat
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from junkan.cli import app
from junkan.config import Settings
from junkan.reports.build import Report, build_report
from junkan.reports.charts import all_charts
from junkan.reports.html import to_html
from junkan.reports.periods import month
from junkan.reports.write import render
from tests.integration._report_data import OCTOBER_COSTS, load_october


@pytest.fixture
def report(engine: Engine, settings: Settings) -> Report:
    load_october(engine)
    s = settings.model_copy(update={"report": settings.report.model_validate(
        {"costs": [OCTOBER_COSTS], "baseline": {"cost_per_hire_yen": 2_750_000}})})
    return build_report(engine, s, month(2026, 10), trend_months=3)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_shows_the_headline_figures(report: Report) -> None:
    html = to_html(report, "ja")
    parser = _Collector()
    parser.feed(html)
    parser.close()
    assert "script" not in parser.tags
    assert parser.tags.count("svg") == 4
    assert not re.search(r"https?://", html), "no URL of any kind"
    assert "@page" in html and "A4" in html
    body = " ".join(parser.text)
    assert "フォローアップ率" in body and "25.0%" in body  # 1 of 4 eligible rejections
    assert "¥2,200,000" in body  # cost per hire
    assert "-20.0%" in body  # against the baseline
    # Too few rejected candidates (default minimum 30) and an empty pool: the reasons are in Japanese.
    assert "データ不足（不採用者 2 人、最低 30 人）" in body
    assert "タレントプールが空です" in body
    assert "missing input" not in body and "not enough data" not in body


def test_english_html(report: Report) -> None:
    html = to_html(report, "en")
    assert '<html lang="en">' in html and "Follow-up rate" in html
    assert "not enough data (2 rejected candidates, minimum 30)" in html


def test_charts_draw_japanese_labels_as_glyph_paths_without_font_fallback(report: Report) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s) DejaVu Sans"
        charts = all_charts(report.kpis, report.trend, "ja")
    funnel = charts["funnel"]
    assert "<text" not in funnel
    assert "応募数" in funnel  # matplotlib names each drawn string in a comment next to its glyphs
    assert re.search(r'<path id="IPAexGothic-[0-9a-f]+"', funnel), "IPAex Gothic glyph definitions"
    assert "DejaVu" not in funnel


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
    bad = CliRunner().invoke(app, ["report", "--from", "2026-10-31", "--to", "2026-10-01"])
    assert bad.exit_code == 2
