"""The quarantine table's one write: a bad record is kept once per (source, fingerprint), and seeing it
again bumps the known row. Shared by ingest (junkan/ingest/quarantine.py) and the partner's referral
import (junkan/partner/attribution.py), so it sits below both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, null
from sqlalchemy.orm import Session

from junkan.db.dialect import conflict_insert
from junkan.db.models import Quarantine

Q = Quarantine.__table__


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
