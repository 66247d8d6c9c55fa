"""application.candidate_external_id: the ATS's id of the person behind an application

Revision 0014_app_candidate_ext, after 0013_click_kind; written 2026-12-07.

Greenhouse keeps tags and notes on the candidate (its person), not on the application, and its web app
opens a person at /people/<candidate id>. Ingest now keeps the id the adapter reads (Greenhouse
candidate_id, Lever contact, a spreadsheet's 候補者ID column) so the shortlist can link to the person and
write-back can reach them. Rows ingested before stay empty until their source record changes; write-back
asks Greenhouse for the ids it is missing.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import drop_columns

revision, down_revision = '0014_app_candidate_ext', '0013_click_kind'
branch_labels = depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("application") as batch:
        batch.add_column(sa.Column("candidate_external_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    drop_columns("application", "candidate_external_id")
