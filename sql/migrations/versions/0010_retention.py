"""retention: keyed suppression hashes, erasure tombstones, the privacy audit

Revision 0010_retention, after 0009_consent_lifecycle; written 2026-12-02.

Suppressions get `email_hash` (HMAC-SHA256 of the normalised address) and `email_key` becomes nullable.
Existing rows are not hashed here: the key is a runtime secret the migration should not need (an upgrade
run with another key, or none, would hash every row wrongly and stop suppressing silently). Until the
first retention run hashes them (`junkan.consent.suppressed.hash_plain_rows`), every suppression check
matches the plain column as well as the hash, so no suppressed address is mailed in between.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import ID, JSON, TS

revision, down_revision = '0010_retention', '0009_consent_lifecycle'
branch_labels = depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("suppression") as batch:
        batch.add_column(sa.Column("email_hash", sa.String(length=64), nullable=True))
        batch.alter_column("email_key", existing_type=sa.String(length=254), nullable=True)
        batch.create_unique_constraint(op.f("uq_suppression_email_hash"), ["email_hash"])
    op.create_table(
        "privacy_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("tables", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("performed_at", TS, nullable=False),
        sa.CheckConstraint("action IN ('anonymise', 'erase')", name=op.f("ck_privacy_audit_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_audit")),
    )
    op.create_table(
        "erasure_tombstone",
        sa.Column("id", ID, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=True),
        sa.Column("audit_id", ID, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["privacy_audit.id"],
                                name=op.f("fk_erasure_tombstone_audit_id_privacy_audit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_tombstone")),
        sa.UniqueConstraint("source", "external_id", name="uq_erasure_tombstone_source_external"),
    )
    op.create_index("ix_erasure_tombstone_email_hash", "erasure_tombstone", ["email_hash"])


def downgrade() -> None:
    op.drop_index("ix_erasure_tombstone_email_hash", table_name="erasure_tombstone")
    op.drop_table("erasure_tombstone")
    op.drop_table("privacy_audit")
    # Hashed rows cannot be turned back into addresses; they are dropped with the column.
    op.execute("DELETE FROM suppression WHERE email_key IS NULL")
    with op.batch_alter_table("suppression") as batch:
        batch.drop_constraint(op.f("uq_suppression_email_hash"), type_="unique")
        batch.drop_column("email_hash")
        batch.alter_column("email_key", existing_type=sa.String(length=254), nullable=False)
