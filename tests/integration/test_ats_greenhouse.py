"""Greenhouse Harvest v3 adapter against the local Harvest fake (tests/fakes/greenhouse.py)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from junkan.ats.base import ApplicationRecord, BadRecord
from junkan.ats.factory import AtsConfigError, build_adapter
from junkan.ats.greenhouse import RATE_LIMIT_WINDOW_S, GreenhouseAdapter
from junkan.ats.greenhouse_auth import GreenhouseAuth
from junkan.config import AtsSettings, Settings
from junkan.http import HttpError
from tests.ats_support import by_external_id, split_records, statuses
from tests.fakes._common import FakeClock, client_for
from tests.fakes.greenhouse import GreenhouseData, GreenhouseFake, sample_data


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_adapter(fake: GreenhouseFake, clock: FakeClock, *, max_retries: int = 5,
                 **kwargs: Any) -> GreenhouseAdapter:
    client = client_for("greenhouse", clock, max_retries=max_retries, rate_limit_window_s=RATE_LIMIT_WINDOW_S)
    return GreenhouseAdapter(client, **{**fake.adapter_kwargs(), **kwargs})


def applications(adapter: GreenhouseAdapter, since: datetime | None = None) -> list[ApplicationRecord]:
    good, bad = split_records(adapter.fetch_applications(since))
    assert bad == []
    return good


# -- pagination and filters ---------------------------------------------------------------------------


def test_follows_cursor_pages_and_sends_only_the_cursor_after_the_first(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    data = sample_data(1234)
    fake = GreenhouseFake(httpserver, data, clock=clock)
    adapter = make_adapter(fake, clock)

    records = applications(adapter)

    assert sorted(int(r.external_id) for r in records) == sorted(a["id"] for a in data.applications)
    listing = fake.calls("/v3/applications")
    assert len(listing) == 3  # 500 + 500 + 234
    assert listing[0].args == {"per_page": ["500"]}
    assert [set(call.args) for call in listing[1:]] == [{"cursor"}, {"cursor"}]
    assert all(call.status == 200 for call in fake.requests)
    # Candidates are fetched per page of applications through the documented `ids` filter.
    candidate_calls = fake.calls("/v3/candidates")
    assert candidate_calls and all(
        set(c.args) == {"ids", "per_page"} and len(c.args["ids"][0].split(",")) <= 200
        for c in candidate_calls
    )
    assert adapter.stats["pages"] >= 3


def test_extra_parameters_next_to_a_cursor_get_422_and_a_clear_error(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    fake = GreenhouseFake(httpserver, sample_data(30), clock=clock)
    token = httpx.post(
        f"{fake.auth_url}/token",
        auth=(fake.client_id, fake.client_secret),
        data={"grant_type": "client_credentials", "sub": fake.user_id},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.get(f"{fake.base_url}/v3/applications", params={"per_page": 10}, headers=headers)
    next_url = first.links["next"]["url"]
    assert httpx.get(next_url, headers=headers).status_code == 200
    refused = httpx.get(f"{next_url}&per_page=10", headers=headers)
    assert refused.status_code == 422
    assert "cursor must be the only query parameter" in refused.json()["message"]

    # The same refusal reaching the adapter is a clear, non-retryable error.
    httpserver.expect_oneshot_request("/v3/applications").respond_with_json(
        {"message": "cursor must be the only query parameter (got per_page)"}, status=422
    )
    with pytest.raises(HttpError) as caught:
        list(make_adapter(fake, clock).fetch_applications(None))
    assert caught.value.status == 422 and not caught.value.retryable
    assert "422" in str(caught.value) and "/v3/applications" in str(caught.value)
    assert "cursor must be the only query parameter" in str(caught.value)
    assert clock.sleeps == []


def test_updated_at_gte_filter_uses_iso_ms_z_and_returns_only_newer(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    data = sample_data(200)
    fake = GreenhouseFake(httpserver, data, clock=clock)
    since = datetime(2026, 10, 10, 9, 0, 0, 123000, tzinfo=UTC)

    records = applications(make_adapter(fake, clock), since)

    expected = {a["id"] for a in data.applications if datetime.fromisoformat(a["updated_at"]) >= since}
    assert {int(r.external_id) for r in records} == expected
    assert 0 < len(expected) < 200
    assert fake.calls("/v3/applications")[0].args["updated_at"] == ["gte|2026-10-10T09:00:00.123Z"]


def test_naive_since_is_taken_as_utc(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(5), clock=clock)
    list(make_adapter(fake, clock).fetch_applications(datetime(2026, 10, 1, 12, 0)))
    assert fake.calls("/v3/applications")[0].args["updated_at"] == ["gte|2026-10-01T12:00:00.000Z"]


# -- mapping ------------------------------------------------------------------------------------------


def _app(app_id: int, status: str, **extra: object) -> dict[str, object]:
    return {
        "id": app_id,
        "candidate_id": 1,
        "job_id": 4000,
        "status": status,
        "prospect": False,
        "stage_name": "Phone Screen",
        "created_at": "2026-10-01T00:00:00.000Z",
        "updated_at": "2026-10-02T03:04:05.000Z",
        "last_activity_at": "2026-10-02T03:04:05.000Z",
        "rejected_at": None,
        "rejection_reason_id": None,
        **extra,
    }


def test_consents_come_from_candidate_custom_fields_and_can_email(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    base = {"first_name": "花子", "last_name": "佐藤", "email_addresses": [{"value": "h@example.jp"}]}
    data = GreenhouseData(
        candidates=[
            {**base, "id": 1, "can_email": True,
             "keyed_custom_fields": {"talent_pool_consent": {"name": "Talent pool", "value": True},
                                     "consent_wording_version": {"value": "2026-04"}},
             "custom_fields": {"再連絡同意": "いいえ"}},
            {**base, "id": 2, "can_email": False,
             "custom_fields": {"talent_pool_consent": "yes", "partner_info_consent": "yes"}},
            {**base, "id": 3, "custom_fields": {"talent_pool_consent": "maybe"}},
            {**base, "id": 4},
        ],
        applications=[_app(n, "rejected", candidate_id=n, rejection_reason_id=9001) for n in (1, 2, 3, 4)],
    )
    fake = GreenhouseFake(httpserver, data, clock=clock)
    records = {r.external_id: r for r in make_adapter(fake, clock).fetch_applications(None)}
    assert records["1"].consents == {"talent_pool": True, "recontact": False}  # type: ignore[union-attr]
    assert records["1"].raw["consent_wording_version"] == "2026-04"
    # can_email: false withdraws the advertising purposes whatever the fields say.
    assert records["2"].consents == {  # type: ignore[union-attr]
        "talent_pool": True, "partner_info": False, "recontact": False}
    assert isinstance(records["3"], BadRecord)
    assert records["3"].reason == "candidate custom field talent_pool_consent: cannot read the consent answer"
    assert records["4"].consents == {}  # type: ignore[union-attr]


def test_maps_statuses_reasons_candidates_and_skips_prospects(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    candidate = {
        "id": 1,
        "first_name": "太郎",
        "last_name": "山田",
        "email_addresses": [
            {"value": "work@example.com", "type": "work"},
            {"value": "Ｔａｒｏ@example.jp", "type": "personal"},
        ],
        "phone_numbers": [{"value": "090-1234-5678", "type": "mobile"}],
        "tags": ["newgrad", {"id": 3, "name": "referral"}],
        "can_email": False,
    }
    data = GreenhouseData(
        candidates=[candidate],
        applications=[
            _app(1, "rejected", rejected_at="2026-10-02T01:00:00.000Z", rejection_reason_id=9001),
            _app(2, "rejected", rejected_at="2026-10-02T02:00:00.000Z", rejection_reason_id=9005),
            _app(3, "rejected", rejection_reason_id=9006),
            _app(4, "active"),
            _app(5, "hired"),
            _app(6, "on_hold"),
            _app(9, "converted", prospect=False),
            _app(7, "active", prospect=True),
            _app(8, "active", candidate_id=999),
            {"candidate_id": 1, "status": "active"},
        ],
    )
    fake = GreenhouseFake(httpserver, data, clock=clock)

    good, bad = split_records(make_adapter(fake, clock).fetch_applications(None))

    by_id = by_external_id(good)
    assert statuses(good) == {
        "1": "rejected",
        "2": "withdrawn",
        "3": "rejected",
        "4": "in_process",
        "5": "hired",
        "6": "on_hold",  # unknown: passed raw so ingest quarantines it
    }
    # A prospect is not an application; a converted one was superseded by the real application.
    assert "7" not in by_id and "9" not in by_id
    first = by_id["1"]
    assert first.email == "Ｔａｒｏ@example.jp"  # the personal address; ingest normalises the width
    assert first.name == "山田 太郎"
    assert first.phone == "090-1234-5678"
    assert first.candidate_external_id == "1" and first.job_external_id == "4000"
    assert first.reason_external_id == "9001"
    assert first.decided_at == datetime(2026, 10, 2, 1, 0, tzinfo=UTC)
    assert first.applied_at == datetime(2026, 10, 1, tzinfo=UTC)
    assert first.updated_at == datetime(2026, 10, 2, 3, 4, 5, tzinfo=UTC)
    assert first.stage == "Phone Screen"
    assert first.tags == ("newgrad", "referral")
    assert first.consents == {"partner_info": False, "recontact": False}  # can_email: false
    assert first.raw["application"]["id"] == 1
    assert "email_addresses" not in first.raw.get("candidate", {})  # no more personal data than needed
    assert by_id["3"].decided_at == datetime(2026, 10, 2, 3, 4, 5, tzinfo=UTC)  # falls back to updated_at
    assert by_id["4"].decided_at is None and by_id["4"].reason_external_id is None
    assert sorted(b.reason for b in bad) == [
        "application without an id",
        "candidate 999 not found in Greenhouse",
    ]
    assert next(b for b in bad if b.external_id == "8").raw["application"]["candidate_id"] == 999


def test_jobs_openings_and_rejection_reasons(httpserver: HTTPServer, clock: FakeClock) -> None:
    data = sample_data(3, n_jobs=3)
    fake = GreenhouseFake(httpserver, data, clock=clock)
    adapter = make_adapter(fake, clock)

    jobs = {j.external_id: j for j in adapter.fetch_jobs()}
    openings = {o.external_id: o for o in adapter.fetch_openings()}
    reasons = {r.external_id: r for r in adapter.fetch_rejection_reasons()}

    assert jobs["4000"].status == "closed" and jobs["4001"].status == "open"
    assert jobs["4001"].title == "Engineer 1" and jobs["4001"].department == "Engineering"
    assert jobs["4001"].opened_at == datetime.fromisoformat(data.jobs[1]["opened_at"])
    assert openings["5001"].job_external_id == "4001" and openings["5001"].status == "open"
    assert openings["5000"].status == "closed" and openings["5000"].closed_at is not None
    assert {k: r.kind for k, r in reasons.items()} == {
        "9001": "rejected",
        "9002": "rejected",
        "9003": "rejected",
        "9004": "rejected",
        "9005": "withdrawn",
        "9006": "unspecified",
    }
    assert reasons["9005"].name == "Took another offer"


# -- throttling, retries and errors -------------------------------------------------------------------


def test_429_retry_after_is_honoured(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(10), clock=clock)
    httpserver.expect_oneshot_request("/v3/applications").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "7"}
    )

    records = applications(make_adapter(fake, clock))

    assert len(records) == 10
    assert clock.sleeps == [7.0]


def test_5xx_is_retried_with_bounded_exponential_backoff(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(10), clock=clock)
    for status in (503, 502, 500):
        httpserver.expect_oneshot_request("/v3/applications").respond_with_data("busy", status=status)

    records = applications(make_adapter(fake, clock))

    assert len(records) == 10
    assert len(clock.sleeps) == 3
    for attempt, waited in enumerate(clock.sleeps):
        ceiling = 0.5 * 2**attempt
        assert ceiling / 2 <= waited <= ceiling


def test_5xx_that_never_ends_gives_a_retryable_error(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    for _ in range(4):
        httpserver.expect_oneshot_request("/v3/rejection_reasons").respond_with_data("down", status=503)
    adapter = make_adapter(fake, clock, max_retries=3)

    with pytest.raises(HttpError) as caught:
        list(adapter.fetch_rejection_reasons())

    assert caught.value.status == 503 and caught.value.retryable
    assert "after 4 attempts" in str(caught.value)
    assert len(clock.sleeps) == 3 and max(clock.sleeps) <= 30.0


def test_malformed_json_is_a_clear_error(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    httpserver.expect_oneshot_request("/v3/applications").respond_with_data(
        '[{"id": 1, "candidate_id"', status=200, content_type="application/json"
    )

    with pytest.raises(HttpError) as caught:
        list(make_adapter(fake, clock).fetch_applications(None))

    message = str(caught.value)
    assert "malformed JSON" in message and "/v3/applications" in message and "status 200" in message


def test_a_non_array_body_is_a_clear_error(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    httpserver.expect_oneshot_request("/v3/jobs").respond_with_json({"jobs": []})
    with pytest.raises(HttpError, match="expected a JSON array"):
        list(make_adapter(fake, clock).fetch_jobs())


def test_403_missing_scope_is_a_clear_error_without_retries(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    httpserver.expect_oneshot_request("/v3/openings").respond_with_json(
        {"message": "Missing scope: harvest:openings:list"}, status=403
    )

    with pytest.raises(HttpError) as caught:
        list(make_adapter(fake, clock).fetch_openings())

    assert caught.value.status == 403 and not caught.value.retryable
    assert str(caught.value) == (
        "greenhouse GET /v3/openings failed with 403: forbidden (the credentials lack a permission or scope)"
        " — Missing scope: harvest:openings:list"
    )
    assert clock.sleeps == []


def test_wrong_client_secret_fails_at_the_token_endpoint(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    adapter = make_adapter(fake, clock, client_secret="wrong")
    with pytest.raises(HttpError) as caught:
        list(adapter.fetch_jobs())
    assert caught.value.status == 401
    assert "POST /auth/token" in str(caught.value) and "authentication failed" in str(caught.value)
    assert "wrong" not in str(caught.value)


# -- token lifecycle ----------------------------------------------------------------------------------


def test_token_is_sent_as_bearer_with_the_documented_grant(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    list(make_adapter(fake, clock).fetch_jobs())
    token_requests = [entry for entry, _ in httpserver.log if entry.path == "/auth/token"]
    assert len(token_requests) == 1
    assert token_requests[0].form.to_dict() == {"grant_type": "client_credentials", "sub": fake.user_id}
    assert token_requests[0].authorization.username == fake.client_id
    api_request = next(entry for entry, _ in httpserver.log if entry.path == "/v3/jobs")
    assert api_request.headers["Authorization"] == "Bearer gh-token-1"


def test_token_is_refreshed_before_it_expires(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(1100), clock=clock, token_ttl_s=3600)
    adapter = make_adapter(fake, clock)
    stream = adapter.fetch_applications(None)
    first_page = [next(stream) for _ in range(500)]
    clock.advance(3600 - 30)  # inside the refresh margin: the old token still works but is about to die

    rest = list(stream)

    assert len(first_page) + len(rest) == 1100
    assert len(fake.calls("/auth/token")) == 2
    assert [r for r in fake.requests if r.status == 401] == []


def test_a_401_mid_run_refreshes_the_token_once_and_retries(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(1100), clock=clock)
    adapter = make_adapter(fake, clock)
    stream = adapter.fetch_applications(None)
    first_page = [next(stream) for _ in range(500)]
    fake.revoke_tokens()  # the adapter still believes its token is valid for an hour

    rest = list(stream)

    assert len(first_page) + len(rest) == 1100
    assert len(fake.calls("/auth/token")) == 2
    statuses = [r.status for r in fake.calls("/v3/applications")]
    assert statuses == [200, 401, 200, 200]
    assert adapter.stats["token_refreshes"] == 2


def test_a_401_with_a_fresh_token_is_a_clear_error(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    httpserver.expect_oneshot_request("/v3/jobs").respond_with_json({"message": "Unauthorized"}, status=401)
    httpserver.expect_oneshot_request("/v3/jobs").respond_with_json({"message": "Unauthorized"}, status=401)
    with pytest.raises(HttpError) as caught:
        list(make_adapter(fake, clock).fetch_jobs())
    assert caught.value.status == 401 and "even with a fresh token" in str(caught.value)
    assert len(fake.calls("/auth/token")) == 2


def test_a_failing_token_endpoint_is_retried_like_any_call(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    httpserver.expect_oneshot_request("/auth/token", method="POST").respond_with_data("busy", status=503)

    assert len(list(make_adapter(fake, clock).fetch_jobs())) == 5

    assert len(clock.sleeps) == 1 and 0.25 <= clock.sleeps[0] <= 0.5
    assert len(fake.calls("/auth/token")) == 1  # the oneshot 503 answered first, outside the fake's log


def test_the_token_flow_is_a_plain_httpx_auth(httpserver: HTTPServer, clock: FakeClock) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    auth = GreenhouseAuth(auth_url=fake.auth_url, client_id=fake.client_id, client_secret=fake.client_secret,
                          user_id=fake.user_id, clock=clock)
    with httpx.Client(auth=auth) as client:
        assert client.get(f"{fake.base_url}/v3/jobs").status_code == 200
        fake.revoke_tokens()
        assert client.get(f"{fake.base_url}/v3/jobs").status_code == 200  # refreshed once on the 401
    assert auth.refreshes == 2
    assert [r.status for r in fake.calls("/v3/jobs")] == [200, 401, 200]


# -- rate limits and fault injection ------------------------------------------------------------------


def test_rate_limit_headers_pause_before_the_window_is_exceeded(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    fake = GreenhouseFake(httpserver, sample_data(1200), clock=clock, rate_limit=(3, 10.0))

    records = applications(make_adapter(fake, clock))

    assert len(records) == 1200
    assert fake.rate_limiter is not None and fake.rate_limiter.rejected == 0
    assert clock.sleeps and all(0 < s <= 10.0 for s in clock.sleeps)
    assert sum(clock.sleeps) >= 10.0


def test_a_429_without_retry_after_uses_the_rate_limit_reset(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    fake = GreenhouseFake(httpserver, sample_data(3), clock=clock)
    reset = str(int(clock() + 4))
    httpserver.expect_oneshot_request("/v3/jobs").respond_with_response(
        Response("{}", status=429, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    )
    assert len(list(make_adapter(fake, clock).fetch_jobs())) == 5
    assert clock.sleeps == [4.0]


def test_a_fault_injected_run_yields_the_same_records_as_a_clean_run(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    data = sample_data(1500, prospect_every=9)
    clean_fake = GreenhouseFake(httpserver, data, clock=clock)
    clean = list(make_adapter(clean_fake, clock).fetch_applications(None))
    httpserver.clear()

    faulty_fake = GreenhouseFake(httpserver, data, clock=clock, fault_rate=0.2, seed=7)
    faulty_adapter = make_adapter(faulty_fake, clock)
    faulty = list(faulty_adapter.fetch_applications(None))

    assert faulty_fake.faults.injected >= 2
    assert faulty == clean
    assert Counter(type(r) for r in clean) == {ApplicationRecord: len(data.applications) - 167}


# -- configuration ------------------------------------------------------------------------------------


def test_build_adapter_from_environment_reads_all_pages(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = GreenhouseFake(httpserver, sample_data(700))
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    adapter = build_adapter(settings.ats)
    try:
        assert isinstance(adapter, GreenhouseAdapter)
        assert adapter.source == "greenhouse"
        assert len(list(adapter.fetch_applications(None))) == 700
    finally:
        adapter.close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            AtsSettings(kind="greenhouse", client_secret="s", user_id="1"),
            "JUNKAN_ATS__CLIENT_ID is required for greenhouse",
        ),
        (
            AtsSettings(kind="greenhouse"),
            "JUNKAN_ATS__CLIENT_ID and JUNKAN_ATS__CLIENT_SECRET and JUNKAN_ATS__USER_ID are required "
            "for greenhouse",
        ),
        (AtsSettings(kind="lever"), "JUNKAN_ATS__API_KEY is required for lever"),
        (AtsSettings(kind="csv"), "JUNKAN_ATS__PATH is required for csv"),
        (AtsSettings(kind="csv", path="/nonexistent/export.csv"), "does not exist"),
    ],
)
def test_build_adapter_names_the_missing_variable(settings: AtsSettings, message: str) -> None:
    with pytest.raises(AtsConfigError, match=message):
        build_adapter(settings)


def test_consent_custom_fields_state_consent_and_can_email_false_overrides_them(
    httpserver: HTTPServer, clock: FakeClock
) -> None:
    def candidate(cid: int, can_email: bool, **fields: bool | None) -> dict[str, Any]:
        return {"id": cid, "first_name": "花子", "last_name": "佐藤", "can_email": can_email,
                "email_addresses": [{"value": f"c{cid}@example.jp", "type": "personal"}],
                "keyed_custom_fields": {k: {"name": k, "type": "yes_no", "value": v}
                                        for k, v in fields.items()}}

    data = GreenhouseData(
        candidates=[
            candidate(1, True, talent_pool_consent=True, partner_info_consent=True, recontact_consent=False),
            candidate(2, False, talent_pool_consent=True, partner_info_consent=True, recontact_consent=True),
            candidate(3, True, partner_info_consent=None),
        ],
        applications=[_app(i, "active", candidate_id=i) for i in (1, 2, 3)],
    )
    fake = GreenhouseFake(httpserver, data, clock=clock)

    by_id = {r.external_id: r.consents for r in applications(make_adapter(fake, clock))}

    assert by_id["1"] == {"talent_pool": True, "partner_info": True, "recontact": False}
    assert by_id["2"] == {"talent_pool": True, "partner_info": False, "recontact": False}
    assert by_id["3"] == {}
