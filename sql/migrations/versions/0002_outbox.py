"""outbox: error code and operator resolution on messages

Revision 0002_outbox, after 0001; written 2026-11-25.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import TS, drop_columns

revision, down_revision = '0002_outbox', '0001'
branch_labels = depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table, PostgreSQL issues plain ALTER TABLE … ADD COLUMN.
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_error_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", TS, nullable=True))
        # Claiming scans pending rows by due time and skips live leases; crash recovery scans
        # `sending` rows by lease expiry. One composite index serves both.
        batch_op.create_index("ix_message_state_lease", ["state", "lease_until"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_message_state_lease", table_name="message")
    drop_columns("message", "resolved_at", "resolution", "last_error_code")
