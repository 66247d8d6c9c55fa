"""When a consent record stops counting, decided once, when it is written."""

from __future__ import annotations

from datetime import datetime, timedelta

from junkan.config import ConsentSettings


def expires_at(purpose: str, granted: bool, recorded_at: datetime,
               settings: ConsentSettings) -> datetime | None:
    """A grant lapses `<purpose>_days` after it was recorded; a withdrawal never does (None).

    A withdrawal that lapsed would bring an older grant back to life, or leave a person who said no
    looking as if they had never been asked.
    """
    if not granted:
        return None
    days = settings.validity_days(purpose)
    return None if days is None else recorded_at + timedelta(days=days)
