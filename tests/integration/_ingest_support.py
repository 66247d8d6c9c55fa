"""Helpers for the ingest tests: an in-memory adapter, record builders, a fixed clock and DB dumps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

import junkan.db.all_models  # noqa: F401  (every table on Base.metadata)
from junkan.ats.base import ApplicationRecord, BadRecord, JobRecord, OpeningRecord, ReasonRecord
from junkan.db.models import Base

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


class ListAdapter:
    """Implements the AtsAdapter protocol over lists; `since` filtering works like a real API's."""

    def __init__(
        self,
        applications: list[ApplicationRecord | BadRecord] | None = None,
        *,
        source: str = "test",
        jobs: list[JobRecord] | None = None,
        openings: list[OpeningRecord] | None = None,
        reasons: list[ReasonRecord] | None = None,
        fail_after: int | None = None,
    ) -> None:
        self.source = source
        self.applications = list(applications or [])
        self.jobs = jobs if jobs is not None else [JobRecord("job-1", "バックエンドエンジニア", "open")]
        self.openings = openings or []
        self.reasons = reasons if reasons is not None else [
            ReasonRecord("r-skill", "スキル不足"),
            ReasonRecord("r-other", "他の候補者を優先"),
            ReasonRecord("r-spam", "スパム応募"),
            ReasonRecord("r-declined", "他社内定のため辞退", kind="withdrawn"),
        ]
        #: Raise after yielding this many applications (a connection lost mid-stream).
        self.fail_after = fail_after
        self.since_calls: list[datetime | None] = []
        self.closed = False

    def fetch_jobs(self) -> Iterator[JobRecord]:
        yield from self.jobs

    def fetch_openings(self) -> Iterator[OpeningRecord]:
        yield from self.openings

    def fetch_rejection_reasons(self) -> Iterator[ReasonRecord]:
        yield from self.reasons

    def fetch_applications(self, since: datetime | None) -> Iterator[ApplicationRecord | BadRecord]:
        self.since_calls.append(since)
        for count, record in enumerate(self.applications):
            if self.fail_after is not None and count >= self.fail_after:
                raise ConnectionError("simulated: connection to the ATS lost")
            stamp = getattr(record, "updated_at", None)
            if since is not None and stamp is not None and stamp < since:
                continue
            yield record

    def close(self) -> None:
        self.closed = True


def app(
    external_id: str,
    status: str = "rejected",
    email: str | None = None,
    *,
    at: datetime = T0,
    **fields: Any,
) -> ApplicationRecord:
    """An application record with sensible defaults: rejected for `r-skill`, decided and updated at `at`."""
    values: dict[str, Any] = {
        "name": f"候補者 {external_id}",
        "job_external_id": "job-1",
        "applied_at": at - timedelta(days=20),
        "decided_at": at if status != "in_process" else None,
        "reason_external_id": "r-skill" if status == "rejected" else None,
        "updated_at": at,
        "raw": {"id": external_id, "status": status},
    }
    values.update(fields)
    return ApplicationRecord(external_id=external_id, status=status,
                             email=email if email is not None else f"user{external_id}@example.jp", **values)


class FixedClock:
    """Deterministic `clock` for ingest: every call returns the same instant unless advanced."""

    def __init__(self, now: datetime = datetime(2026, 11, 5, 0, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


#: Columns that legitimately change on a re-run: the quarantine's sighting bookkeeping.
RERUN_BOOKKEEPING = {"quarantine": {"last_seen", "seen_count"}}


def dump(engine: Engine, exclude: dict[str, set[str]] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered by primary key, minus the excluded columns."""
    exclude = exclude or {}
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in exclude.get(table.name, set())]
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(row) for row in conn.execute(select(*columns).order_by(*order))]
    return out


def rows(engine: Engine, table: Any, *where: Any) -> list[Any]:
    with engine.connect() as conn:
        query = select(table)
        if where:
            query = query.where(*where)
        return list(conn.execute(query.order_by(*table.__table__.primary_key.columns)).all())
