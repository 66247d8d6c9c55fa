"""Tracked-link fetches count people, not fetches: a person's repeated clicks on a link count once, and mail
scanners' fetches (HEAD, right after delivery, every link of a mail at once) are stored apart. The
redirect works the same for every fetch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, update

from junkan.config import LinkSettings, PartnerSettings, Settings
from junkan.db import session_scope
from junkan.db.models import Message
from junkan.db.models_engagement import Click
from junkan.links import LinkSigner
from junkan.reports.build import build_report
from junkan.reports.periods import month
from junkan.web import create_app
from tests.integration._engagement_data import SENT_AT, sent_message

pytestmark = pytest.mark.anyio

T0 = SENT_AT.timestamp()  # the test messages were accepted at T0
HOUR = 3600.0
SECRET = "s" * 32


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "links": LinkSettings(secret=SECRET),
        "partner": PartnerSettings(name="careerrelay", landing_url="https://careerrelay.example/register"),
    })


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def client_for(settings: Settings, clock: Callable[[], float]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, clock=clock)),
                             base_url="https://mail.example.co.jp")


def link_path(message: Message, link: str) -> str:
    return f"/r/{LinkSigner(SECRET, clock=lambda: T0).tracking_token(message.public_id, link)}"


def clicks(engine: Engine) -> list[tuple[Any, ...]]:
    with session_scope(engine) as s:
        return [tuple(r) for r in s.execute(select(Click.message_id, Click.link, Click.kind, Click.fetches)
                                            .order_by(Click.message_id, Click.link, Click.kind))]


def november_kpis(engine: Engine, settings: Settings) -> dict[str, Any]:
    kpis = build_report(engine, settings, month(2026, 11), trend_months=0).kpis
    partner = sum(r["value"] for r in kpis["partner_link_clicks"]["breakdown"])
    (clicked,) = [r["inputs"]["clicked"] for r in kpis["email_clicked_rate"]["breakdown"]]
    (delivered,) = [r["inputs"]["delivered"] for r in kpis["email_delivered_rate"]["breakdown"]]
    return {"partner_link_clicks": partner, "clicked": clicked, "delivered": delivered}


async def test_a_persons_repeated_clicks_on_one_link_count_once(
    engine: Engine, web_settings: Settings
) -> None:
    msg = sent_message(engine, ref_code="code-1")
    async with client_for(web_settings, Clock(T0 + 24 * HOUR)) as client:
        answers = [await client.get(link_path(msg, "partner")) for _ in range(5)]
    assert [a.status_code for a in answers] == [302] * 5
    # The provider said nothing of this mail: the click is counted, its delivery is no provider's report.
    assert november_kpis(engine, web_settings) == {"partner_link_clicks": 1, "clicked": 1, "delivered": 0}
    assert clicks(engine) == [(msg.id, "partner", "person", 5)]


async def test_head_requests_are_scanner_fetches_answered_alike_but_not_counted(
    engine: Engine, web_settings: Settings
) -> None:
    msg = sent_message(engine, ref_code="code-1", state="delivered")
    async with client_for(web_settings, Clock(T0 + 24 * HOUR)) as client:
        head = await client.head(link_path(msg, "partner"))
    assert head.status_code == 302
    assert head.headers["location"].startswith("https://careerrelay.example/register")
    assert november_kpis(engine, web_settings) == {"partner_link_clicks": 0, "clicked": 0, "delivered": 1}
    assert clicks(engine) == [(msg.id, "partner", "scanner", 1)]


async def test_a_fetch_within_the_configured_seconds_of_delivery_is_a_scanners(
    engine: Engine, web_settings: Settings
) -> None:
    web_settings = web_settings.model_copy(update={"links": LinkSettings(secret=SECRET,
                                                                         scanner_after_delivery_s=120)})
    msg = sent_message(engine, ref_code="code-1")
    delivered = SENT_AT + timedelta(seconds=20)
    with session_scope(engine) as s:
        s.execute(update(Message).where(Message.id == msg.id).values(delivered_at=delivered))
    clock = Clock(delivered.timestamp() + 119)  # the scanner, as the mail arrives
    async with client_for(web_settings, clock) as client:
        scanned = await client.get(link_path(msg, "partner"))
        clock.at += 3600  # the person, an hour later
        read = await client.get(link_path(msg, "partner"))
    assert (scanned.status_code, read.status_code) == (302, 302)
    assert scanned.headers["location"] == read.headers["location"]
    assert november_kpis(engine, web_settings)["partner_link_clicks"] == 1
    assert clicks(engine) == [(msg.id, "partner", "person", 1), (msg.id, "partner", "scanner", 1)]


async def test_every_link_of_a_mail_fetched_at_once_is_a_scanner_and_the_person_still_counts(
    engine: Engine, web_settings: Settings
) -> None:
    msg = sent_message(engine, ref_code="code-1")
    clock = Clock(T0 + 24 * HOUR)
    async with client_for(web_settings, clock) as client:
        first = await client.get(link_path(msg, "partner"))
        clock.at += 2
        second = await client.get(link_path(msg, "unsubscribe"))
        assert clicks(engine) == [(msg.id, "partner", "scanner", 1), (msg.id, "unsubscribe", "scanner", 1)]
        clock.at += HOUR
        person = await client.get(link_path(msg, "partner"))
    assert [r.status_code for r in (first, second, person)] == [302, 302, 302]
    assert second.headers["location"].startswith("/u/")
    assert clicks(engine) == [(msg.id, "partner", "person", 1), (msg.id, "partner", "scanner", 1),
                              (msg.id, "unsubscribe", "scanner", 1)]
    assert november_kpis(engine, web_settings)["partner_link_clicks"] == 1


async def test_a_scanner_fetching_a_mails_links_concurrently_is_recognised(
    engine: Engine, web_settings: Settings
) -> None:
    mails = [sent_message(engine, ref_code=f"code-{n}") for n in range(3)]
    async with client_for(web_settings, Clock(T0 + 24 * HOUR)) as client:
        answers = await asyncio.gather(*(client.get(link_path(m, link)) for m in mails
                                         for link in ("partner", "unsubscribe")))
    assert {a.status_code for a in answers} == {302}
    assert {kind for _, _, kind, _ in clicks(engine)} == {"scanner"}
    assert len(clicks(engine)) == 6
    assert november_kpis(engine, web_settings)["partner_link_clicks"] == 0
