"""Ingest coordination: the lease that serialises ingest runs of one source on SQLite.

PostgreSQL serialises runs with a session advisory lock instead (junkan.ingest.lock), which the server
releases when the holder's connection ends; SQLite has no such lock, so a run holds a row here with a
lease it renews in every batch transaction. A run that died leaves its row behind until the lease ends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from junkan.db.models import Base
from junkan.db.types import UtcDateTime


class IngestLock(Base):
    __tablename__ = "ingest_lock"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Opaque id of the run holding the lock (random, per run).
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: The lock is free for the taking after this moment (the holder renews it with every batch).
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
