"""Renewal of `talent_pool` consent by e-mail: who is asked (once), the mail, and the signed link's page.

The link's page changes nothing on GET and records a fresh grant on POST; a forged, expired or misdirected
token gets the 404 page and records nothing.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from junkan.config import ConsentSettings, LinkSettings, Settings
from junkan.consent.expiry import expires_at
from junkan.consent.renewal import RENEWAL_KIND
from junkan.consent.wording import RENEWAL_WORDING_VERSION
from junkan.db import session_scope
from junkan.db.models import Candidate, Consent, Message
from junkan.engagement.optout import suppress, unsubscribe_message
from junkan.links import LinkSigner
from junkan.outbox.renewal_mail import cancel_moot_renewals, enqueue_renewals, run_renewals
from junkan.web import create_app

#: Friday 2026-11-20, 10:00 JST: inside the sending window.
NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECRET = "renewal-test-secret"


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "consent": ConsentSettings(renewal_enabled=True),
        "links": LinkSettings(secret=SECRET, public_base_url="https://jobs.example.co.jp"),
    })


def person(s: Session, *, granted_days_ago: float | None, email_key: str | None = None,
           locale: str = "ja") -> int:
    """A candidate whose `talent_pool` grant was recorded that many days before NOW (as ingest writes it)."""
    c = Candidate(email_key=email_key, display_name="山田 太郎", locale=locale, tags=[])
    s.add(c)
    s.flush()
    if c.email_key is None:
        c.email_key = f"p{c.id}@example.jp"
    if granted_days_ago is not None:
        at = NOW - granted_days_ago * DAY
        s.add(Consent(candidate_id=c.id, purpose="talent_pool", granted=True, recorded_at=at, source="csv",
                      expires_at=expires_at("talent_pool", True, at, ConsentSettings())))
    s.flush()
    return c.id


def renewals(engine: Engine) -> dict[int, str]:
    with Session(engine) as s:
        return dict(s.execute(select(Message.candidate_id, Message.state)
                              .where(Message.kind == RENEWAL_KIND)).all())


def mails(directory: Path) -> list[EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for p in sorted(directory.glob("*.eml"))]


def test_renewals_are_off_by_default(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        person(s, granted_days_ago=362)
    assert settings.consent.renewal_enabled is False
    run = run_renewals(engine, settings, now=NOW)
    assert run.counts()["renewals_enqueued"] == 0 and renewals(engine) == {}


def test_only_grants_lapsing_within_the_window_are_asked_once_each(engine: Engine, cfg: Settings) -> None:
    with session_scope(engine) as s:
        due = person(s, granted_days_ago=360)        # lapses in 5 days
        edge = person(s, granted_days_ago=358)       # lapses in exactly 7 days
        later = person(s, granted_days_ago=300)      # lapses in 65 days
        lapsed = person(s, granted_days_ago=366)     # lapsed yesterday: nothing left to renew
        never = person(s, granted_days_ago=None)
        opted_out = person(s, granted_days_ago=360)
        stopped_all = person(s, granted_days_ago=360)
        person(s, granted_days_ago=360, email_key="bounced@example.jp")
        suppress(s, [("bounced@example.jp", "bounce")], source="sendgrid", at=NOW - 30 * DAY,
                 key=cfg.retention.key_bytes())
        s.add_all([Consent(candidate_id=opted_out, purpose="recontact", granted=False, source="unsubscribe",
                           recorded_at=NOW - 2 * DAY),
                   Consent(candidate_id=stopped_all, purpose="all_mail", granted=False, source="unsubscribe",
                           recorded_at=NOW - 2 * DAY)])
    with session_scope(engine) as s:
        first = enqueue_renewals(s, cfg, NOW)
    assert first.counts() == {"expiring": 5, "enqueued": 2, "already_asked": 0, "opted_out": 2,
                              "suppressed": 1, "no_address": 0}
    assert renewals(engine) == {due: "pending", edge: "pending"}
    with session_scope(engine) as s:
        again = enqueue_renewals(s, cfg, NOW + DAY)
    assert (again.enqueued, again.already) == (0, 2)  # once per consent record, across runs
    assert set(renewals(engine)) == {due, edge}
    assert {later, lapsed, never}.isdisjoint(renewals(engine))


def test_the_renewal_mail_carries_the_signed_link_and_says_what_unsubscribing_stops(
    engine: Engine, cfg: Settings
) -> None:
    with session_scope(engine) as s:
        ja = person(s, granted_days_ago=360)
        en = person(s, granted_days_ago=360, locale="en")
    run = run_renewals(engine, cfg, now=NOW)
    assert (run.counts()["renewals_enqueued"], run.counts()["renewals_sent"]) == (2, 2)
    assert renewals(engine) == {ja: "accepted", en: "accepted"}
    by_lang = {("ja" if "タレントプール" in m["Subject"] else "en"): m for m in mails(cfg.mail.outbox_dir)}
    ja_text, en_text = (by_lang[lang].get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
                        for lang in ("ja", "en"))
    assert "7日以内に有効期限を迎えます" in ja_text and "https://jobs.example.co.jp/c/" in ja_text
    assert "このメールは、タレントプールへのご登録にご同意いただいた方にお送りしています。" in ja_text
    assert "提携サービスのご案内・求人のご案内・タレントプール登録の更新のご案内の配信を" in ja_text
    assert "expires within\n7 days" in en_text and "https://jobs.example.co.jp/c/" in en_text
    assert "You receive this because you agreed to join our talent pool." in en_text
    for mail in by_lang.values():
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Sent once: another run has nothing new to ask or send.
    again = run_renewals(engine, cfg, now=NOW + timedelta(hours=1))
    assert (again.counts()["renewals_enqueued"], again.counts()["renewals_sent"]) == (0, 0)


def test_a_pending_renewal_is_cancelled_once_moot(engine: Engine, cfg: Settings) -> None:
    with session_scope(engine) as s:
        renewed = person(s, granted_days_ago=360)
        unsubscribed = person(s, granted_days_ago=360)
        waiting = person(s, granted_days_ago=360)
        enqueue_renewals(s, cfg, NOW)
    with session_scope(engine) as s:
        s.add(Consent(candidate_id=renewed, purpose="talent_pool", granted=True, source="csv",
                      recorded_at=NOW, expires_at=NOW + 365 * DAY))
        public_id = s.scalar(select(Message.public_id).where(Message.candidate_id == unsubscribed))
        assert public_id is not None
        # One click: renewals are advertising and stop.
        unsubscribe_message(s, public_id, at=NOW, key=cfg.retention.key_bytes())
    with session_scope(engine) as s:
        cancelled = cancel_moot_renewals(s, cfg, NOW + timedelta(minutes=1))
    assert cancelled == 1  # the unsubscribe cancelled its own pending mail already
    assert renewals(engine) == {renewed: "cancelled", unsubscribed: "cancelled", waiting: "pending"}


# -- the link's page -------------------------------------------------------------------------------------

def _client(settings: Settings, at: datetime) -> httpx.AsyncClient:
    app = create_app(settings, clock=lambda: at.timestamp())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://jobs.example.co.jp")


def _consents(engine: Engine) -> list[tuple[Any, ...]]:
    with Session(engine) as s:
        return [tuple(r) for r in s.execute(
            select(Consent.candidate_id, Consent.purpose, Consent.granted, Consent.source,
                   Consent.wording_version, Consent.recorded_at, Consent.expires_at).order_by(Consent.id))]


def _sent_renewal(engine: Engine, cfg: Settings) -> tuple[int, str]:
    with session_scope(engine) as s:
        cid = person(s, granted_days_ago=360)
        enqueue_renewals(s, cfg, NOW)
        public_id = s.scalar(select(Message.public_id).where(Message.kind == RENEWAL_KIND))
    assert public_id is not None
    return cid, public_id


def _path(cfg: Settings, public_id: str, at: datetime = NOW) -> str:
    signer = LinkSigner(SECRET, clock=lambda: at.timestamp())
    return urlsplit(f"https://x/c/{signer.renewal_token(public_id)}").path


@pytest.mark.anyio
async def test_a_renewal_link_renews_on_post_only(engine: Engine, cfg: Settings) -> None:
    cid, public_id = _sent_renewal(engine, cfg)
    path = _path(cfg, public_id)
    before = _consents(engine)
    clicked = NOW + 2 * DAY
    async with _client(cfg, clicked) as client:
        page = await client.get(path)
        head = await client.head(path)
        assert _consents(engine) == before  # a GET (a link scanner, a preview) changes nothing
        posted = await client.post(path, data={"renew": "talent_pool"})
        after = _consents(engine)
        repeated = await client.post(path, data={"renew": "talent_pool"})
    assert page.status_code == head.status_code == posted.status_code == repeated.status_code == 200
    assert RENEWAL_WORDING_VERSION in page.text and '<form method="post">' in page.text
    assert ">ご登録を更新する</button>" in page.text and "365日間保管し" in page.text
    assert after == [*before, (cid, "talent_pool", True, "link", RENEWAL_WORDING_VERSION, clicked,
                               clicked + 365 * DAY)]
    assert _consents(engine) == after  # a double click records it once
    assert "ご登録を更新しました" in posted.text and "2027-11-22" in posted.text
    # Renewed: the lapsing grant is no longer the current one, so nobody asks again.
    with session_scope(engine) as s:
        assert enqueue_renewals(s, cfg, NOW + 3 * DAY).expiring == 0


@pytest.mark.anyio
async def test_a_forged_expired_or_misdirected_renewal_link_records_nothing(
    engine: Engine, cfg: Settings
) -> None:
    _, public_id = _sent_renewal(engine, cfg)
    with session_scope(engine) as s:
        other = s.scalar(select(Candidate.id))
        assert other is not None
    unsubscribe_token = LinkSigner(SECRET).unsubscribe_token(public_id)  # right key, wrong purpose
    forged = LinkSigner("attacker-secret", clock=lambda: NOW.timestamp()).renewal_token(public_id)
    stale = _path(cfg, public_id, at=NOW - 31 * DAY)  # older than renewal_link_max_age_days (30)
    unknown = _path(cfg, "f" * 22)
    before = _consents(engine)
    async with _client(cfg, NOW + DAY) as client:
        for path in (f"/c/{forged}", stale, unknown, f"/c/{unsubscribe_token}", "/c/not-a-token"):
            for method in ("GET", "POST"):
                resp = await client.request(method, path, data={"renew": "talent_pool"}
                                            if method == "POST" else None)
                assert resp.status_code == 404, (path, method)
                assert "リンクが無効です" in resp.text
    assert _consents(engine) == before
