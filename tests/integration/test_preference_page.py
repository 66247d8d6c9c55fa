"""The person's own page 「今後のご案内の設定」 without a browser: the link in every mail, what a GET and a
POST record, and the page's security (docs/privacy.md "The preference page").

The browser tests (test_preference_browser.py) fill the same page in Chromium.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from junkan.clock import RunClock
from junkan.config import ConsentSettings, Settings
from junkan.consent.preferences import PAGE_SOURCE, Preferences, latest_preferences
from junkan.consent.wording import PREFERENCE_WORDING_VERSION
from junkan.db import session_scope
from junkan.db.models import Base, Candidate, Consent, Job
from junkan.db.models_preferences import DataCopyRequest, PreferenceVisit
from junkan.links import LinkSigner
from junkan.mail.templates import NoticeContext, TemplateStore, render_notice
from junkan.outbox.renewal_mail import run_renewals
from junkan.pool.recontact import match_and_store, send
from junkan.privacy.copy_requests import mark_done, request_copy
from junkan.privacy.erasure import erase
from junkan.web import create_app
from junkan.web.app import PREFERENCE_POSTS
from tests.integration._pool_data import CLOCK, add_job, add_member, pool_settings
from tests.integration._pool_data import NOW as POOL_NOW
from tests.integration._preference_support import PAGE_LINK, Mailed, mail_a_rejection, page_settings
from tests.integration.test_consent_renewal import NOW as RENEWAL_NOW
from tests.integration.test_consent_renewal import mails
from tests.integration.test_consent_renewal import person as renewal_person

BASE = "https://jobs.example.co.jp"
SAME_ORIGIN = {"Origin": BASE}


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    return page_settings(settings, BASE)


def _client(cfg: Settings, *, later_s: float = 0.0) -> httpx.AsyncClient:
    app = create_app(cfg, clock=lambda: time.time() + later_s)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


def _path(link: str) -> str:
    return urlsplit(link).path


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what a request must not change."""
    with engine.connect() as conn:
        return {t.name: sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
                for t in Base.metadata.sorted_tables}


def _consents(engine: Engine, cid: int) -> list[tuple[str, bool, str, str | None]]:
    with Session(engine) as s:
        return [tuple(r) for r in s.execute(  # type: ignore[misc]
            select(Consent.purpose, Consent.granted, Consent.source, Consent.wording_version)
            .where(Consent.candidate_id == cid).order_by(Consent.id))]


FORM = {"action": "save", "family": ["corporate_sales", "customer_success"],
        "other_interest": "海外営業にも関心があります", "place": ["東京都"], "other_places": "福岡県",
        "remote": "yes", "timing": "6", "partner": "no", "pool": "stay",
        "skills_text": "簿記2級、TOEIC 850、Python"}


# -- the link in every mail ---------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_rejection_notice_carries_the_page_link_in_text_and_html(
    engine: Engine, cfg: Settings, locale: str
) -> None:
    mailed = mail_a_rejection(engine, cfg, locale=locale)
    text, html = mailed.part("plain"), mailed.part("html")
    assert mailed.link.startswith(f"{BASE}/p/")
    assert f'href="{mailed.link}"' in html
    signer = LinkSigner.from_settings(cfg.links)
    assert signer.read_preferences(mailed.link.rsplit("/", 1)[1], max_age_s=3600) == mailed.public_id
    if locale == "ja":
        assert "■ 今後のご案内の設定" in text and ">今後のご案内の設定</a>" in html
        assert "このメールの送信から180日間有効です" in text
    else:
        assert "Your preferences for future messages" in text and "works for 180 days" in html


def _links_in(mail: Any) -> tuple[set[str], str]:
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    return set(PAGE_LINK.findall(text)), html


def test_a_re_contact_mail_carries_the_link(engine: Engine, cfg: Settings, tmp_path: Path) -> None:
    auto = pool_settings(cfg, mode="auto", holdout_share=0.0, shortlist_dir=tmp_path / "shortlists")
    with session_scope(engine) as s:
        add_job(s, "バックエンドエンジニア", required=["Go", "SQL"], opened_at=POOL_NOW - timedelta(days=1))
        add_member(s, skills=["Go", "SQL"])
    match_and_store(engine, auto, CLOCK)
    assert send(engine, auto, CLOCK)["mails_sent"] == 1
    (mail,) = mails(auto.mail.outbox_dir)
    (link,), html = _links_in(mail)
    assert link.startswith(f"{BASE}/p/") and f'href="{link}"' in html and "今後のご案内の設定" in html


def test_a_renewal_mail_carries_the_link(engine: Engine, cfg: Settings) -> None:
    renewing = cfg.model_copy(update={"consent": ConsentSettings(renewal_enabled=True)})
    with session_scope(engine) as s:
        renewal_person(s, granted_days_ago=360, locale="en")
    run = run_renewals(engine, renewing, RunClock.fixed(RENEWAL_NOW))
    assert run.sent is not None and run.sent.sent == 1
    (mail,) = mails(renewing.mail.outbox_dir)
    (link,), html = _links_in(mail)
    assert link.startswith(f"{BASE}/p/") and f'href="{link}"' in html
    assert "Your preferences for future messages" in html


@pytest.mark.parametrize(("kind", "category", "template"), [
    ("rejection", "final_interview", "rejection.final_interview"), ("withdrawal", None, "withdrawal")])
def test_the_other_notices_show_the_link_in_both_parts(kind: str, category: str | None, template: str,
                                                       cfg: Settings) -> None:
    url = f"{BASE}/p/TOKEN"
    for locale in ("ja", "en"):
        rendered = render_notice(TemplateStore(), NoticeContext(
            kind=kind, sender=cfg.sender, locale=locale, reason_category=category,
            unsubscribe_url=f"{BASE}/u/U", preferences_url=url, preferences_days=180))
        assert rendered.template_name == f"{locale}/{template}"
        assert url in rendered.text and f'href="{url}"' in rendered.html, (kind, locale)


# -- GET --------------------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_get_shows_the_form_records_a_visit_and_changes_nothing_else(
    engine: Engine, cfg: Settings
) -> None:
    mailed = mail_a_rejection(engine, cfg)
    before = _snapshot(engine)
    async with _client(cfg) as client:
        page = await client.get(_path(mailed.link))
        head = await client.head(_path(mailed.link))
    after = _snapshot(engine)
    assert page.status_code == head.status_code == 200
    visits = after.pop("preference_visit")
    before.pop("preference_visit")
    assert after == before and len(visits) == 1  # the HEAD (a link checker) is no visit
    text = page.text
    assert '<html lang="ja">' in text and "<h1>今後のご案内の設定</h1>" in text
    assert '<form method="post">' in text and PREFERENCE_WORDING_VERSION in text
    assert 'value="corporate_sales"' in text and "<span>法人営業</span>" in text  # the occupation families
    assert "<span>東京都</span>" in text and "<span>大阪府</span>" in text  # the employer's places
    assert "現在のご登録は2027年11月18日まで有効です。" in text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert page.headers["Referrer-Policy"] == "same-origin" and "<script" not in text


@pytest.mark.anyio
async def test_the_places_come_most_jobs_first_counting_jobs_that_share_a_location(
    engine: Engine, cfg: Settings
) -> None:
    mailed = mail_a_rejection(engine, cfg)  # 東京都: two jobs (two locations), 大阪府: one
    with session_scope(engine) as s:
        s.add_all([Job(source="csv", external_id=f"osaka-{n}", title="営業", location="大阪府大阪市")
                   for n in range(2)])
    async with _client(cfg) as client:
        text = (await client.get(_path(mailed.link))).text
    assert text.index("<span>大阪府</span>") < text.index("<span>東京都</span>")  # 3 jobs before 2


@pytest.mark.anyio
async def test_no_partner_question_when_the_partner_section_is_off(engine: Engine, cfg: Settings) -> None:
    mailed = mail_a_rejection(engine, cfg)
    off = cfg.model_copy(update={"notice": cfg.notice.model_copy(update={"partner_section": "off"})})
    async with _client(cfg) as client:
        offered = await client.get(_path(mailed.link))
    async with _client(off) as client:
        page = await client.get(_path(mailed.link))
    assert "提携キャリア支援サービスのご案内" in offered.text
    assert "提携キャリア支援サービスのご案内" not in page.text and 'name="partner"' not in page.text


@pytest.mark.anyio
async def test_an_english_candidate_gets_the_page_in_english(engine: Engine, cfg: Settings) -> None:
    mailed = mail_a_rejection(engine, cfg, locale="en")
    async with _client(cfg) as client:
        page = await client.get(_path(mailed.link))
    assert '<html lang="en">' in page.text and "Your preferences for future messages" in page.text
    assert "<span>Corporate Sales</span>" in page.text and "法人営業" not in page.text


# -- POST -------------------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_saving_records_preferences_and_the_changed_consents_and_can_be_changed_again(
    engine: Engine, cfg: Settings
) -> None:
    mailed = mail_a_rejection(engine, cfg)
    cid = mailed.candidate_id
    path = _path(mailed.link)
    async with _client(cfg) as client:
        saved = await client.post(path, data=FORM, headers=SAME_ORIGIN)
        with engine.connect() as conn:
            first = latest_preferences(conn, [cid])[cid]
        again = await client.get(path)
        changed = await client.post(path, headers=SAME_ORIGIN, data={
            "action": "save", "family": "backend", "timing": "never", "pool": "leave", "partner": "no"})

    assert saved.status_code == 200 and "設定を保存しました" in saved.text
    assert "法人営業、カスタマーサクセス" in saved.text and "6か月後から" in saved.text
    assert first.source == "preference_page" and first.wording_version == PREFERENCE_WORDING_VERSION
    assert first.preferences == Preferences(
        families=("corporate_sales", "customer_success"), other_interest="海外営業にも関心があります",
        locations=("東京都", "福岡県"), remote=True, timing_months=6, never=False,
        skills_text="簿記2級、TOEIC 850、Python", skills=("簿記2級", "TOEIC", "Python"))
    # The page shows what was saved.
    assert 'value="corporate_sales" checked' in again.text and 'value="6" checked' in again.text
    assert 'value="福岡県"' in again.text and "海外営業にも関心があります</textarea>" in again.text
    with engine.connect() as conn:
        now = latest_preferences(conn, [cid])[cid].preferences
    assert now.families == ("backend",) and now.never and now.timing_months is None
    assert changed.status_code == 200 and "ご登録なし" in changed.text
    # Consents: partner withdrawn and recontact granted by the first save; the pool grant (already
    # current) untouched; then "never" withdraws recontact and leaving withdraws talent_pool.
    page = ("preference_page", PREFERENCE_WORDING_VERSION)
    assert _consents(engine, cid) == [
        ("talent_pool", True, "csv", None),
        ("partner_info", False, *page), ("recontact", True, *page),
        ("talent_pool", False, *page), ("recontact", False, *page),
    ]
    with engine.connect() as conn:
        history = conn.execute(select(func.count()).select_from(PreferenceVisit)).scalar_one()
    assert history == 1  # the GET in between


@pytest.mark.anyio
async def test_renewing_the_pool_records_a_fresh_grant_with_its_new_expiry(
    engine: Engine, cfg: Settings
) -> None:
    mailed = mail_a_rejection(engine, cfg)
    async with _client(cfg) as client:
        done = await client.post(_path(mailed.link), headers=SAME_ORIGIN,
                                 data={"action": "save", "pool": "stay", "renew": "yes"})
    with Session(engine) as s:
        grant = s.scalars(select(Consent).where(Consent.source == "preference_page")).one()
    assert (grant.purpose, grant.granted) == ("talent_pool", True)
    assert grant.expires_at is not None
    assert grant.expires_at - grant.recorded_at == timedelta(days=365)
    day = grant.expires_at.astimezone(ZoneInfo(cfg.business.timezone)).date()
    assert f"ご登録あり（{day.year}年{day.month}月{day.day}日まで）" in done.text


@pytest.mark.anyio
async def test_a_copy_of_the_data_is_recorded_for_the_operator_and_never_shown(
    engine: Engine, cfg: Settings
) -> None:
    mailed = mail_a_rejection(engine, cfg, email_key="hanako@example.jp")
    async with _client(cfg) as client:
        first = await client.post(_path(mailed.link), data={"action": "copy"}, headers=SAME_ORIGIN)
        second = await client.post(_path(mailed.link), data={"action": "copy"}, headers=SAME_ORIGIN)
    assert "データの写しのご依頼を承りました" in first.text and "ご登録のメールアドレスあてに" in first.text
    assert "以前のご依頼を承っております" in second.text
    for page in (first, second):
        assert "hanako@example.jp" not in page.text and "山田" not in page.text
    with Session(engine) as s:
        requests = s.execute(select(DataCopyRequest.candidate_id, DataCopyRequest.done_at)).all()
    assert requests == [(mailed.candidate_id, None)]  # asked twice, one copy to send


def test_one_open_copy_request_per_person_kept_by_the_database(engine: Engine, cfg: Settings) -> None:
    mailed = mail_a_rejection(engine, cfg)
    cid, at = mailed.candidate_id, datetime(2026, 12, 1, tzinfo=UTC)
    with session_scope(engine) as s:
        assert request_copy(s, cid, at=at, source=PAGE_SOURCE)
        assert not request_copy(s, cid, at=at + timedelta(seconds=1), source=PAGE_SOURCE)
    # What the later of two POSTs at once meets, had it passed any check made before its insert.
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(DataCopyRequest(candidate_id=cid, requested_at=at, source=PAGE_SOURCE))
        s.flush()
    with session_scope(engine) as s:
        (first,) = s.scalars(select(DataCopyRequest.id).where(DataCopyRequest.candidate_id == cid)).all()
        assert mark_done(s, first, at=at + timedelta(days=1))
        assert request_copy(s, cid, at=at + timedelta(days=2), source=PAGE_SOURCE)  # sent: may ask again
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(DataCopyRequest)
                        .where(DataCopyRequest.candidate_id == cid)) == 2


@pytest.mark.anyio
async def test_erasure_asks_for_confirmation_then_erases_like_the_cli(engine: Engine, cfg: Settings) -> None:
    mailed = mail_a_rejection(engine, cfg, email_key="hanako@example.jp")
    path = _path(mailed.link)
    async with _client(cfg) as client:
        before = _snapshot(engine)
        asked = await client.post(path, data={"action": "erase"}, headers=SAME_ORIGIN)
        unchanged = _snapshot(engine)
        done = await client.post(path, data={"action": "erase_confirm"}, headers=SAME_ORIGIN)
        after = await client.get(path)
    assert unchanged == before  # the first step only asks
    assert "データの削除の確認" in asked.text and 'value="erase_confirm"' in asked.text
    assert done.status_code == 200 and "データを削除しました" in done.text
    with Session(engine) as s:
        person = s.get(Candidate, mailed.candidate_id)
        assert person is not None and person.anonymized_at is not None and person.email_key is None
    assert after.status_code == 404 and "リンクが無効です" in after.text


@pytest.mark.anyio
async def test_erasure_of_a_person_without_an_address_finds_them_by_their_ref(
    engine: Engine, cfg: Settings
) -> None:
    mailed = mail_a_rejection(engine, cfg, email_key="hanako@example.jp")
    with session_scope(engine) as s:
        s.execute(update(Candidate).where(Candidate.id == mailed.candidate_id).values(email_key=None))
    async with _client(cfg) as client:
        done = await client.post(_path(mailed.link), data={"action": "erase_confirm"}, headers=SAME_ORIGIN)
    assert done.status_code == 200 and "データを削除しました" in done.text
    with Session(engine) as s:
        person = s.get(Candidate, mailed.candidate_id)
        assert person is not None and person.anonymized_at is not None


# -- security -------------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_forged_expired_unknown_and_erased_links_get_the_same_answer(
    engine: Engine, cfg: Settings
) -> None:
    mailed = mail_a_rejection(engine, cfg, email_key="gone@example.jp")
    live = mail_a_rejection(engine, cfg)
    signer = LinkSigner.from_settings(cfg.links)
    erase(engine, cfg, "gone@example.jp", reason=None, now=datetime.now(UTC))
    forged = LinkSigner("attacker-secret").preferences_token(live.public_id)
    unknown = signer.preferences_token("f" * 22)
    wrong_kind = signer.unsubscribe_token(live.public_id)
    stale = signer.preferences_token(live.public_id)
    paths = {"forged": f"/p/{forged}", "unknown": f"/p/{unknown}", "wrong kind": f"/p/{wrong_kind}",
             "erased": _path(mailed.link), "garbage": "/p/not-a-token"}
    before = _snapshot(engine)
    answers = []
    async with _client(cfg) as client:
        for path in paths.values():
            for method in ("GET", "POST"):
                resp = await client.request(method, path, data=FORM if method == "POST" else None,
                                            headers=SAME_ORIGIN)
                answers.append((resp.status_code, resp.text, resp.headers.get("content-type")))
    # 181 days later the live person's own link has expired (preference_link_max_age_days = 180).
    async with _client(cfg, later_s=181 * 86400) as client:
        for method in ("GET", "POST"):
            resp = await client.request(method, f"/p/{stale}", data=FORM if method == "POST" else None,
                                        headers=SAME_ORIGIN)
            answers.append((resp.status_code, resp.text, resp.headers.get("content-type")))
    assert {a for a in answers} == {answers[0]} and answers[0][0] == 404
    assert "リンクが無効です" in answers[0][1]
    assert _snapshot(engine) == before  # nothing recorded, not even a visit


@pytest.mark.anyio
async def test_a_cross_origin_post_is_refused_and_records_nothing(engine: Engine, cfg: Settings) -> None:
    mailed = mail_a_rejection(engine, cfg)
    path = _path(mailed.link)
    before = _snapshot(engine)
    async with _client(cfg) as client:
        refused = [await client.post(path, data=FORM, headers=headers) for headers in (
            {"Origin": "https://evil.example"}, {"Origin": "null"}, {},
            {"Referer": "https://evil.example/page"}, {"Origin": "http://jobs.example.co.jp"},
            {"Origin": "https://jobs.example.co.jp.evil.example"})]
        by_referer = await client.post(path, data={"action": "erase"}, headers={"Referer": BASE + path})
    assert [r.status_code for r in refused] == [403] * 6
    assert all("このページのフォームからのみ送信できます" in r.text for r in refused)
    assert _snapshot(engine) == before
    assert by_referer.status_code == 200  # no Origin, but a same-origin Referer: the form's own POST


@pytest.mark.anyio
async def test_posts_are_rate_limited_per_token(engine: Engine, cfg: Settings) -> None:
    mailed = mail_a_rejection(engine, cfg)
    other = mail_a_rejection(engine, cfg)
    async with _client(cfg) as client:
        statuses = [(await client.post(_path(mailed.link), data={"action": "erase"}, headers=SAME_ORIGIN))
                    .status_code for _ in range(PREFERENCE_POSTS + 2)]
        limited = await client.post(_path(mailed.link), data=FORM, headers=SAME_ORIGIN)
        forged = [(await client.post("/p/forged-token", headers=SAME_ORIGIN)).status_code
                  for _ in range(PREFERENCE_POSTS + 1)]
        others = await client.post(_path(other.link), data={"action": "erase"}, headers=SAME_ORIGIN)
    assert statuses == [200] * PREFERENCE_POSTS + [429, 429]
    assert limited.status_code == 429 and "しばらくしてから" in limited.text
    with engine.connect() as conn:
        assert latest_preferences(conn) == {}  # the limited save recorded nothing
    # A forged token is limited like a live one (the answers cannot tell them apart); others are not.
    assert forged == [404] * PREFERENCE_POSTS + [429] and others.status_code == 200


@pytest.mark.anyio
async def test_a_form_no_page_of_ours_sends_is_refused(engine: Engine, cfg: Settings) -> None:
    mailed = mail_a_rejection(engine, cfg)
    async with _client(cfg) as client:
        answers = [await client.post(_path(mailed.link), data=form, headers=SAME_ORIGIN) for form in (
            {"family": "no_such_family"}, {"timing": "9"}, {"other_interest": "あ" * 501},
            {"action": "drop_tables"}, {"place": "火星"}, {"skills_text": "簿記\x00"})]
    assert [a.status_code for a in answers] == [400] * 6
    with engine.connect() as conn:
        assert latest_preferences(conn) == {}


def test_the_html_link_and_the_text_link_are_one(engine: Engine, cfg: Settings) -> None:
    mailed: Mailed = mail_a_rejection(engine, cfg)
    assert set(PAGE_LINK.findall(mailed.part("html"))) == {mailed.link}
