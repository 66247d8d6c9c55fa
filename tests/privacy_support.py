"""The keyed e-mail hash as the tests' default settings compute it (suppressions keep only this)."""

from __future__ import annotations

from junkan.config import RetentionSettings
from junkan.privacy.keyed import email_hash

KEY = RetentionSettings().key_bytes()


def hashed(address: str) -> str:
    return email_hash(KEY, address)
