"""Whether addresses are on the suppression list, which holds keyed hashes (junkan.keyed).

SQL cannot compute the HMAC on both dialects, so the check runs on a batch of addresses: hash them here,
then look the hashes up with one IN query per chunk. Rows from before migration 0010 still hold the plain
address until `hash_plain_rows` replaces it; until then the plain column is matched as well. The pool's
bulk check (`suppressed_candidates`, a million people) reads the list once and compares in memory instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from junkan.batching import batched
from junkan.db.models import Candidate, Suppression
from junkan.keyed import email_hash, email_hashes, hash_normalised

#: IN-list size: well below SQLite's bound-parameter limit.
CHUNK = 500


def suppressed_among(bind: Session | Connection, addresses: Iterable[str | None], key: bytes) -> set[str]:
    """The addresses (normalised e-mail keys) among `addresses` that must never be mailed."""
    by_hash: dict[str, list[str]] = {}
    for address, digest in email_hashes(key, (a for a in addresses if a)).items():
        by_hash.setdefault(digest, []).append(address)
    found: set[str] = set()
    for batch in batched(sorted(by_hash), CHUNK):
        stored = bind.execute(select(Suppression.email_hash).where(Suppression.email_hash.in_(batch)))
        for stored_hash in stored.scalars():
            if stored_hash is not None:
                found.update(by_hash[stored_hash])
    plain = sorted({a for group in by_hash.values() for a in group})
    for batch in batched(plain, CHUNK):
        found.update(a for a in bind.execute(
            select(Suppression.email_key).where(Suppression.email_key.in_(batch))).scalars() if a)
    return found


def suppressed_candidates(conn: Connection, candidate_ids: Iterable[int], key: bytes) -> set[int]:
    """The candidates among `candidate_ids` whose address is suppressed.

    The one read of addresses a bulk reader (the pool) needs: the list (its hashes, and the plain
    addresses of rows not hashed yet) is read once, then (id, address) pairs in one scan, hashed here and
    dropped — none hashed when the list is empty; the caller only ever sees ids.
    """
    hashes = {h for h in conn.execute(select(Suppression.email_hash)).scalars() if h is not None}
    plain = {a for a in conn.execute(select(Suppression.email_key)).scalars() if a}
    wanted = set(candidate_ids)
    pairs = conn.execute(select(Candidate.id, Candidate.email_key).where(Candidate.email_key.is_not(None)))
    if not (hashes or plain):
        pairs.close()
        return set()
    return {cid for cid, address in pairs
            if cid in wanted and address and (address in plain or hash_normalised(key, address) in hashes)}


def hash_plain_rows(session: Session, key: bytes) -> int:
    """Replace the plain address of rows from before migration 0010 by its hash; returns how many.

    A row whose hash is already present (the same address suppressed again since) is dropped instead:
    the older row's reason is lost, the suppression is not.
    """
    converted = 0
    while True:
        rows = session.execute(
            select(Suppression.id, Suppression.email_key)
            .where(Suppression.email_key.is_not(None)).limit(CHUNK)
        ).all()
        if not rows:
            return converted
        digests = {row.id: email_hash(key, row.email_key) for row in rows}
        taken = set(session.execute(select(Suppression.email_hash).where(
            Suppression.email_hash.in_(list(set(digests.values()))))).scalars())
        seen: set[str] = set()
        dropped: list[int] = []
        hashed: list[dict[str, object]] = []
        for row_id, digest in digests.items():
            if digest in taken or digest in seen:
                dropped.append(row_id)
            else:
                seen.add(digest)
                hashed.append({"id": row_id, "email_hash": digest, "email_key": None})
        if dropped:
            session.execute(delete(Suppression).where(Suppression.id.in_(dropped)))
        if hashed:
            session.execute(update(Suppression), hashed)  # bulk UPDATE by primary key
        converted += len(rows)
