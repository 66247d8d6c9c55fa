"""ingest_lock: the lease that serialises ingest runs of one source on SQLite

Revision ID: 0005_ingest_lock
Revises: 0004_partner
Create Date: 2026-12-01 20:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import junkan.db.types

revision: str = "0005_ingest_lock"
down_revision: str | None = "0004_partner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = junkan.db.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    # PostgreSQL uses a session advisory lock instead; the table exists there too, so one schema fits both.
    op.create_table(
        "ingest_lock",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_ingest_lock")),
    )


def downgrade() -> None:
    op.drop_table("ingest_lock")
