"""The Japanese report as a reader sees it: rendered by Debian's Chromium at a desk (1280 px) and on a
phone (375 px), and printed to A4 PDF. Chromium comes from `make chromium` (never `playwright install`)."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from pypdf import PdfReader
from sqlalchemy import Engine

from junkan.config import Settings
from junkan.reports.build import build_report
from junkan.reports.periods import month
from junkan.reports.render import CHROMIUM, CHROMIUM_ARGS, html_to_pdf, to_html
from tests.integration._report_data import load_october, load_october_pool, october_settings

IDENTIFIER = re.compile(r"[a-z]+_[a-z_]+")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"the report's browser tests need Debian's chromium at {CHROMIUM}: " \
        "make chromium"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        yield b
        b.close()


@pytest.fixture
def html(engine: Engine, settings: Settings) -> str:
    load_october(engine)
    load_october_pool(engine)
    s = october_settings(settings)
    return to_html(build_report(engine, s, month(2026, 10), trend_months=3), "ja")


def _open(browser: Browser, html: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_content(html, wait_until="load")
    page.evaluate("document.fonts.ready")
    return page


@pytest.mark.parametrize("width", [1280, 375])
def test_the_report_fits_the_screen_and_shows_every_chart(browser: Browser, html: str, width: int,
                                                          tmp_path: Path) -> None:
    page = _open(browser, html, width)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        overflowing = page.evaluate("""(w) => [...document.querySelectorAll('body *')]
            .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 0.5; })
            .map(e => e.tagName + '#' + e.id)""", width)
        assert overflowing == []
        charts = page.evaluate("""() => [...document.querySelectorAll('.chart')].map(c => {
            const s = c.querySelector('svg'); const r = s ? s.getBoundingClientRect() : null;
            return [c.id, r ? [r.width, r.height] : c.innerText]; })""")
        drawn = {key: size for key, size in charts if isinstance(size, list)}
        # October with the pool: the loop, both trends, the lift with its intervals and the funnel.
        assert set(drawn) == {"chart-loop", "chart-trend", "chart-credits", "chart-lift", "chart-funnel"}
        for key, (w, h) in drawn.items():
            assert w >= min(300, width - 40) and h >= 80, (key, w, h)
        text = page.inner_text("body")
        assert not IDENTIFIER.findall(text), IDENTIFIER.findall(text)
        page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
    finally:
        page.close()


def test_japanese_glyphs_come_from_a_real_japanese_font(browser: Browser, html: str) -> None:
    page = _open(browser, html, 1280)
    try:
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        h1 = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]
        # Every glyph of 「採用 KPI・ROI レポート」 drawn by one installed CJK font, no tofu fallback.
        families = {f["familyName"] for f in fonts}
        assert any(re.search(r"IPA|Noto Sans CJK|Hiragino|Yu Gothic|Meiryo", f) for f in families), families
        assert sum(f["glyphCount"] for f in fonts) == len("採用 KPI・ROI レポート")
    finally:
        page.close()


def test_the_pdf_is_a4_with_a_page_per_section_and_embedded_japanese_fonts(html: str) -> None:
    reader = PdfReader(io.BytesIO(html_to_pdf(html)))
    first = reader.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)  # A4
    # NFKC: the font's Unicode map gives some ideographs as Kangxi radicals (⽉ for 月).
    texts = [unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages]
    # Each section starts a page: the summary, the trends, the details, the notes.
    starts = {title: next(i for i, t in enumerate(texts) if title in t)
              for title in ("主要指標", "月次推移", "指標の詳細", "指標の定義")}
    assert starts["主要指標"] == 0 and len(set(starts.values())) == 4
    assert sorted(starts.values()) == list(starts.values())
    embedded = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for desc in [font, *[d.get_object() for d in font.get("/DescendantFonts", [])]]:
                fd = desc.get("/FontDescriptor")
                if fd is not None and any(k in fd.get_object() for k in ("/FontFile", "/FontFile2",
                                                                          "/FontFile3")):
                    embedded.add(str(desc.get("/BaseFont")))
    assert any("IPA" in name for name in embedded), embedded
