"""Tombstones: what an anonymisation or erasure leaves so that ingest never brings the person back.

One row per application: the source, its external id and, for an erasure, the keyed hash of the address
(junkan.keyed). Ingest skips a record whose (source, external id) or address hash matches, and
counts it as `erased` (docs/ingest.md). An anonymisation keeps no hash: a new application of the person
under a new id is a new start, which is what "the clock restarts" means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from junkan.batching import batched
from junkan.db.dialect import insert_ignore
from junkan.db.models_privacy import ErasureTombstone

T = ErasureTombstone.__table__
CHUNK = 500


def leave(conn: Connection, keys: Iterable[tuple[str, str]], *, email_hash: str | None, audit_id: int,
          at: datetime) -> int:
    """One tombstone per (source, external_id); an existing one keeps its first audit record."""
    rows = [{"source": source, "external_id": external_id, "email_hash": email_hash, "audit_id": audit_id,
             "created_at": at} for source, external_id in sorted(set(keys))]
    for batch in batched(rows, CHUNK):
        conn.execute(insert_ignore(conn, T).values(batch))  # one multi-row INSERT, not executemany
    return len(rows)


@dataclass(frozen=True, slots=True)
class Tombstones:
    """The tombstones that concern one ingest batch, for membership tests."""

    external_ids: frozenset[str]
    email_hashes: frozenset[str]

    def buries(self, external_id: str, email_hash: str | None) -> bool:
        if external_id in self.external_ids:
            return True
        return email_hash is not None and email_hash in self.email_hashes


def lookup(conn: Connection, source: str, external_ids: Sequence[str], hashes: Sequence[str]) -> Tombstones:
    """The tombstones among a batch's external ids (of `source`) and address hashes: two IN queries."""
    found_ids: set[str] = set()
    for batch in batched(sorted(set(external_ids)), CHUNK):
        found_ids.update(conn.execute(select(T.c.external_id).where(T.c.source == source,
                                                                    T.c.external_id.in_(batch))).scalars())
    found_hashes: set[str] = set()
    for batch in batched(sorted(set(hashes)), CHUNK):
        found_hashes.update(h for h in conn.execute(select(T.c.email_hash).where(T.c.email_hash.in_(batch)))
                            .scalars() if h)
    return Tombstones(frozenset(found_ids), frozenset(found_hashes))
