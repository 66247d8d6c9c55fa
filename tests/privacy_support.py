"""The keyed e-mail hash as the tests' default settings compute it (suppressions keep only this)."""

from __future__ import annotations

import os

from junkan.config import RetentionSettings
from junkan.keyed import email_hash

KEY = RetentionSettings().key_bytes()


def hashed(address: str) -> str:
    """The hash the run will compute: under JUNKAN_RETENTION__HASH_KEY when a test set it (a live send
    refuses the demo key, so tests that send through SendGrid set their own), else the default key."""
    key = os.environ.get("JUNKAN_RETENTION__HASH_KEY")
    return email_hash(key.encode("utf-8") if key else KEY, address)
