"""report indexes: the period filters of the KPI queries

Revision ID: 0008_report_indexes
Revises: 0007_reports
Create Date: 2026-12-01 22:00:00

- message: COALESCE(accepted_at, sending_at), the instant a message counts as sent (e-mail and re-contact
  KPIs); as an expression index PostgreSQL also keeps statistics on the expression, so it no longer guesses
  0.5% of the rows for a 12-month range;
- application.applied_at (the funnel's applications and re-applications; decided_at is covered by
  ix_application_status_decided).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_report_indexes"
down_revision: str | None = "0007_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_message_sent_at", "message", [sa.text("coalesce(accepted_at, sending_at)")])
    op.create_index("ix_application_applied_at", "application", ["applied_at"])


def downgrade() -> None:
    op.drop_index("ix_application_applied_at", table_name="application")
    op.drop_index("ix_message_sent_at", table_name="message")
