"""partner: referral facts, append-only credit ledger, sync state

Revision 0004_partner, after 0003_engagement; written 2026-11-25.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import ID, JSON, TS, drop_table

revision, down_revision = '0004_partner', '0003_engagement'
branch_labels = depends_on = None

_LEDGER_SHAPE = (
    "(kind = 'earned' AND credits = 1 AND earned_entry_id IS NULL)"
    " OR (kind IN ('redeemed', 'expired') AND credits = -1 AND earned_entry_id IS NOT NULL)"
)

# Ledger rows are facts about money-like credits: corrections are new rows, never edits. PostgreSQL
# rejects UPDATE and DELETE (TRUNCATE stays available to an administrator resetting a database).
_PG_FUNCTION = """
CREATE FUNCTION partner_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'partner_ledger is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER partner_ledger_append_only BEFORE UPDATE OR DELETE ON partner_ledger
FOR EACH ROW EXECUTE FUNCTION partner_ledger_append_only()
"""
# SQLite (the embedded demo database) rejects UPDATE. DELETE stays possible there because SQLite has no
# TRUNCATE that bypasses row triggers, and test fixtures / `rm`-style resets need to empty the table.
_SQLITE_TRIGGER = """
CREATE TRIGGER partner_ledger_no_update BEFORE UPDATE ON partner_ledger
BEGIN
    SELECT RAISE(ABORT, 'partner_ledger is append-only: UPDATE is not allowed');
END
"""


def upgrade() -> None:
    op.create_table(
        "partner_referral",
        sa.Column("id", ID, nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("ref_code", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("candidate_id", ID, nullable=False),
        sa.Column("suspicious", sa.Boolean(), nullable=False),
        sa.Column("suspicious_reason", sa.String(length=300), nullable=True),
        sa.Column("reported_via", sa.String(length=16), nullable=False),
        sa.Column("first_reported_at", TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('registered', 'interviewed', 'placed')", name=op.f("ck_partner_referral_status")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidate.id"], name=op.f("fk_partner_referral_candidate_id_candidate")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_partner_referral_message_id_message")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_referral")),
        sa.UniqueConstraint("partner", "ref_code", "status", name="uq_partner_referral_partner_code_status"),
    )
    with op.batch_alter_table("partner_referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_referral_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_partner_referral_message_id"), ["message_id"], unique=False)
        batch_op.create_index(
            "ix_partner_referral_partner_status_occurred", ["partner", "status", "occurred_at"], unique=False
        )

    op.create_table(
        "partner_ledger",
        sa.Column("id", ID, nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("value_yen", sa.Integer(), nullable=False),
        sa.Column("credit_no", sa.Integer(), nullable=False),
        sa.Column("earned_entry_id", ID, nullable=True),
        sa.Column("hire_ref", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("effective_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.CheckConstraint("kind IN ('earned', 'redeemed', 'expired')", name=op.f("ck_partner_ledger_kind")),
        sa.CheckConstraint(_LEDGER_SHAPE, name=op.f("ck_partner_ledger_shape")),
        sa.CheckConstraint(
            "kind <> 'redeemed' OR hire_ref IS NOT NULL", name=op.f("ck_partner_ledger_redeem_has_hire")
        ),
        sa.ForeignKeyConstraint(
            ["earned_entry_id"],
            ["partner_ledger.id"],
            name=op.f("fk_partner_ledger_earned_entry_id_partner_ledger"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_ledger")),
        sa.UniqueConstraint("earned_entry_id", name=op.f("uq_partner_ledger_earned_entry_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_partner_ledger_idempotency_key")),
    )
    with op.batch_alter_table("partner_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_partner_ledger_partner_kind_credit", ["partner", "kind", "credit_no"], unique=False
        )

    op.create_table(
        "partner_sync_state",
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("watermark", TS, nullable=True),
        sa.Column("last_synced_at", TS, nullable=False),
        sa.Column("last_kind", sa.String(length=16), nullable=False),
        sa.Column("last_stats", JSON, nullable=False),
        sa.PrimaryKeyConstraint("partner", name=op.f("pk_partner_sync_state")),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS partner_ledger_append_only ON partner_ledger")
        op.execute("DROP FUNCTION IF EXISTS partner_ledger_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS partner_ledger_no_update")
    drop_table("partner_sync_state")
    drop_table("partner_ledger", "ix_partner_ledger_partner_kind_credit")
    drop_table("partner_referral", "ix_partner_referral_partner_status_occurred",
               "ix_partner_referral_message_id", "ix_partner_referral_candidate_id")
