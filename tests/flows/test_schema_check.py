"""A flow run on a database that was never migrated fails at once, and its state message (what the
Prefect UI shows) is the one line that says what to do (both dialects)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.sync_email_events import sync_email_events
from junkan.db.schema import required_revisions
from tests.empty_database import empty_database


def test_a_flow_on_a_database_never_migrated_fails_naming_db_upgrade(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (head,) = required_revisions()
    with empty_database(database_url, tmp_path) as url:
        monkeypatch.setenv("JUNKAN_DATABASE_URL", url)
        state = sync_email_events(return_state=True)

    assert state.is_failed()
    assert state.message is not None
    assert (f"SchemaNotCurrent: the database is at revision none (never migrated), this Junkan needs {head}: "
            f"run `junkan db upgrade`") in state.message
    assert "UndefinedTable" not in state.message and "no such table" not in state.message
