"""report mail: the monthly report mailed to internal recipients through the outbox

Revision 0019_report_mail, after 0018_preferences; written 2026-12-08.

A message may now have no candidate: the `report` kind goes to an internal recipient configured in
`report.recipients`. The row keeps only the keyed hash of that address (`recipient_hash`, read back
against the settings when the mail is sent) and what the mail is about (`payload`: the period, the PDF,
the headline figures). A check keeps every other kind tied to a candidate.

SQLite rebuilds the table to change the column; the two indexes it cannot reflect (an expression and a
partial index) are dropped first and made again exactly as 0008 and 0011 made them.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import ID, JSON

revision, down_revision = '0019_report_mail', '0018_preferences'
branch_labels = depends_on = None

_REJECTION = sa.text("kind = 'rejection'")
_ADDRESSEE = "candidate_id IS NOT NULL OR (kind = 'report' AND recipient_hash IS NOT NULL)"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _drop_unreflected_indexes() -> None:
    if _sqlite():
        op.drop_index("ix_message_rejection_notice", table_name="message")
        op.drop_index("ix_message_sent_at", table_name="message")


def _make_unreflected_indexes() -> None:
    if _sqlite():
        op.create_index("ix_message_sent_at", "message", [sa.text("coalesce(accepted_at, sending_at)")])
        op.create_index("ix_message_rejection_notice", "message", ["application_id"], unique=True,
                        sqlite_where=_REJECTION)


def upgrade() -> None:
    _drop_unreflected_indexes()
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("recipient_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("payload", JSON, nullable=True))
        batch.alter_column("candidate_id", existing_type=ID, nullable=True)
        batch.create_check_constraint(op.f("ck_message_addressee"), _ADDRESSEE)
    _make_unreflected_indexes()


def downgrade() -> None:
    # Internal mail has no candidate to keep it: it goes with the columns.
    internal = "SELECT id FROM message WHERE candidate_id IS NULL"
    op.execute(f"DELETE FROM email_event WHERE message_id IN ({internal})")
    op.execute(f"DELETE FROM click WHERE message_id IN ({internal})")
    op.execute("DELETE FROM message WHERE candidate_id IS NULL")
    _drop_unreflected_indexes()
    with op.batch_alter_table("message") as batch:
        batch.drop_constraint(op.f("ck_message_addressee"), type_="check")
        batch.alter_column("candidate_id", existing_type=ID, nullable=False)
        batch.drop_column("payload")
        batch.drop_column("recipient_hash")
    _make_unreflected_indexes()
