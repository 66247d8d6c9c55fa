"""Lever adapter against the local Lever fake (tests/fakes/lever.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from junkan.ats.factory import build_adapter
from junkan.ats.lever import RATE_LIMIT_WINDOW_S, LeverAdapter
from junkan.config import AtsSettings, Settings
from junkan.http import HttpError
from tests.ats_support import by_external_id, split_records, statuses
from tests.fakes._common import FakeClock, client_for
from tests.fakes.lever import LeverData, LeverFake, ms, sample_data


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_adapter(fake: LeverFake, clock: FakeClock, **kwargs: Any) -> LeverAdapter:
    client = client_for("lever", clock, rate_limit_window_s=RATE_LIMIT_WINDOW_S)
    return LeverAdapter(client, **{**fake.adapter_kwargs(), **kwargs})


def test_follows_offset_tokens_across_pages(httpserver: HTTPServer, clock: FakeClock) -> None:
    data = sample_data(250)
    fake = LeverFake(httpserver, data, clock=clock)

    records = list(make_adapter(fake, clock).fetch_applications(None))

    assert [r.external_id for r in records] == [o["id"] for o in data.opportunities]
    calls = fake.calls("/opportunities")
    assert len(calls) == 3
    assert "offset" not in calls[0].args and calls[0].args["limit"] == ["100"]
    # Unlike Greenhouse, Lever wants the query repeated with the offset token.
    assert all(c.args["limit"] == ["100"] and "offset" in c.args for c in calls[1:])
    assert len({c.args["offset"][0] for c in calls[1:]}) == 2


def test_updated_at_start_is_epoch_ms(httpserver: HTTPServer, clock: FakeClock) -> None:
    data = sample_data(40)
    fake = LeverFake(httpserver, data, clock=clock)
    since = datetime(2026, 10, 5, tzinfo=UTC)

    records = list(make_adapter(fake, clock).fetch_applications(since))

    assert fake.calls("/opportunities")[0].args["updated_at_start"] == [str(ms(since))]
    assert {r.external_id for r in records} == {
        o["id"] for o in data.opportunities if o["updatedAt"] >= ms(since)
    }
    assert 0 < len(records) < 40


def test_maps_archive_reasons_statuses_and_fields(httpserver: HTTPServer, clock: FakeClock) -> None:
    base = {
        "name": "山田 花子",
        "emails": ["  hanako@example.jp ", "other@example.jp"],
        "phones": [{"type": "mobile", "value": "080-1111-2222"}],
        "tags": ["referral", "consent:talent_pool", "Consent-Withdrawn:recontact", "consent:recontact"],
        "stage": "offer",
        "contact": "c-1",
        "createdAt": ms(datetime(2026, 10, 1, tzinfo=UTC)),
        "updatedAt": ms(datetime(2026, 10, 3, tzinfo=UTC)),
        "applications": [{"id": "a-1", "posting": "post-0"}],
    }
    archived_at = ms(datetime(2026, 10, 2, 12, tzinfo=UTC))
    data = LeverData(
        opportunities=[
            {**base, "id": "o1", "archived": None},
            {**base, "id": "o2", "archived": {"archivedAt": archived_at, "reason": "ar-underqualified"}},
            {**base, "id": "o3", "archived": {"archivedAt": archived_at, "reason": "ar-hired"}},
            {**base, "id": "o4", "archived": {"archivedAt": archived_at, "reason": "ar-withdrew"}},
            {**base, "id": "o5", "archived": {"archivedAt": archived_at, "reason": "ar-unknown"}},
            {**base, "id": "o6", "archived": None, "createdAt": "yesterday"},
            {**base, "archived": None},
        ],
    )
    fake = LeverFake(httpserver, data, clock=clock)

    records = list(make_adapter(fake, clock).fetch_applications(None))

    applications, bad = split_records(records)
    # An unknown reason passes raw, so ingest quarantines it.
    assert statuses(applications) == {"o1": "in_process", "o2": "rejected", "o3": "hired", "o4": "withdrawn",
                                      "o5": "archived:ar-unknown"}
    good = by_external_id(applications)
    rejected = good["o2"]
    assert rejected.email == "hanako@example.jp"
    assert rejected.name == "山田 花子" and rejected.phone == "080-1111-2222"
    assert rejected.candidate_external_id == "c-1" and rejected.job_external_id == "post-0"
    assert rejected.reason_external_id == "ar-underqualified"
    assert rejected.decided_at == datetime(2026, 10, 2, 12, tzinfo=UTC)
    assert rejected.applied_at == datetime(2026, 10, 1, tzinfo=UTC)
    assert rejected.updated_at == datetime(2026, 10, 3, tzinfo=UTC)
    assert rejected.tags == ("referral",) and rejected.stage == "offer"  # consent tags are not kept as tags
    # A withdrawal tag wins over a grant tag for the same purpose.
    assert rejected.consents == {"talent_pool": True, "recontact": False}
    assert good["o1"].decided_at is None and good["o3"].reason_external_id is None
    assert sorted(r.reason for r in bad) == [
        "createdAt: expected epoch milliseconds, got str", "opportunity without an id",
    ]
    # The audit copy (decision log, quarantine) keeps the decision but no way to reach the person.
    for record in records:
        kept = str(record.raw)
        assert "hanako" not in kept and "山田" not in kept and "080-1111" not in kept
    assert rejected.raw["opportunity"]["archived"]["reason"] == "ar-underqualified"
    assert rejected.raw["opportunity"]["applications"] == [{"id": "a-1", "posting": "post-0"}]


def test_jobs_come_from_published_and_closed_postings_and_there_are_no_openings(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    # Closed postings are read too (since Issue 11): a posting that closes must be seen closed, else
    # the matcher would keep offering it as open.
    fake = LeverFake(httpserver, sample_data(1, n_postings=5), clock=clock)
    adapter = make_adapter(fake, clock)

    jobs = list(adapter.fetch_jobs())

    assert [(j.external_id, j.status) for j in jobs] == [
        ("post-0", "open"), ("post-2", "open"), ("post-4", "open"),
        ("post-1", "closed"), ("post-3", "closed"),
    ]
    assert all(j.department == "Product" for j in jobs)
    assert jobs[0].title == "Designer 0"
    assert [c.args["state"] for c in fake.calls("/postings")] == [["published"], ["closed"]]
    assert list(adapter.fetch_openings()) == []


def test_rejection_reasons_are_the_non_hired_archive_reasons(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    fake = LeverFake(httpserver, clock=clock)
    reasons = {r.external_id: r for r in make_adapter(fake, clock).fetch_rejection_reasons()}
    assert {k: r.kind for k, r in reasons.items()} == {
        "ar-underqualified": "rejected",
        "ar-timing": "rejected",
        "ar-filled": "rejected",
        "ar-withdrew": "withdrawn",
    }
    assert reasons["ar-timing"].name == "Timing"


def test_basic_auth_with_the_key_as_user_and_a_blank_password(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    fake = LeverFake(httpserver, sample_data(2), clock=clock)
    list(make_adapter(fake, clock).fetch_jobs())
    request = next(entry for entry, _ in httpserver.log if entry.path.endswith("/postings"))
    assert request.authorization.username == fake.api_key and request.authorization.password == ""

    wrong = make_adapter(fake, clock, api_key="nope")
    with pytest.raises(HttpError) as caught:
        list(wrong.fetch_jobs())
    assert caught.value.status == 401 and "authentication failed" in str(caught.value)
    assert "Invalid API key" in str(caught.value) and "nope" not in str(caught.value)


def test_429_and_5xx_are_retried(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = LeverFake(httpserver, sample_data(120), clock=clock)
    httpserver.expect_oneshot_request("/v1/opportunities").respond_with_json(
        {"code": "TooManyRequests"}, status=429, headers={"Retry-After": "2"}
    )
    httpserver.expect_oneshot_request("/v1/opportunities").respond_with_data("bad gateway", status=502)

    records = list(make_adapter(fake, clock).fetch_applications(None))

    assert len(records) == 120
    # The 502 is the second attempt: its backoff ceiling is 2 x 0.5 s, with jitter in [ceiling/2, ceiling].
    assert clock.sleeps[0] == 2.0 and 0.5 <= clock.sleeps[1] <= 1.0 and len(clock.sleeps) == 2


def test_malformed_json_and_wrong_envelope_are_clear_errors(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = LeverFake(httpserver, clock=clock)
    httpserver.expect_oneshot_request("/v1/postings").respond_with_data(
        "<html>maintenance</html>", status=200, content_type="text/html"
    )
    with pytest.raises(HttpError, match=r"lever GET /v1/postings returned malformed JSON \(status 200"):
        list(make_adapter(fake, clock).fetch_jobs())
    httpserver.expect_oneshot_request("/v1/postings").respond_with_json([{"id": "p"}])
    with pytest.raises(HttpError, match="expected an object with a data list"):
        list(make_adapter(fake, clock).fetch_jobs())


def test_a_repeated_offset_token_stops_instead_of_looping(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = LeverFake(httpserver, clock=clock)
    page = {"data": [], "hasNext": True, "next": "same"}
    for _ in range(2):
        httpserver.expect_oneshot_request("/v1/postings").respond_with_json(page)
    with pytest.raises(HttpError, match="pagination token repeated"):
        list(make_adapter(fake, clock).fetch_jobs())


def test_a_fault_injected_run_yields_the_same_records(httpserver: HTTPServer, clock: FakeClock) -> None:
    data = sample_data(600)
    clean = list(make_adapter(LeverFake(httpserver, data, clock=clock), clock).fetch_applications(None))
    httpserver.clear()
    faulty_fake = LeverFake(httpserver, data, clock=clock, fault_rate=0.2, seed=11, rate_limit=(10, 1.0))

    faulty = list(make_adapter(faulty_fake, clock).fetch_applications(None))

    assert faulty_fake.faults.injected >= 1
    assert faulty == clean and len(clean) == 600


def test_build_adapter_gives_the_adapter_one_client_with_the_configured_retries(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    fake = LeverFake(httpserver, sample_data(2), clock=clock)
    for _ in range(2):
        httpserver.expect_oneshot_request("/v1/postings").respond_with_data("down", status=503)
    settings = AtsSettings(kind="lever", base_url=fake.base_url, api_key=fake.api_key, max_retries=1)
    adapter = build_adapter(settings, sleep=clock.sleep)
    try:
        with pytest.raises(HttpError, match="answered 503 after 2 attempts") as caught:
            list(adapter.fetch_jobs())
    finally:
        adapter.close()
    assert caught.value.vendor == "lever" and caught.value.retryable
    assert len(clock.sleeps) == 1


def test_build_adapter_from_environment(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = LeverFake(httpserver, sample_data(15))
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    adapter = build_adapter(Settings(_env_file=None).ats)  # type: ignore[call-arg]
    try:
        assert isinstance(adapter, LeverAdapter) and adapter.source == "lever"
        assert len(list(adapter.fetch_applications(None))) == 15
    finally:
        adapter.close()
