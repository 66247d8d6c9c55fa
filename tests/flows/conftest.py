"""Flow tests share one Prefect test harness per session, per xdist worker (~17 s to start).

When PREFECT_API_URL is already set, that server is used, by one process only (the tests hold and check its
concurrency limits). The flows take Prefect limits with `strict=True`, so the session creates them first,
as `junkan setup` does on a real server (tasks/limits.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import Engine

from tests.conftest import SHARED_FIXTURE_GROUPS
from tests.fakes.sendgrid import SendGridFake
from tests.flows._clock import IN_THE_WINDOW
from tests.mail_support import live_identity_env

SENDGRID_KEY = "SG.flow-test"


@pytest.fixture
def real_clock_in_the_window() -> Iterator[datetime]:
    """The flows' real clock stands at IN_THE_WINDOW (junkan.runtime.simulated_time): a run of as_of
    2026-11-18 sends what was due by then, as it would have that morning. A mail leaves only inside the
    window of the real clock, whatever as_of says, so a test that sends must say what time it is."""
    from junkan.runtime import simulated_time

    with simulated_time(IN_THE_WINDOW):
        yield IN_THE_WINDOW


def _create_limits() -> None:
    from junkan.config import Settings
    from tasks.limits import ensure_limits

    ensure_limits(Settings())


@pytest.fixture(scope="session", autouse=True)
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The Prefect API of this process's flow tests, with a PREFECT_HOME of its own.

    Under pytest-xdist every worker that runs a flow test starts its own harness (own server, own SQLite
    database, own PREFECT_HOME, set in the environment too for the child processes some tests start), so
    Prefect's concurrency limits, runs and result files of one worker are never another's.
    """
    from prefect.settings import PREFECT_HOME, temporary_settings

    home = tmp_path_factory.mktemp("prefect-home")
    with mock.patch.dict(os.environ, {"PREFECT_HOME": str(home)}), \
            temporary_settings(updates={PREFECT_HOME: home}):
        if os.environ.get("PREFECT_API_URL"):
            if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
                # The tests hold and check the server's concurrency limits: workers would share them.
                raise pytest.UsageError("PREFECT_API_URL is set: run the flow tests in one process "
                                        "(make test TEST_WORKERS=1, or pytest without -n)")
            _create_limits()
            yield
            return
        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=120):
            _create_limits()
            yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A module using `demo_run` must be in SHARED_FIXTURE_GROUPS, or under xdist the demo runs twice."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        uses = "demo_run" in getattr(item, "fixturenames", ())
        if uses and SHARED_FIXTURE_GROUPS.get(module) != "demo_run":
            raise pytest.UsageError(f"{module} uses demo_run: list it in SHARED_FIXTURE_GROUPS "
                                    "(tests/conftest.py)")


@dataclass(frozen=True)
class DemoRun:
    """One `junkan demo` run under Prefect, shared by the tests that check what it leaves behind."""

    workdir: Path
    summary: str
    started: datetime
    #: Every Python log record emitted while it ran, from any logger.
    records: list[logging.LogRecord]
    prefect_home: Path


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="session")
def demo_run(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo, once per session (a minute of work), with results persisted by default: the most Prefect
    would ever write."""
    import flows.daily  # noqa: F401  (importing Prefect configures its logging, which would drop our handler)
    from junkan.cli import run_flow
    from junkan.demo.run import run_demo
    from tests.flows._persisted import private_prefect_home

    root = tmp_path_factory.mktemp("demo-run")
    keep = _Keep()
    # Prefect's loggers do not propagate to the root logger: listen on both.
    loggers = [logging.getLogger(), logging.getLogger("prefect")]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(keep)
        logger.setLevel(logging.DEBUG)
    started = datetime.now(UTC)
    try:
        with mock.patch.dict(os.environ), private_prefect_home(root / "prefect"):
            for name in [n for n in os.environ if n.startswith("JUNKAN_")]:
                os.environ.pop(name)
            summary = run_demo(root / "demo", seed=11, run_flow=run_flow)
    finally:
        for logger, level in zip(loggers, previous, strict=True):
            logger.removeHandler(keep)
            logger.setLevel(level)
    return DemoRun(workdir=root / "demo", summary=summary, started=started, records=keep.records,
                   prefect_home=root / "prefect")


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
        live_identity_env(monkeypatch)  # a live send needs a real identity (junkan/mail/identity_guard.py)
        yield server
