"""Flow tests share one Prefect test harness per session (~17 s to start, DESIGN.md §5).

When PREFECT_API_URL is already set (CI may start one server for the whole run), that server is used.
The flows take Prefect limits with `strict=True`, so the session creates them first, as `junkan setup`
does on a real server (tasks/limits.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.fakes.sendgrid import SendGridFake

SENDGRID_KEY = "SG.flow-test"


def _create_limits() -> None:
    from junkan.config import Settings
    from tasks.limits import ensure_limits

    ensure_limits(Settings())


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    if os.environ.get("PREFECT_API_URL"):
        _create_limits()
        yield
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        _create_limits()
        yield


@pytest.fixture
def sendgrid_fake(engine: Engine, database_url: str,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[SendGridFake]:
    """The flows' database and the `sendgrid` backend pointed at a local SendGrid fake, without retries."""
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    with SendGridFake(SENDGRID_KEY) as server:
        monkeypatch.setenv("JUNKAN_MAIL__BACKEND", "sendgrid")
        monkeypatch.setenv("JUNKAN_MAIL__SENDGRID_API_KEY", SENDGRID_KEY)
        monkeypatch.setenv("JUNKAN_MAIL__SENDGRID_HOST", server.url)
        monkeypatch.setenv("JUNKAN_MAIL__MAX_RETRIES", "0")
        yield server
