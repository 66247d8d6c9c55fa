"""The keyed hash of an e-mail address: HMAC-SHA256 of the normalised address (junkan.identity).

Suppressions and tombstones keep this instead of the address, so an anonymised or erased person who
opted out is still never mailed, and a leaked table does not give the addresses back (without the key,
a hash cannot be confirmed by hashing guessed addresses, as a plain SHA-256 could).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from junkan.identity import normalize_email

#: Hex digest length, the width of every column that stores one.
HASH_LENGTH = 64


def email_hash(key: bytes, address: str) -> str:
    """The hash of `address` after normalisation, so ＴＡＲＯ@example.jp and taro@example.jp agree."""
    return hash_normalised(key, normalize_email(address) or "")


def hash_normalised(key: bytes, normalised: str) -> str:
    """The hash of an address already normalised (a candidate's `email_key`): no second normalisation on
    the webhook's hot path."""
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def email_hashes(key: bytes, addresses: Iterable[str]) -> dict[str, str]:
    """{address: hash} for the distinct non-empty addresses."""
    return {address: email_hash(key, address) for address in set(addresses) if address}
