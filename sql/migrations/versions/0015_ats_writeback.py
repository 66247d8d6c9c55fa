"""ats_writeback: tags, notes and prospects written into the source ATS exactly once

Revision 0015_ats_writeback, after 0014_app_candidate_ext; written 2026-12-07.

One row per (source, candidate, job, action): claimed before the call, recorded after it, so a crash or a
retry never writes twice (docs/pool.md "Write-back").
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import ID, TS, drop_table

revision, down_revision = '0015_ats_writeback', '0014_app_candidate_ext'
branch_labels = depends_on = None


def _fk(column: str, table: str, *, nullable: bool = False) -> sa.Column[int]:
    name = op.f(f"fk_ats_writeback_{column}_{table}")
    return sa.Column(column, ID, sa.ForeignKey(f"{table}.id", name=name), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ats_writeback",
        sa.Column("id", ID, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        _fk("candidate_id", "candidate"),
        _fk("job_id", "job"),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        _fk("application_id", "application"),
        _fk("match_id", "pool_match", nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=40), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("ats_ref", sa.String(length=128), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ats_writeback")),
        sa.UniqueConstraint("source", "candidate_id", "job_id", "action", name="uq_ats_writeback_target"),
        sa.UniqueConstraint("key", name=op.f("uq_ats_writeback_key")),
        sa.CheckConstraint("action IN ('tag', 'note', 'prospect', 'reapplied_note')",
                           name=op.f("ck_ats_writeback_action")),
        sa.CheckConstraint("state IN ('pending', 'sending', 'done', 'failed')",
                           name=op.f("ck_ats_writeback_state")),
    )
    op.create_index("ix_ats_writeback_state", "ats_writeback", ["state", "lease_until"])


def downgrade() -> None:
    drop_table("ats_writeback", "ix_ats_writeback_state")
