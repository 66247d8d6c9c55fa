"""The library's throttle hook runs once before every provider request, retries included.

The Prefect side (a strict `rate_limit` per call) is in tests/flows/test_overlap_and_limits.py; here the
hook is a counter, against the SendGrid fake and the Greenhouse fake.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from junkan.ats.factory import build_adapter
from junkan.config import AtsSettings, MailSettings, Settings
from junkan.mail.backends import build_backend
from tests.fakes._common import FakeClock
from tests.fakes.greenhouse import GreenhouseFake, sample_data
from tests.fakes.sendgrid import SendGridFake
from tests.mail_support import notice_mail

KEY = "SG.throttle-test"


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def sendgrid() -> Iterator[SendGridFake]:
    with SendGridFake(KEY) as server:
        yield server


def test_every_sendgrid_request_passes_the_throttle_first(sendgrid: SendGridFake) -> None:
    throttle, clock = Counter(), FakeClock()
    settings = Settings(mail=MailSettings(backend="sendgrid", sendgrid_api_key=SecretStr(KEY),
                                          sendgrid_host=sendgrid.url, max_retries=2))
    backend = build_backend(settings, sleep=clock.sleep, throttle=throttle)
    sendgrid.fail_next(503, times=2)  # two retries before the first mail is accepted

    results = [backend.send(notice_mail(f"msg_{i}"), dry_run=False) for i in range(3)]

    assert [r.status for r in results] == ["accepted"] * 3
    assert len(sendgrid.received) == 5
    assert throttle.calls == len(sendgrid.received)


def test_every_ats_api_request_passes_the_throttle_first(httpserver: HTTPServer) -> None:
    throttle, clock = Counter(), FakeClock()
    fake = GreenhouseFake(httpserver, sample_data(1234), clock=clock, fault_rate=0.3, seed=5)
    settings = AtsSettings(kind="greenhouse", base_url=fake.base_url, auth_url=fake.auth_url,
                           client_id=fake.client_id, client_secret=SecretStr(fake.client_secret),
                           user_id=fake.user_id, max_retries=10)
    adapter = build_adapter(settings, sleep=clock.sleep, throttle=throttle)

    records = list(adapter.fetch_applications(None))
    adapter.close()

    assert len(records) == 1234
    api_calls = [r for r in fake.requests if "/v3/" in r.path]
    assert any(r.fault for r in api_calls), "the seeded faults should have caused retries"
    # One throttle per attempt: an attempt reaches the API, or stops at a failed OAuth token request
    # (Greenhouse's auth server, outside the Harvest API's rate limit) and is retried whole.
    token_faults = [r for r in fake.requests if r.path.endswith("/auth/token") and r.fault]
    assert throttle.calls == len(api_calls) + len(token_faults)
