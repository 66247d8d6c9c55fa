"""report indexes: the period filters of the KPI queries

Revision 0008_report_indexes, after 0007_reports; written 2026-12-01.

- message: COALESCE(accepted_at, sending_at), the instant a message counts as sent (e-mail and re-contact
  KPIs); as an expression index PostgreSQL also keeps statistics on the expression, so it no longer guesses
  0.5% of the rows for a 12-month range;
- application.applied_at (the funnel's applications and re-applications; decided_at is covered by
  ix_application_status_decided).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision, down_revision = '0008_report_indexes', '0007_reports'
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_index("ix_message_sent_at", "message", [sa.text("coalesce(accepted_at, sending_at)")])
    op.create_index("ix_application_applied_at", "application", ["applied_at"])


def downgrade() -> None:
    op.drop_index("ix_application_applied_at", table_name="application")
    op.drop_index("ix_message_sent_at", table_name="message")
