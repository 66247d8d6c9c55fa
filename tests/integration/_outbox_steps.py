"""Committed steps of outbox tests: decided applications, and the ATS changing its mind about them later.

Unlike the session builders in _outbox_data, each step is a transaction of its own, as an ingest run is.
"""

from __future__ import annotations

from sqlalchemy import Engine, update

from junkan.db import session_scope
from junkan.db.models import Application
from tests.integration._outbox_data import add_application


def rejected_ids(engine: Engine, n: int) -> list[int]:
    """N rejected applications with add_application's defaults, committed; their ids."""
    with session_scope(engine) as s:
        return [add_application(s).id for _ in range(n)]


def change_status(engine: Engine, statuses: dict[int, str]) -> None:
    """Each application id gets its new status, as a later ingest writes it."""
    with session_scope(engine) as s:
        for app_id, status in statuses.items():
            s.execute(update(Application).where(Application.id == app_id).values(status=status))
