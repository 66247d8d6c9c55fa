"""Tracked links and one-click unsubscribe, driven through the ASGI app with httpx's ASGI transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import Engine, func, inspect, select

from junkan.config import LinkSettings, PartnerSettings, Settings
from junkan.consent.wording import OPTOUT_WORDING_VERSION
from junkan.db import session_scope
from junkan.db.models import Candidate, Consent, Message, Suppression
from junkan.db.models_engagement import Click, EmailEvent
from junkan.links import LinkSigner
from junkan.web import create_app
from tests.integration._asgi import call
from tests.integration._engagement_data import add_job, add_message, grant, sent_message
from tests.privacy_support import hashed

T0 = datetime(2026, 11, 18, 1, 0, tzinfo=UTC).timestamp()
TRACK_SALT, UNSUB_SALT = "junkan.link.track.v1", "junkan.link.unsubscribe.v1"
DAY = 86_400.0
LANDING = "https://careerrelay.example/register?utm_source=junkan"


# The anyio_backend fixture (asyncio) comes from tests/integration/conftest.py.
pytestmark = pytest.mark.anyio


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "links": LinkSettings(secret="current-secret", fallback_secrets=["old-secret"]),
        "partner": PartnerSettings(name="careerrelay", landing_url=LANDING),
    })


def client_for(
    settings: Settings, clock: Callable[[], float] = lambda: T0, root_path: str = ""
) -> httpx.AsyncClient:
    app = create_app(settings, clock=clock)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, root_path=root_path),
                             base_url="https://mail.example.co.jp")


def signer(secret: str = "current-secret", clock: Callable[[], float] = lambda: T0) -> LinkSigner:
    return LinkSigner(secret, clock=clock)


class _FixedClock(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(T0)


def signed_tracking(payload: Any, secret: str = "current-secret") -> str:
    """A validly signed tracking token carrying any payload: what an old release or a leaked key could mint.

    LinkSigner itself refuses to mint such payloads, so these are built with itsdangerous directly, in the
    token format LinkSigner reads (salts are part of that format).
    """
    return URLSafeTimedSerializer(secret, salt=TRACK_SALT, signer=_FixedClock).dumps(payload)


def signed_unsubscribe(payload: Any, secret: str = "current-secret") -> str:
    return URLSafeSerializer(secret, salt=UNSUB_SALT).dumps(payload)


def partner_link(engine: Engine, ref_code: str) -> tuple[Message, str]:
    """A sent message with this referral code, and the token of its tracked partner link (minted at T0)."""
    msg = sent_message(engine, ref_code=ref_code)
    return msg, signer().tracking_token(msg.public_id, "partner")


def unsubscribe_path(msg: Message) -> str:
    """The message's one-click unsubscribe path, as its footer and List-Unsubscribe header carry it."""
    return f"/u/{signer().unsubscribe_token(msg.public_id)}"


def advertised_mail(engine: Engine, email: str, *purposes: str) -> Message:
    """An advertising mail already sent to this address, whose candidate granted these purposes."""
    with session_scope(engine) as s:
        sent = add_message(s, email=email, advertising=True)
        for purpose in purposes:
            grant(s, sent.candidate_id, purpose)
    return sent


def snapshot(engine: Engine) -> dict[str, Any]:
    with session_scope(engine) as s:
        return {
            "clicks": s.scalar(select(func.count()).select_from(Click)),
            "events": s.scalar(select(func.count()).select_from(EmailEvent)),
            "suppressions": sorted(s.scalars(select(Suppression.email_hash)).all()),
            "consents": sorted(s.execute(select(Consent.candidate_id, Consent.purpose, Consent.granted,
                                                Consent.source)).all()),
            "states": sorted(s.execute(select(Message.public_id, Message.state)).all()),
        }


async def test_partner_click_is_recorded_and_redirects_to_landing_with_ref_code(
    engine: Engine, web_settings: Settings
) -> None:
    msg, token = partner_link(engine, "abcdefghijklmnop12345678")

    async with client_for(web_settings) as client:
        resp = await client.get(f"/r/{token}")

    assert resp.status_code == 302
    location = urlsplit(resp.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "careerrelay.example", "/register")
    assert parse_qs(location.query) == {"utm_source": ["junkan"], "ref": ["abcdefghijklmnop12345678"]}
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["cache-control"] == "no-store"
    with session_scope(engine) as s:
        clicks = s.scalars(select(Click)).all()
    assert [(c.message_id, c.link, c.clicked_at.timestamp()) for c in clicks] == [(msg.id, "partner", T0)]


def test_click_records_hold_no_ip_address_or_user_agent(engine: Engine) -> None:
    columns = {c["name"] for c in inspect(engine).get_columns("click")}
    assert columns == {"id", "message_id", "link", "kind", "clicked_at", "last_at", "fetches"}


async def test_destination_comes_from_the_message_never_from_the_request(
    engine: Engine, web_settings: Settings
) -> None:
    with session_scope(engine) as s:
        msg = add_message(s, ref_code="code-2")
        no_ref = add_message(s, ref_code=None)
    sign = signer()
    async with client_for(web_settings) as client:
        # Query parameters a phisher might add are ignored: the destination is still the partner page.
        resp = await client.get(f"/r/{sign.tracking_token(msg.public_id, 'partner')}",
                                params={"next": "https://evil.example/", "url": "https://evil.example/"})
        assert resp.status_code == 302
        assert urlsplit(resp.headers["location"]).netloc == "careerrelay.example"
        # Even a validly signed token cannot name a URL as its link: it is not a link we know.
        for link in ("https://evil.example/", "//evil.example", "partner/../evil", "job:abc", "job:999"):
            resp = await client.get(f"/r/{signed_tracking({'m': msg.public_id, 'l': link})}")
            assert resp.status_code == 404, link
            assert "location" not in resp.headers
        # A message without a referral code has no partner destination.
        assert (await client.get(f"/r/{sign.tracking_token(no_ref.public_id, 'partner')}")).status_code == 404
        # An unknown message id (signed, but never sent) leads nowhere either.
        assert (await client.get(f"/r/{sign.tracking_token('0' * 24, 'partner')}")).status_code == 404
    assert snapshot(engine)["clicks"] == 1


async def test_tampered_or_foreign_tokens_get_the_neutral_404(engine: Engine, web_settings: Settings) -> None:
    msg, good = partner_link(engine, "code-3")
    flipped = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    forged = signer("attacker-secret").tracking_token(msg.public_id, "partner")
    unsubscribe_token = signer().unsubscribe_token(msg.public_id)  # right key, wrong purpose
    async with client_for(web_settings) as client:
        pages = []
        for token in (flipped, forged, unsubscribe_token, "not-a-token", "x" * 2000):
            resp = await client.get(f"/r/{token}")
            assert resp.status_code == 404
            assert "location" not in resp.headers
            pages.append(resp.text)
    # One page for every failure: it does not tell a forger what went wrong.
    assert len(set(pages)) == 1
    assert "This link is invalid or has expired." in pages[0]
    assert snapshot(engine)["clicks"] == 0


async def test_tracking_tokens_expire_after_the_configured_age(
    engine: Engine, web_settings: Settings
) -> None:
    msg, token = partner_link(engine, "code-4")  # minted at T0, default max age 180 days
    async with client_for(web_settings, clock=lambda: T0 + 179 * DAY) as client:
        assert (await client.get(f"/r/{token}")).status_code == 302
    async with client_for(web_settings, clock=lambda: T0 + 181 * DAY) as client:
        assert (await client.get(f"/r/{token}")).status_code == 404
    short = web_settings.model_copy(update={"links": LinkSettings(secret="current-secret",
                                                                  tracking_max_age_days=7)})
    async with client_for(short, clock=lambda: T0 + 8 * DAY) as client:
        assert (await client.get(f"/r/{token}")).status_code == 404
    # Unsubscribe links never expire: an opt-out must work as long as the mail exists.
    unsub = signer().unsubscribe_token(msg.public_id)
    async with client_for(web_settings, clock=lambda: T0 + 3650 * DAY) as client:
        assert (await client.get(f"/u/{unsub}")).status_code == 200


async def test_tokens_signed_with_a_rotated_out_secret_work_while_it_is_a_fallback(
    engine: Engine, web_settings: Settings
) -> None:
    msg = sent_message(engine, ref_code="code-5")
    old_track = signer("old-secret").tracking_token(msg.public_id, "partner")
    old_unsub = signer("old-secret").unsubscribe_token(msg.public_id)
    async with client_for(web_settings) as client:  # secret=current, fallback=[old]
        assert (await client.get(f"/r/{old_track}")).status_code == 302
        assert (await client.get(f"/u/{old_unsub}")).status_code == 200
    retired = web_settings.model_copy(update={"links": LinkSettings(secret="current-secret")})
    async with client_for(retired) as client:
        assert (await client.get(f"/r/{old_track}")).status_code == 404
        assert (await client.get(f"/u/{old_unsub}")).status_code == 404


async def test_tracked_unsubscribe_link_leads_to_the_confirmation_page_under_the_root_path(
    engine: Engine, web_settings: Settings
) -> None:
    msg = sent_message(engine)
    token = signer().tracking_token(msg.public_id, "unsubscribe")
    async with client_for(web_settings, root_path="/junkan") as client:
        resp = await client.get(f"/junkan/r/{token}")
        assert resp.status_code == 302
        location = resp.headers["location"]
        assert location == "/junkan" + unsubscribe_path(msg)
        page = await client.get(location)
    assert page.status_code == 200
    assert "配信停止の確認" in page.text


async def test_get_unsubscribe_shows_a_confirmation_in_the_message_language_and_changes_nothing(
    engine: Engine, web_settings: Settings
) -> None:
    with session_scope(engine) as s:
        ja = add_message(s, locale="ja", advertising=True, state="pending")
        en = add_message(s, locale="en")
        grant(s, ja.candidate_id, "partner_info")
    before = snapshot(engine)
    async with client_for(web_settings) as client:
        ja_page = await client.get(unsubscribe_path(ja))
        en_page = await client.get(unsubscribe_path(en))
        head = await client.head(unsubscribe_path(ja))
    assert ja_page.status_code == en_page.status_code == head.status_code == 200
    assert '<html lang="ja">' in ja_page.text
    assert ">ご案内の配信を停止する</button>" in ja_page.text
    assert ">すべてのメールを停止する</button>" in ja_page.text
    assert "選考に関するご連絡は、これまでどおりお送りします。" in ja_page.text
    assert '<html lang="en">' in en_page.text
    assert ">Stop these announcements</button>" in en_page.text
    assert ">Stop all e-mail</button>" in en_page.text
    for page in (ja_page, en_page):
        # Two choices: the one-click scope (what the footer and header do), and all mail.
        assert page.text.count('<form method="post">') == 2
        assert 'name="List-Unsubscribe" value="One-Click"' in page.text
        assert 'name="choice" value="all_mail"' in page.text
        assert OPTOUT_WORDING_VERSION in page.text
        assert web_settings.sender.postal_address in page.text  # 特定電子メール法: sender identity shown
        assert "form-action 'self'" in page.headers["content-security-policy"]
        assert "set-cookie" not in page.headers
    assert snapshot(engine) == before


async def test_one_click_post_unsubscribes_at_once_and_repeating_it_is_harmless(
    engine: Engine, web_settings: Settings
) -> None:
    sent = advertised_mail(engine, "hanako@example.jp", "partner_info", "recontact", "talent_pool")
    cand_id = sent.candidate_id
    with session_scope(engine) as s:
        cand = s.get(Candidate, cand_id)
        pending_ad = add_message(s, candidate=cand, kind="recontact", advertising=True, state="pending")
        pending_notice = add_message(s, candidate=cand, kind="withdrawn_thanks", advertising=False,
                                     state="pending")
        other = add_message(s, advertising=True, state="pending")
    url = unsubscribe_path(sent)
    async with client_for(web_settings, clock=lambda: T0 + 60) as client:
        # What Gmail/Yahoo send for RFC 8058: a form POST with this body, no cookies, no referer.
        first = await client.post(url, content=b"List-Unsubscribe=One-Click",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        after_one = snapshot(engine)
        again = [await client.post(url, data={"List-Unsubscribe": "One-Click"}) for _ in range(2)]
        empty = await client.post(url)

    for resp in (first, *again, empty):
        assert resp.status_code == 200
        assert "location" not in resp.headers
        assert "ご案内の配信を停止しました" in resp.text
        assert 'name="choice" value="all_mail"' in resp.text  # stopping all mail is still offered
    assert snapshot(engine) == after_one

    with session_scope(engine) as s:
        # Advertising only: the address is not suppressed, so notices about applications still go.
        assert s.scalars(select(Suppression.email_hash)).all() == []
        latest = {}
        for c in s.scalars(select(Consent).where(Consent.candidate_id == cand_id)
                           .order_by(Consent.recorded_at, Consent.id)):
            latest[c.purpose] = (c.granted, c.source, c.recorded_at.timestamp())
            if c.source == "unsubscribe":
                assert (c.wording_version, c.expires_at) == (OPTOUT_WORDING_VERSION, None)
        states = dict(s.execute(select(Message.id, Message.state)).all())
        events = s.execute(select(EmailEvent.message_id, EmailEvent.event, EmailEvent.source)).all()
    assert latest == {
        "partner_info": (False, "unsubscribe", T0 + 60),
        "recontact": (False, "unsubscribe", T0 + 60),
        "talent_pool": (True, "csv", datetime(2026, 11, 1, tzinfo=UTC).timestamp()),
    }
    assert states[pending_ad.id] == "cancelled"
    assert states[pending_notice.id] == "pending"  # not advertising: the courtesy notice still goes
    assert states[sent.id] == "accepted"
    assert states[other.id] == "pending"  # someone else's mail is untouched
    assert events == [(sent.id, "unsubscribe", "junkan")]


async def test_the_pages_second_choice_stops_all_mail_and_is_recorded(
    engine: Engine, web_settings: Settings
) -> None:
    sent = advertised_mail(engine, "taro@example.jp", "partner_info")
    url = unsubscribe_path(sent)
    async with client_for(web_settings, clock=lambda: T0 + 60) as client:
        advertising = await client.post(url, data={"List-Unsubscribe": "One-Click"})
        everything = await client.post(url, data={"choice": "all_mail"})
        after = snapshot(engine)
        again = await client.post(url, data={"choice": "all_mail"})
    assert advertising.status_code == everything.status_code == again.status_code == 200
    assert "すべてのメールを停止しました" in everything.text and 'name="choice"' not in everything.text
    assert snapshot(engine) == after
    with session_scope(engine) as s:
        assert s.scalars(select(Suppression.email_hash)).all() == [hashed("taro@example.jp")]
        rows = s.execute(select(Consent.purpose, Consent.granted, Consent.source, Consent.wording_version)
                         .where(Consent.source == "unsubscribe").order_by(Consent.id)).all()
    assert sorted(rows) == sorted([
        ("partner_info", False, "unsubscribe", OPTOUT_WORDING_VERSION),
        ("recontact", False, "unsubscribe", OPTOUT_WORDING_VERSION),
        ("all_mail", False, "unsubscribe", OPTOUT_WORDING_VERSION),
    ])


async def test_post_with_a_bad_token_changes_nothing(engine: Engine, web_settings: Settings) -> None:
    msg = sent_message(engine)
    before = snapshot(engine)
    async with client_for(web_settings) as client:
        forged = signer("attacker-secret").unsubscribe_token(msg.public_id)
        tracking = signer().tracking_token(msg.public_id, "unsubscribe")
        unknown = signer().unsubscribe_token("f" * 24)
        for token in (forged, tracking, unknown):
            assert (await client.post(f"/u/{token}")).status_code == 404
    assert snapshot(engine) == before


async def test_healthz_and_unknown_paths(engine: Engine, web_settings: Settings) -> None:
    async with client_for(web_settings) as client:
        health = await client.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert (await client.get("/nowhere")).status_code == 404
        assert (await client.post("/r/abc")).status_code == 405


async def test_signed_job_links_with_odd_digits_lead_nowhere(engine: Engine, web_settings: Settings) -> None:
    with session_scope(engine) as s:
        msg = add_message(s)
        job = add_job(s)
    settings = web_settings.model_copy(update={"links": LinkSettings(
        secret="current-secret", job_url_template="https://careers.example/jobs/{external_id}")})
    async with client_for(settings) as client:
        ok = await client.get(f"/r/{signed_tracking({'m': msg.public_id, 'l': f'job:{job.id}'})}")
        assert (ok.status_code, ok.headers["location"]) == (302, "https://careers.example/jobs/J-100")
        for ref in ("²", "١٢", "１", "9" * 5000, "9" * 20, str(2 ** 63), "-1", "+1", " 1", "1.0", "0x1", ""):
            resp = await client.get(f"/r/{signed_tracking({'m': msg.public_id, 'l': 'job:' + ref})}")
            assert resp.status_code == 404, ref
            assert "location" not in resp.headers
    assert snapshot(engine)["clicks"] == 1


def _raw_json(text: str) -> Any:
    """An itsdangerous serializer that signs JSON text exactly as given (escapes, NaN, huge numbers)."""

    class Raw:
        @staticmethod
        def dumps(obj: Any) -> str:
            return str(obj)

        @staticmethod
        def loads(data: str) -> Any:
            raise AssertionError("the tests only sign with this serializer; the app under test reads")

    return Raw


def signed_text(kind: str, text: str) -> str:
    if kind == "track":
        return URLSafeTimedSerializer("current-secret", salt=TRACK_SALT, signer=_FixedClock,
                                      serializer=_raw_json(text)).dumps(text)
    return URLSafeSerializer("current-secret", salt=UNSUB_SALT, serializer=_raw_json(text)).dumps(text)


#: Any text, lone surrogates and control characters (NUL) included.
_ODD_TEXT = st.text(alphabet=st.characters() | st.characters(categories=["Cs", "Cc"]), max_size=12)
_ODD_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | _ODD_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_ODD_TEXT, inner, max_size=3), max_leaves=6)
#: JSON texts a validly signed token might carry that json.dumps would not write.
_ODD_TEXTS = ['"\\u0000"', '"\\ud800"', '{"m": "\\u0000", "l": "partner"}', '{"m": "\\udfff", "l": "job:1"}',
              "9" * 5000, '{"m": "a", "l": "job:' + "9" * 5000 + '"}', "[" * 5000 + "]" * 5000, "NaN",
              '{"m": 1e400, "l": "partner"}', "not json", "", '{"m": "a", "l": "partner", "x": 1}']


@hypothesis_settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_validly_signed_payload_on_any_route_gives_a_neutral_answer_never_a_500(
    engine: Engine, web_settings: Settings, data: st.DataObject
) -> None:
    with session_scope(engine) as s:
        msg = s.scalars(select(Message).where(Message.ref_code == "fuzz-ref")).first() or add_message(
            s, ref_code="fuzz-ref")
        public_id = msg.public_id
    fuzz_settings = web_settings.model_copy(update={"links": LinkSettings(
        secret="current-secret", job_url_template="https://careers.example/jobs/{job_id}")})
    shaped_id = st.sampled_from([public_id, "0" * 22]) | st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
    shaped_link = st.sampled_from(["partner", "unsubscribe", "job:1", "job:" + "9" * 19]) | st.from_regex(
        r"[a-z][a-z0-9_]{0,31}(:[A-Za-z0-9_-]{1,64})?", fullmatch=True)
    weird = _ODD_JSON | shaped_id | shaped_link
    payload = data.draw(st.one_of(
        st.builds(lambda m, ln: json.dumps({"m": m, "l": ln}), shaped_id | weird, shaped_link | weird),
        _ODD_JSON.map(json.dumps), (shaped_id | weird).map(json.dumps), st.sampled_from(_ODD_TEXTS)))
    kind = data.draw(st.sampled_from(["track", "unsubscribe"]))
    token = signed_text(kind, payload)
    app = create_app(fuzz_settings, clock=lambda: T0)
    for method, route in (("GET", "r"), ("HEAD", "r"), ("GET", "u"), ("HEAD", "u"), ("POST", "u")):
        result = asyncio.run(call(app, method, f"/{route}/{token}"))
        assert result.status in (200, 302, 404), (method, route, payload, result.status)
        legit = (kind == "track" and route == "r" and payload in (
            json.dumps({"m": public_id, "l": "partner"}), json.dumps({"m": public_id, "l": "unsubscribe"}))
        ) or (kind == "unsubscribe" and route == "u" and payload == json.dumps(public_id))
        assert result.status == 404 or legit, (method, route, payload, result.status)
