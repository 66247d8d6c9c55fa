"""consent lifecycle: every consent record gets an expiry; the `all_mail` opt-out purpose

Revision 0009_consent_lifecycle, after 0008_report_indexes; written 2026-12-01.

- consent.expires_at: when a grant lapses (NULL = never). The current state of a purpose is the newest
  record that has not expired (junkan/consent/state.py). Indexed on (purpose, expires_at) for "talent_pool
  consents expiring between a and b" (renewal mails, the expiring-consents KPI, retention).
- Backfill: existing `talent_pool` grants expire 365 days after they were recorded (the default of
  JUNKAN_CONSENT__TALENT_POOL_DAYS, the same window the pool applied before); every other existing record,
  and every withdrawal, never expires. An operator who configured another talent-pool validity can re-date
  the grants with one UPDATE (docs/privacy.md "Expiry").
- purpose `all_mail`: a withdrawal recorded when someone asks to receive no mail at all from the employer.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import TS

revision, down_revision = '0009_consent_lifecycle', '0008_report_indexes'
branch_labels = depends_on = None

OLD_PURPOSES = "purpose IN ('talent_pool', 'partner_info', 'recontact')"
NEW_PURPOSES = "purpose IN ('talent_pool', 'partner_info', 'recontact', 'all_mail')"
BACKFILL_DAYS = 365


def _backfill_talent_pool() -> None:
    if op.get_bind().dialect.name == "postgresql":
        expiry = f"recorded_at + interval '{BACKFILL_DAYS} days'"
    else:
        # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'; %f gives SS.SSS.
        expiry = f"strftime('%Y-%m-%d %H:%M:%f', recorded_at, '+{BACKFILL_DAYS} days') || '000'"
    op.execute(f"UPDATE consent SET expires_at = {expiry} "  # noqa: S608 (constants only)
               "WHERE purpose = 'talent_pool' AND granted")


def upgrade() -> None:
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", TS, nullable=True))
        batch_op.drop_constraint(op.f("ck_consent_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_consent_purpose"), NEW_PURPOSES)
        batch_op.create_index("ix_consent_purpose_expires", ["purpose", "expires_at"], unique=False)
    _backfill_talent_pool()


def downgrade() -> None:
    op.execute("DELETE FROM consent WHERE purpose = 'all_mail'")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_purpose_expires")
        batch_op.drop_constraint(op.f("ck_consent_purpose"), type_="check")
        batch_op.create_check_constraint(op.f("ck_consent_purpose"), OLD_PURPOSES)
        batch_op.drop_column("expires_at")
