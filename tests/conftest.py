"""Shared fixtures. DB tests run on SQLite by default, and on PostgreSQL when
JUNKAN_TEST_DATABASE_URL is set (CI runs the suite once for each)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url

from junkan.config import Settings
from junkan.db import make_engine, upgrade
from tests.db_support import fresh_postgresql_database, wipe

# Prefect must never reach the network from tests, nor start anything in unit tests.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

#: Picks the test database (SQLite when unset); the one JUNKAN_* variable a test keeps.
TEST_DATABASE_VARIABLE = "JUNKAN_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def isolated_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts in an empty directory with no JUNKAN_* settings.

    So the suite never reads the operator's ./junkan.toml or a JUNKAN_* variable of the shell it runs in,
    never writes junkan.db or outbox/ into the checkout, and what one test sets cannot leak into another.
    """
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper().startswith("JUNKAN_") and name != TEST_DATABASE_VARIABLE:
            monkeypatch.delenv(name)


def _testing_postgresql() -> bool:
    return os.environ.get("JUNKAN_TEST_DATABASE_URL", "").startswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Dialect-specific tests show up as skipped on the other database, never as passed; so do
    `once_per_ci` tests on SQLite."""
    on_postgresql = _testing_postgresql()
    for item in items:
        if not on_postgresql and item.get_closest_marker("postgresql_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only (set JUNKAN_TEST_DATABASE_URL)"))
        if on_postgresql and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite only (runs without JUNKAN_TEST_DATABASE_URL)"))
        # CI runs `make test-e2e` once, on PostgreSQL; the end-to-end run on a Prefect server is in it.
        if not on_postgresql and item.get_closest_marker("once_per_ci"):
            item.add_marker(pytest.mark.skip(reason="once per CI run: in its PostgreSQL pass "
                                                    "(set JUNKAN_TEST_DATABASE_URL)"))


#: Test modules whose tests share one expensive session fixture (module -> the fixture): under
#: `--dist loadgroup` each group runs in one xdist worker, so its fixture is built once. By module, in the
#: scheduler below, because pytest-xdist 3.8's `xdist_group` mark does not take under pytest 9 (it renames
#: a node id attribute pytest no longer reads). tests/flows/conftest.py refuses a user missing here.
SHARED_FIXTURE_GROUPS = {
    "tests/flows/test_demo.py": "demo_run",
    "tests/flows/test_demo_privacy.py": "demo_run",
}


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: the suite also runs with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` with the groups of SHARED_FIXTURE_GROUPS: other tests go one by one to whichever
    worker is free."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ByModuleGroup(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = SHARED_FIXTURE_GROUPS.get(nodeid.split("::", 1)[0])
            return group if group is not None else super()._split_scope(nodeid)

    return ByModuleGroup(config, log)


def xdist_worker() -> str | None:
    """This process's pytest-xdist worker id (gw0, gw1, ...), or None when the suite runs in one process."""
    return os.environ.get("PYTEST_XDIST_WORKER")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The migrated test database of this process.

    Under pytest-xdist each worker has its own, so the `engine` fixture's wipe never empties another
    worker's tables: on SQLite a file in the worker's temporary directory; on PostgreSQL a database
    `<name>_<worker>` created next to the one JUNKAN_TEST_DATABASE_URL names and dropped at the end.
    """
    url = os.environ.get(TEST_DATABASE_VARIABLE)
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'junkan-test.db'}"
    worker = xdist_worker()
    if worker is None or not url.startswith("postgresql"):
        upgrade(url)
        yield url
        return
    with fresh_postgresql_database(url, f"{make_url(url).database}_{worker}") as own:
        yield own


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database, emptied before each test."""
    eng = make_engine(database_url)
    wipe(eng)
    yield eng


@pytest.fixture
def settings(database_url: str, tmp_path: Path, engine: Engine) -> Settings:
    """Settings pointing at the test database, with mail written to files under tmp_path."""
    return Settings(
        database_url=database_url,
        mail={"backend": "file", "outbox_dir": tmp_path / "outbox"},
        _env_file=None,  # type: ignore[call-arg]
    )
