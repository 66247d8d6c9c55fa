"""copy request once: at most one open copy request per person, kept by the database

Revision 0020_copy_request_once, after 0019_report_mail; written 2026-12-08.

The preference page looked for an open request before adding one, so two POSTs at once (a double click,
on PostgreSQL) could both add one. A unique index on data_copy_request(candidate_id) over the open rows
(done_at IS NULL) now refuses the second, and the page inserts with ON CONFLICT DO NOTHING. Open
duplicates already stored are removed first, keeping each person's oldest open request: the person asked
for one copy, and closing a duplicate would say a copy was sent.

SQLite cannot reflect a partial index, so a later batch rebuild of this table must make it again.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision, down_revision = '0020_copy_request_once', '0019_report_mail'
branch_labels = depends_on = None

_OPEN = sa.text("done_at IS NULL")


def upgrade() -> None:
    op.execute("""
        DELETE FROM data_copy_request
        WHERE done_at IS NULL AND EXISTS (
            SELECT 1 FROM data_copy_request o
            WHERE o.candidate_id = data_copy_request.candidate_id AND o.done_at IS NULL
              AND (o.requested_at < data_copy_request.requested_at
                   OR (o.requested_at = data_copy_request.requested_at AND o.id < data_copy_request.id)))
    """)
    op.create_index("ix_data_copy_request_one_open", "data_copy_request", ["candidate_id"], unique=True,
                    postgresql_where=_OPEN, sqlite_where=_OPEN)


def downgrade() -> None:
    op.drop_index("ix_data_copy_request_one_open", table_name="data_copy_request")
