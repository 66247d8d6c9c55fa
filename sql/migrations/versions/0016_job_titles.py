"""job_titles: the titles a job had before the source renamed it

Revision 0016_job_titles, after 0015_ats_writeback; written 2026-12-08.

One row per (job, old title), written by ingest when a job arrives with a title other than the stored
one; the re-contact vocabulary links an old title to the job's occupation (docs/pool.md "Vocabulary").
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import ID, TS, drop_table

revision, down_revision = '0016_job_titles', '0015_ats_writeback'
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_title_history",
        sa.Column("id", ID, nullable=False),
        sa.Column("job_id", ID, sa.ForeignKey("job.id", name=op.f("fk_job_title_history_job_id_job")),
                  nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("replaced_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_title_history")),
        sa.UniqueConstraint("job_id", "title", name="uq_job_title_history_job_title"),
    )


def downgrade() -> None:
    drop_table("job_title_history")
