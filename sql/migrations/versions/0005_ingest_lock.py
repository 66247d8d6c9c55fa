"""ingest_lock: the lease that serialises ingest runs of one source on SQLite

Revision 0005_ingest_lock, after 0004_partner; written 2026-12-01.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import TS

revision, down_revision = '0005_ingest_lock', '0004_partner'
branch_labels = depends_on = None


def upgrade() -> None:
    # PostgreSQL uses a session advisory lock instead; the table exists there too, so one schema fits both.
    op.create_table(
        "ingest_lock",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_ingest_lock")),
    )


def downgrade() -> None:
    op.drop_table("ingest_lock")
