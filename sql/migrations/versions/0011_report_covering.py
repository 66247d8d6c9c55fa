"""report covering indexes: the follow-up, e-mail and funnel KPIs read indexes only

Revision 0011_report_covering, after 0010_retention; written 2026-12-01.

- message: one rejection notice per application (`ix_message_rejection_notice`, unique where kind =
  'rejection'). Enqueueing already guarantees it (logical key "application:<id>:rejection" is unique); the
  index states it, so the follow-up KPI joins each rejection to its notice directly instead of aggregating
  notices per application, and (PostgreSQL) it carries the columns that KPI reads (INCLUDE), so the notices
  are read from the index, not from the wide message rows;
- application: ix_application_status_decided and ix_application_applied_at keep their keys and, on
  PostgreSQL, INCLUDE the columns the funnel, follow-up and re-application KPIs read (index-only scans).
  SQLite has no INCLUDE; its indexes are unchanged.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision, down_revision = '0011_report_covering', '0010_retention'
branch_labels = depends_on = None

_REJECTION = sa.text("kind = 'rejection'")


def upgrade() -> None:
    op.create_index("ix_message_rejection_notice", "message", ["application_id"], unique=True,
                    postgresql_where=_REJECTION, sqlite_where=_REJECTION,
                    postgresql_include=["accepted_at", "state", "cancelled_reason"])
    op.drop_index("ix_application_status_decided", table_name="application")
    op.create_index("ix_application_status_decided", "application", ["status", "decided_at"],
                    postgresql_include=["id", "job_id", "created_at"])
    op.drop_index("ix_application_applied_at", table_name="application")
    op.create_index("ix_application_applied_at", "application", ["applied_at"],
                    postgresql_include=["job_id", "candidate_id", "is_reapplication"])


def downgrade() -> None:
    op.drop_index("ix_application_applied_at", table_name="application")
    op.create_index("ix_application_applied_at", "application", ["applied_at"])
    op.drop_index("ix_application_status_decided", table_name="application")
    op.create_index("ix_application_status_decided", "application", ["status", "decided_at"])
    op.drop_index("ix_message_rejection_notice", table_name="message")
