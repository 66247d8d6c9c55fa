"""Shared fixtures. DB tests run on SQLite by default, and on PostgreSQL when
JUNKAN_TEST_DATABASE_URL is set (CI runs the suite once for each)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from junkan.config import Settings
from junkan.db import make_engine, upgrade
from tests.db_support import wipe

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
        # CI runs `make test` once per database; the end-to-end run on a Prefect server needs one of them.
        if not on_postgresql and item.get_closest_marker("once_per_ci"):
            item.add_marker(pytest.mark.skip(reason="once per CI run: in its PostgreSQL pass "
                                                    "(set JUNKAN_TEST_DATABASE_URL)"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get(TEST_DATABASE_VARIABLE)
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'junkan-test.db'}"
    upgrade(url)
    return url


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
