"""The HTTP stats adapter against a local fake partner (pytest-httpserver): paging, 429, 5xx, bad items."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, select

from junkan.clock import RunClock
from junkan.config import PartnerSettings
from junkan.db import session_scope
from junkan.db.models import Quarantine
from junkan.db.models_partner import PartnerReferral, PartnerSyncState
from junkan.partner.factory import make_source
from junkan.partner.http import HttpPartnerSource
from junkan.partner.records import BadReferral, PartnerError, ReferralRecord
from junkan.partner.sync import sync_partner
from tests.fakes._common import FakeClock, client_for
from tests.integration._partner_data import ACCEPTED, SIGNER, add_notices

TOKEN = "s3cret-partner-token"
PATH = "/v1/referrals"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def item(code: str, status: str = "registered", when: datetime | None = None) -> dict[str, str]:
    return {
        "ref_code": code,
        "status": status,
        "occurred_at": (when or ACCEPTED + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
    }


def source(httpserver: HTTPServer, clock: FakeClock, *, max_retries: int = 5) -> HttpPartnerSource:
    client = client_for("partner careerrelay", clock, max_retries=max_retries, rng=random.Random(1))
    return HttpPartnerSource("careerrelay", httpserver.url_for("/"), TOKEN, client)


def test_follows_the_cursor_with_the_bearer_token(httpserver: HTTPServer) -> None:
    since = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    httpserver.expect_ordered_request(
        PATH, query_string={"since": "2026-11-01T00:00:00Z"}, headers=AUTH
    ).respond_with_json({"items": [item("a" * 24), item("b" * 24)], "next": "c2"})
    httpserver.expect_ordered_request(
        PATH, query_string={"since": "2026-11-01T00:00:00Z", "cursor": "c2"}, headers=AUTH
    ).respond_with_json({"items": [item("c" * 24, "interviewed")], "next": "c3"})
    httpserver.expect_ordered_request(
        PATH, query_string={"since": "2026-11-01T00:00:00Z", "cursor": "c3"}, headers=AUTH
    ).respond_with_json({"items": [], "next": None})
    clock = FakeClock()
    src = source(httpserver, clock)

    got = list(src.fetch(since))

    httpserver.check_assertions()
    assert [(r.ref_code, r.status) for r in got if isinstance(r, ReferralRecord)] == [
        ("a" * 24, "registered"),
        ("b" * 24, "registered"),
        ("c" * 24, "interviewed"),
    ]
    assert got[0].occurred_at == ACCEPTED + timedelta(days=1)
    assert src.stats["pages"] == 3 and clock.sleeps == []


def test_honours_retry_after_on_429(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(PATH).respond_with_json(
        {"error": "slow down"}, status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request(PATH).respond_with_json({"items": [item("a" * 24)], "next": None})
    clock = FakeClock()

    got = list(source(httpserver, clock).fetch(None))

    httpserver.check_assertions()
    assert len(got) == 1
    assert clock.sleeps == [7.0]
    # The very first sync asks for everything.
    assert httpserver.log[0][0].args["since"] == "1970-01-01T00:00:00Z"


def test_retries_5xx_with_backoff_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(PATH).respond_with_data("oops", status=503)
    httpserver.expect_ordered_request(PATH).respond_with_data("oops", status=502)
    httpserver.expect_ordered_request(PATH).respond_with_json({"items": [item("a" * 24)], "next": None})
    clock = FakeClock()

    got = list(source(httpserver, clock).fetch(None))

    httpserver.check_assertions()
    assert len(got) == 1
    assert len(clock.sleeps) == 2
    # Exponential backoff with jitter: the second wait's ceiling is twice the first's.
    assert 0.25 <= clock.sleeps[0] <= 0.5 and 0.5 <= clock.sleeps[1] <= 1.0


def test_persistent_5xx_gives_a_retryable_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data("down", status=500)
    clock = FakeClock()

    with pytest.raises(PartnerError, match="answered 500 after 3 attempts") as info:
        list(source(httpserver, clock, max_retries=2).fetch(None))

    assert info.value.retryable is True
    assert len(clock.sleeps) == 2


def test_bad_token_fails_without_retrying_or_leaking_it(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json({"message": "invalid token"}, status=401)
    clock = FakeClock()

    with pytest.raises(PartnerError, match="401: authentication failed") as info:
        list(source(httpserver, clock).fetch(None))

    assert info.value.retryable is False
    assert TOKEN not in str(info.value)
    assert len(httpserver.log) == 1 and clock.sleeps == []


def test_malformed_items_become_bad_referrals_and_the_rest_still_counts(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        {
            "items": [
                item("a" * 24),
                "not-an-object",
                {"status": "registered", "occurred_at": "2026-10-02T00:00:00Z"},
                {"ref_code": "b" * 24, "status": "signed-up", "occurred_at": "2026-10-02T00:00:00Z"},
                {"ref_code": "c" * 24, "status": "placed", "occurred_at": "next tuesday"},
                {
                    "ref_code": "d" * 24,
                    "status": "placed",
                    "occurred_at": "2026-10-02T09:00:00+09:00",
                    "name": "山田",
                },
            ],
            "next": None,
        }
    )

    got = list(source(httpserver, FakeClock()).fetch(None))

    good = [r for r in got if isinstance(r, ReferralRecord)]
    bad = [r for r in got if isinstance(r, BadReferral)]
    assert [r.ref_code for r in good] == ["a" * 24, "d" * 24]
    assert good[1].occurred_at == datetime(2026, 10, 2, 0, 0, tzinfo=UTC)
    assert "name" not in good[1].raw  # extra partner fields (possibly personal data) are not kept
    reasons = [b.reason for b in bad]
    assert reasons[0] == "page 0 item 1: item is str, not an object"
    assert "ref_code missing" in reasons[1]
    assert "unknown status 'signed-up'" in reasons[2]
    assert "occurred_at missing or not a date/time: 'next tuesday'" in reasons[3]


def test_a_malformed_page_or_a_looping_cursor_fails_the_fetch(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(PATH).respond_with_json({"items": [], "next": "same"})
    httpserver.expect_ordered_request(PATH).respond_with_json({"items": [], "next": "same"})
    with pytest.raises(PartnerError, match="repeated a cursor"):
        list(source(httpserver, FakeClock()).fetch(None))

    httpserver.clear()
    httpserver.expect_request(PATH).respond_with_json([{"ref_code": "x"}])
    with pytest.raises(PartnerError, match="expected an object with an 'items' list"):
        list(source(httpserver, FakeClock()).fetch(None))


def test_factory_needs_a_token_for_http() -> None:
    with pytest.raises(PartnerError, match="token is not set"):
        make_source(PartnerSettings(kind="http", base_url="http://127.0.0.1:9"))


def test_sync_over_http_stores_quarantines_and_advances_the_watermark(
    engine: Engine, httpserver: HTTPServer
) -> None:
    codes = add_notices(engine, 11)
    first_batch = [item(c, when=ACCEPTED + timedelta(days=i + 1)) for i, c in enumerate(codes[:10])]
    httpserver.expect_ordered_request(PATH, query_string={"since": "1970-01-01T00:00:00Z"}).respond_with_json(
        {"items": first_batch[:6], "next": "p2"}
    )
    httpserver.expect_ordered_request(
        PATH, query_string={"since": "1970-01-01T00:00:00Z", "cursor": "p2"}
    ).respond_with_json(
        {
            "items": [
                *first_batch[6:],
                {"ref_code": "zz", "status": "registered", "occurred_at": "2026-10-03"},
            ],
            "next": None,
        }
    )
    partner = PartnerSettings(kind="http", base_url=httpserver.url_for("/"), token=TOKEN)  # type: ignore[arg-type]
    clock = FakeClock()

    def run(now: datetime) -> dict[str, int]:
        src = make_source(partner, sleep=clock.sleep)
        return sync_partner(engine, partner, verify_code=SIGNER.verify_referral_code,
                            clock=RunClock.fixed(now), source=src)

    stats = run(datetime(2026, 11, 1, tzinfo=UTC))
    assert (stats["new_referrals"], stats["quarantined"], stats["credits_earned"]) == (10, 1, 1)
    with session_scope(engine) as s:
        state = s.get(PartnerSyncState, "careerrelay")
        assert state is not None and state.watermark == ACCEPTED + timedelta(days=10)
        assert state.last_kind == "http"
        assert s.scalars(select(Quarantine.reason)).one().startswith("forged or tampered")

    # The next sync asks from the watermark minus the 7-day look-back, for late reports.
    httpserver.expect_ordered_request(PATH, query_string={"since": "2026-10-04T01:00:00Z"}).respond_with_json(
        {"items": [first_batch[-1], item(codes[10], when=ACCEPTED + timedelta(days=20))], "next": None}
    )
    stats = run(datetime(2026, 11, 2, tzinfo=UTC))
    httpserver.check_assertions()
    assert (stats["new_referrals"], stats["already_known"], stats["credits_earned"]) == (1, 1, 0)
    with session_scope(engine) as s:
        assert s.get(PartnerSyncState, "careerrelay").watermark == ACCEPTED + timedelta(days=20)  # type: ignore[union-attr]
        assert len(s.scalars(select(PartnerReferral)).all()) == 11
        assert {r.reported_via for r in s.scalars(select(PartnerReferral))} == {"http"}
