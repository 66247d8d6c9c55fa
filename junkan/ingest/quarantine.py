"""Ingest's quarantine writes: its validation entries (one row per (source, fingerprint), merged by
junkan.quarantine), and resolving them once a valid version arrives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, update

from junkan.batching import batched
from junkan.db.models import Quarantine
from junkan.ingest.upsert import IN_CHUNK
from junkan.ingest.validate import QuarantineEntry
from junkan.quarantine import merge_quarantine

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
