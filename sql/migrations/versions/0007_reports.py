"""reports: KPI snapshots with their inputs

Revision 0007_reports, after 0006_pool; written 2026-12-01.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import ID, JSON, TS

revision, down_revision = '0007_reports', '0006_pool'
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_snapshot",
        sa.Column("id", ID, nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("figures", JSON, nullable=False),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_snapshot")),
        sa.UniqueConstraint("period_start", "period_end", "scope", name="uq_report_snapshot_period_scope"),
    )


def downgrade() -> None:
    op.drop_table("report_snapshot")
