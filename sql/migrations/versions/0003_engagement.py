"""engagement: provider events, tracked-link clicks, suppression-sync watermarks

Revision 0003_engagement, after 0002_outbox; written 2026-11-25.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import ID, JSON, TS, drop_table

revision, down_revision = '0003_engagement', '0002_outbox'
branch_labels = depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, TS, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "email_event",
        sa.Column("id", ID, nullable=False),
        sa.Column("sg_event_id", sa.String(length=128), nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=False),
        sa.Column("message_id", ID, nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=False),
        _ts("occurred_at"),
        _ts("received_at"),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], name=op.f("fk_email_event_message_id_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_event")),
        sa.UniqueConstraint("sg_event_id", name=op.f("uq_email_event_sg_event_id")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_email_event_dedup_key")),
    )
    with op.batch_alter_table("email_event", schema=None) as batch_op:
        batch_op.create_index("ix_email_event_message_event", ["message_id", "event"], unique=False)
        batch_op.create_index("ix_email_event_received_at", ["received_at"], unique=False)

    op.create_table(
        "click",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("link", sa.String(length=64), nullable=False),
        _ts("clicked_at"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], name=op.f("fk_click_message_id_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_click")),
    )
    with op.batch_alter_table("click", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_click_message_id"), ["message_id"], unique=False)

    op.create_table(
        "suppression_sync",
        sa.Column("list_name", sa.String(length=64), nullable=False),
        _ts("watermark", nullable=True),
        _ts("last_run_at"),
        sa.Column("last_fetched", sa.Integer(), nullable=False),
        sa.Column("last_added", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("list_name", name=op.f("pk_suppression_sync")),
    )


def downgrade() -> None:
    drop_table("suppression_sync")
    drop_table("click", "ix_click_message_id")
    drop_table("email_event", "ix_email_event_received_at", "ix_email_event_message_event")
