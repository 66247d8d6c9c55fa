"""The opaque candidate reference shown in lists and exports instead of a name or an address.

A keyed hash of our internal id: stable across runs (a recruiter can track one person across shortlists),
meaningless outside, and not reversible without the link secret. Lookups from a ref go through the pool
members, whose refs are recomputed (cheap: one HMAC each).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from junkan.config import LinkSettings

_SALT = b"junkan.pool.candidate_ref.v1"
PREFIX = "c_"


def _key(settings: LinkSettings) -> bytes:
    return hashlib.sha256(_SALT + settings.secret.get_secret_value().encode()).digest()


def candidate_ref(candidate_id: int, settings: LinkSettings, *, key: bytes | None = None) -> str:
    mac = hmac.digest(key or _key(settings), str(int(candidate_id)).encode("ascii"), "sha256")
    return PREFIX + base64.b32encode(mac[:10]).decode("ascii").lower()


def ref_map(candidate_ids: Iterable[int], settings: LinkSettings) -> dict[int, str]:
    key = _key(settings)
    return {int(c): candidate_ref(c, settings, key=key) for c in candidate_ids}


def resolve_refs(refs: Iterable[str], candidate_ids: Iterable[int], settings: LinkSettings) -> dict[str, int]:
    """ref -> candidate id, for the refs found among `candidate_ids`."""
    wanted = {r.strip().lower() for r in refs}
    return {ref: cid for cid, ref in ref_map(candidate_ids, settings).items() if ref in wanted}
