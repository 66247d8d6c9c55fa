"""Quarantine writes: one row per (source, fingerprint); seeing the same bad record again bumps it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, null, update
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.db.dialect import conflict_insert
from junkan.db.models import Quarantine
from junkan.ingest.upsert import IN_CHUNK
from junkan.ingest.validate import QuarantineEntry

Q = Quarantine.__table__


def upsert_quarantine(
    conn: Connection, source: str, entries: Iterable[QuarantineEntry], now: datetime
) -> int:
    """Insert new entries, bump `last_seen`/`seen_count` of known ones (and re-open resolved ones).

    Returns how many entries were given (duplicates included), which is what a run reports.
    """
    rows: dict[str, dict[str, object]] = {}
    given = 0
    for entry in entries:
        given += 1
        # One statement may not touch the same row twice (PostgreSQL refuses), so dedupe first.
        rows[entry.fingerprint] = {
            "source": source,
            "record_type": entry.record_type,
            "external_id": entry.external_id,
            "fingerprint": entry.fingerprint,
            "raw": entry.raw,
            "reason": entry.reason,
            "first_seen": now,
            "last_seen": now,
            "seen_count": 1,
            "resolved_at": None,
        }
    if not rows:
        return 0
    merge_quarantine(conn, list(rows.values()), reopen=True)
    return given


def merge_quarantine(bind: Connection | Session, rows: list[dict[str, Any]], *, reopen: bool) -> None:
    """INSERT quarantine rows, one per (source, fingerprint); a known one takes the newer `last_seen` and
    `reason` and adds the row's `seen_count`. `reopen` marks a resolved one open again."""
    stmt = conflict_insert(bind, Q)
    updates: dict[str, Any] = {
        "last_seen": stmt.excluded.last_seen,
        "reason": stmt.excluded.reason,
        "seen_count": Q.c.seen_count + stmt.excluded.seen_count,
    }
    if reopen:
        updates["resolved_at"] = null()
    bind.execute(stmt.on_conflict_do_update(index_elements=["source", "fingerprint"], set_=updates), rows)


def resolve_quarantine(conn: Connection, source: str, external_ids: list[str], now: datetime, *,
                       record_type: str = "application") -> None:
    """Mark open entries as resolved once a valid version of the record was ingested (for
    `record_type` "address": once a version with a usable address was)."""
    for part in batched(external_ids, IN_CHUNK):
        conn.execute(
            update(Q)
            .where(Q.c.source == source, Q.c.record_type == record_type, Q.c.resolved_at.is_(None),
                   Q.c.external_id.in_(part))
            .values(resolved_at=now)
        )
