"""The preference page 「今後のご案内の設定」 as a person uses it: opened in Debian's Chromium from the link
of a real rendered notice, filled in on a phone (375 px) and at a desk (1280 px), saved, and the records
checked in the database; used with the keyboard alone; and checked by axe-core (WCAG 2.1 AA rules) for
serious or critical violations. Chromium comes from `make chromium` (never `playwright install`); axe-core
from the `axe-playwright-python` package, which bundles it.

The app runs in uvicorn in a thread of this process, on a port whose URL is the public base URL, so the
mail's link leads to it and the form's POSTs carry its origin. `SCREENSHOTS_DIR=docs/images` writes the
phone screenshots the docs show (docs/privacy.md "The preference page") instead of to a temp folder.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.consent.preferences import latest_preferences
from junkan.db.models import Consent
from junkan.reports.render import CHROMIUM, CHROMIUM_ARGS
from junkan.web import create_app
from junkan.web.server import server_options
from tests.integration._preference_support import Mailed, mail_a_rejection, page_settings

#: Join timeout of the server thread at the end: only reached when shutdown hangs.
STOP_S = 10.0
BAD_IMPACTS = ("serious", "critical")
#: Read when the module is collected, before each test moves into its own empty directory.
SCREENSHOTS_DIR = Path(os.environ["SCREENSHOTS_DIR"]).resolve() if os.environ.get("SCREENSHOTS_DIR") else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"the browser tests need Debian's chromium at {CHROMIUM}: make chromium"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        yield b
        b.close()


@contextmanager
def serving(settings: Settings) -> Iterator[Settings]:
    """The web app on a free local port; yields the settings whose public base URL is that port."""
    sock = socket.create_server(("127.0.0.1", 0))  # listening before the thread starts: no race
    host, port = sock.getsockname()[:2]
    served = page_settings(settings, f"http://{host}:{port}")
    config = uvicorn.Config(create_app(served), log_config=None, lifespan="off", access_log=False,
                            **server_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.should_exit = True
        thread.join(STOP_S)
        sock.close()


@pytest.fixture
def site(settings: Settings) -> Iterator[Settings]:
    with serving(settings) as served:
        yield served


def _screenshots(tmp_path: Path) -> Path:
    return SCREENSHOTS_DIR or tmp_path


def _open(browser: Browser, mailed: Mailed, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(mailed.link)
    return page


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    overflowing = page.evaluate("""(w) => [...document.querySelectorAll('body *')]
        .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 0.5; })
        .map(e => e.tagName)""", width)
    assert overflowing == []


def _serious(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.0/2.1 A and AA)."""
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                     "best-practice"]}}
    violations = Axe().run(page, options=options).response["violations"]
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in violations if v["impact"] in BAD_IMPACTS]


@pytest.mark.parametrize("width", [375, 1280])
def test_a_person_fills_in_and_saves_the_page_from_the_mail_link(
    browser: Browser, engine: Engine, site: Settings, width: int, tmp_path: Path
) -> None:
    mailed = mail_a_rejection(engine, site)
    page = _open(browser, mailed, width)
    try:
        assert page.title() == "今後のご案内の設定"
        _fits(page, width)
        if width == 375:
            page.screenshot(path=str(_screenshots(tmp_path) / "preference-page-phone.png"), full_page=True)
        # By label, as a person (or a screen reader) finds each control.
        page.get_by_role("checkbox", name="法人営業").check()
        page.get_by_role("checkbox", name="カスタマーサクセス").check()
        page.get_by_label("そのほかのご希望（自由にご記入ください）").fill("SaaSの営業に関心があります")
        page.get_by_role("checkbox", name="東京都").check()
        page.get_by_label("そのほかの希望勤務地（例：札幌市、福岡県）").fill("福岡県")
        remote = page.get_by_role("group", name="リモートワーク")
        remote.get_by_role("radio", name="希望する", exact=True).check()
        page.get_by_role("radio", name="6か月後から").check()
        page.get_by_role("group", name="提携キャリア支援サービスのご案内") \
            .get_by_role("radio", name="受け取る", exact=True).check()
        page.get_by_role("radio", name="登録する（登録を続ける）").check()
        page.get_by_label("スキル・資格（例：簿記2級、TOEIC 800、Python）").fill("日商簿記2級、Salesforce")
        page.get_by_role("button", name="この内容で保存する").click()

        page.get_by_role("heading", name="設定を保存しました").wait_for()
        _fits(page, width)
        summary = page.inner_text("dl")
        assert "法人営業、カスタマーサクセス" in summary and "6か月後から" in summary
        if width == 375:
            page.screenshot(path=str(_screenshots(tmp_path) / "preference-saved-phone.png"), full_page=True)
    finally:
        page.close()

    with engine.connect() as conn:
        stored = latest_preferences(conn, [mailed.candidate_id])[mailed.candidate_id]
    p = stored.preferences
    assert (p.families, p.locations, p.remote, p.timing_months, p.never) == (
        ("corporate_sales", "customer_success"), ("東京都", "福岡県"), True, 6, False)
    assert p.other_interest == "SaaSの営業に関心があります" and p.skills_text == "日商簿記2級、Salesforce"
    assert "Salesforce" in p.skills
    with Session(engine) as s:
        recorded = s.execute(select(Consent.purpose, Consent.granted).where(
            Consent.candidate_id == mailed.candidate_id, Consent.source == "preference_page")).all()
    # The pool grant was current already; partner information and re-contact after 6 months are new.
    assert sorted(recorded) == [("partner_info", True), ("recontact", True)]


def test_the_page_is_usable_with_the_keyboard_alone_in_reading_order(
    browser: Browser, engine: Engine, site: Settings
) -> None:
    mailed = mail_a_rejection(engine, site, locale="en")
    page = _open(browser, mailed, 1280)
    try:
        # Tab order = the order of the controls on the page (a radio group is one stop).
        expected = page.evaluate(f"""() => {{ const key = {_KEY}; const order = [];
            for (const e of document.querySelectorAll('input:not([type=hidden]), textarea, button, a[href]'))
                if (!order.includes(key(e))) order.push(key(e));
            return order; }}""")
        tabbed = []
        for _ in expected:
            page.keyboard.press("Tab")
            tabbed.append(page.evaluate(f"() => ({_KEY})(document.activeElement)"))
        assert tabbed == expected
        # Choose "never" and save with keys only.
        page.get_by_role("radio", name="In 3 months or later").focus()
        for _ in range(3):
            page.keyboard.press("ArrowDown")  # 3 → 6 → 12 → never
        assert page.get_by_role("radio", name="Please send me no more job announcements").is_checked()
        page.get_by_role("checkbox", name="Corporate Sales").focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Save these preferences").focus()
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Preferences saved").wait_for()
    finally:
        page.close()
    with engine.connect() as conn:
        p = latest_preferences(conn, [mailed.candidate_id])[mailed.candidate_id].preferences
    assert p.never and p.families == ("corporate_sales",)


_WORDS = {
    "ja": {"erase": "データの削除へ進む", "confirm": "データの削除の確認", "save": "この内容で保存する",
           "saved": "設定を保存しました"},
    "en": {"erase": "Continue to erasure", "confirm": "Confirm erasure", "save": "Save these preferences",
           "saved": "Preferences saved"},
}
#: One name per tab stop: a radio group by its name, anything else by its name and value or text.
_KEY = "(e) => e.type === 'radio' ? 'radio:' + e.name : [e.tagName, e.name, e.value, e.textContent].join(':')"


@pytest.mark.parametrize(("locale", "width"), [("ja", 375), ("ja", 1280), ("en", 375)])
def test_axe_finds_no_serious_violation_on_any_step(
    browser: Browser, engine: Engine, site: Settings, locale: str, width: int
) -> None:
    mailed = mail_a_rejection(engine, site, locale=locale)
    words = _WORDS[locale]
    page = _open(browser, mailed, width)
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        found["form"] = _serious(page)
        page.get_by_role("button", name=words["erase"]).click()
        page.get_by_role("heading", name=words["confirm"]).wait_for()
        found["erase confirmation"] = _serious(page)
        page.go_back()
        page.get_by_role("button", name=words["save"]).click()
        page.get_by_role("heading", name=words["saved"]).wait_for()
        found["saved"] = _serious(page)
        page.goto(mailed.link.rsplit("/", 1)[0] + "/not-a-token")
        found["invalid link"] = _serious(page)
    finally:
        page.close()
    assert found == {"form": [], "erase confirmation": [], "saved": [], "invalid link": []}
