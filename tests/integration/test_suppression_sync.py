"""Suppression sync against a local fake of SendGrid's suppression endpoints (pytest-httpserver)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select

from junkan.config import MailSettings
from junkan.db import session_scope
from junkan.db.models import Candidate, Consent, Message, Suppression
from junkan.db.models_engagement import SuppressionSync
from junkan.engagement.suppressions import sendgrid_client, sync_suppressions
from junkan.http import HttpError
from tests.fakes._common import FakeClock
from tests.fakes.sendgrid_suppressions import API_KEY, SuppressionFake
from tests.integration._engagement_data import add_message, grant
from tests.privacy_support import KEY, hashed

T0 = 1_795_000_000  # the first sync runs at this unix time


@pytest.fixture
def fake(httpserver: HTTPServer) -> Iterator[SuppressionFake]:
    yield SuppressionFake(httpserver)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=float(T0))


def mail_for(fake: SuppressionFake, **extra: object) -> MailSettings:
    return MailSettings(backend="sendgrid", sendgrid_api_key=API_KEY, sendgrid_host=fake.url, max_retries=3,
                        **extra)  # type: ignore[arg-type]


def run_sync(engine: Engine, mail: MailSettings, clock: FakeClock, page_size: int = 500) -> dict[str, int]:
    with sendgrid_client(mail, sleep=clock.sleep, clock=clock) as client:
        return sync_suppressions(engine, mail, client, now=datetime.fromtimestamp(clock(), UTC), key=KEY,
                                 page_size=page_size)


def suppressed(engine: Engine) -> dict[str, tuple[str, str]]:
    with session_scope(engine) as s:
        return {e: (r, src) for e, r, src in s.execute(
            select(Suppression.email_hash, Suppression.reason, Suppression.source))}


def test_first_sync_pages_through_every_list_and_merges_normalised_addresses(
    engine: Engine, fake: SuppressionFake, clock: FakeClock
) -> None:
    for i in range(1203):
        fake.add("bounces", f"bounce{i:04d}@example.jp", T0 - 10_000 + i, reason="550 5.1.1", status="5.1.1")
    fake.add("blocks", "blocked@example.jp", T0 - 500, reason="451 try later", status="4.0.0")
    fake.add("spam_reports", "Ｃｏｍｐｌａｉｎ@Example.JP", T0 - 400)  # full-width, as some senders type it
    fake.add("invalid_emails", "not-an-address", T0 - 300, reason="Mail domain is unknown")
    fake.add("unsubscribes", "leaver@example.jp", T0 - 200)
    fake.add("unsubscribes", "later@example.jp", T0 + 50)  # after the sync began: next time

    counts = run_sync(engine, mail_for(fake), clock)

    assert counts == {
        "bounces_fetched": 1203, "bounces_added": 1203,
        "blocks_fetched": 1, "blocks_added": 1,
        "spam_reports_fetched": 1, "spam_reports_added": 1,
        "invalid_emails_fetched": 1, "invalid_emails_added": 0,
        "unsubscribes_fetched": 1, "unsubscribes_added": 1,
    }
    rows = suppressed(engine)
    assert len(rows) == 1206
    assert rows[hashed("complain@example.jp")] == ("spamreport", "sendgrid-sync")
    assert rows[hashed("leaver@example.jp")] == ("unsubscribe", "sendgrid-sync")
    assert rows[hashed("blocked@example.jp")] == ("block", "sendgrid-sync")
    bounce_requests = [r for r in fake.requests if r.path == "/v3/suppression/bounces"]
    assert [(r.args["limit"], r.args["offset"]) for r in bounce_requests] == [
        ("500", "0"), ("500", "500"), ("500", "1000")]
    assert all(r.args["end_time"] == str(T0) and "start_time" not in r.args for r in fake.requests)
    assert {r.authorization for r in fake.requests} == {f"Bearer {API_KEY}"}
    with session_scope(engine) as s:
        marks = {m.list_name: m.watermark for m in s.scalars(select(SuppressionSync))}
    assert marks["bounces"] == datetime.fromtimestamp(T0 - 10_000 + 1202, UTC)
    assert marks["unsubscribes"] == datetime.fromtimestamp(T0 - 200, UTC)
    assert marks["invalid_emails"] == datetime.fromtimestamp(T0 - 300, UTC)


def test_next_sync_starts_from_the_watermark_and_pages_with_small_pages(
    engine: Engine, fake: SuppressionFake, clock: FakeClock
) -> None:
    for i in range(5):
        fake.add("unsubscribes", f"u{i}@example.jp", T0 - 100 + i)
    run_sync(engine, mail_for(fake), clock, page_size=2)
    first_requests = len(fake.requests)
    fake.add("unsubscribes", "new1@example.jp", T0 + 3600)
    fake.add("unsubscribes", "new2@example.jp", T0 + 3700)
    clock.advance(86_400)
    fake.requests.clear()

    counts = run_sync(engine, mail_for(fake), clock, page_size=2)

    unsub = [r for r in fake.requests if r.path == "/v3/suppression/unsubscribes"]
    assert first_requests == 3 + 4  # 5 unsubscribes in pages of 2, and one empty page per other list
    assert [r.args.get("start_time") for r in unsub] == [str(T0 - 96)] * len(unsub)
    assert [r.args["offset"] for r in unsub] == ["0", "2"]
    # The boundary entry is fetched again (start_time is inclusive) but adds nothing.
    assert (counts["unsubscribes_fetched"], counts["unsubscribes_added"]) == (3, 2)
    assert {hashed("new1@example.jp"), hashed("new2@example.jp")} <= set(suppressed(engine))


def test_unsubscribes_from_sendgrid_withdraw_consents_and_cancel_advertising(
    engine: Engine, fake: SuppressionFake, clock: FakeClock
) -> None:
    with session_scope(engine) as s:
        sent = add_message(s, email="leaver@example.jp")
        cand = s.get(Candidate, sent.candidate_id)
        pending = add_message(s, candidate=cand, kind="recontact", advertising=True, state="pending")
        grant(s, cand.id, "partner_info")
        bounced = add_message(s, email="gone@example.jp")
        grant(s, bounced.candidate_id, "partner_info")
    fake.add("unsubscribes", "leaver@example.jp", T0 - 10)
    fake.add("bounces", "gone@example.jp", T0 - 10)
    fake.set_group(42, ["Group.Leaver@example.jp", "leaver@example.jp"])

    counts = run_sync(engine, mail_for(fake, asm_group_id=42), clock)

    assert (counts["asm_group_fetched"], counts["asm_group_added"]) == (2, 1)
    assert suppressed(engine)[hashed("group.leaver@example.jp")] == ("group_unsubscribe", "sendgrid-sync")
    with session_scope(engine) as s:
        withdrawn = s.execute(select(Consent.candidate_id, Consent.purpose).where(
            Consent.granted.is_(False))).all()
        state = s.get(Message, pending.id).state
    assert sorted(withdrawn) == [(cand.id, "partner_info"), (cand.id, "recontact")]  # not the bounced one
    assert state == "cancelled"


def test_throttling_and_server_errors_are_retried_with_the_advertised_waits(
    engine: Engine, fake: SuppressionFake, clock: FakeClock
) -> None:
    fake.add("blocks", "b@example.jp", T0 - 5)
    fake.fail_next("/v3/suppression/bounces", 429, {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0",
                                                     "X-RateLimit-Reset": str(T0 + 7)})
    fake.fail_next("/v3/suppression/blocks", 503)
    fake.fail_next("/v3/suppression/blocks", 502)

    counts = run_sync(engine, mail_for(fake), clock)

    assert counts["blocks_added"] == 1
    assert clock.sleeps[0] == pytest.approx(7.0)  # until X-RateLimit-Reset
    assert len(clock.sleeps) == 3 and all(0 < s <= 30 for s in clock.sleeps[1:])
    watched = ("/v3/suppression/bounces", "/v3/suppression/blocks")
    statuses = [r.status for r in fake.requests if r.path in watched]
    assert statuses == [429, 200, 503, 502, 200]


def test_bad_credentials_fail_clearly_and_keep_the_watermark(
    engine: Engine, fake: SuppressionFake, clock: FakeClock
) -> None:
    fake.add("bounces", "x@example.jp", T0 - 5)
    mail = mail_for(fake).model_copy(update={"sendgrid_api_key": SecretStr("SG.wrong")})
    with pytest.raises(HttpError) as info:
        run_sync(engine, mail, clock)
    assert info.value.status == 401 and not info.value.retryable
    # A SendGrid failure says SendGrid, not "ATS": the client is the vendor-neutral one.
    assert info.value.vendor == "SendGrid" and str(info.value).startswith("SendGrid GET /v3/suppression/")
    assert "SG.wrong" not in str(info.value)
    assert suppressed(engine) == {}
    with session_scope(engine) as s:
        assert s.scalars(select(SuppressionSync)).all() == []
    # Retried with the right key, nothing was lost.
    assert run_sync(engine, mail_for(fake), clock)["bounces_added"] == 1


def test_an_api_key_is_required() -> None:
    with pytest.raises(ValueError, match="SENDGRID_API_KEY"):
        sendgrid_client(MailSettings(backend="sendgrid"))
