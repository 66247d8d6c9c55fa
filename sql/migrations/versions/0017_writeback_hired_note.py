"""ats_writeback: a `hired_note` action, the hire from re-contact made visible in the ATS

Revision 0017_writeback_hired_note, after 0016_job_titles; written 2026-12-08.

A re-application from re-contact that ends in a hire gets a note on that application in Greenhouse or
Lever, written exactly once like every other write-back (docs/pool.md "Write-back").
"""
from __future__ import annotations

from alembic import op

revision, down_revision = '0017_writeback_hired_note', '0016_job_titles'
branch_labels = depends_on = None

_OLD = "action IN ('tag', 'note', 'prospect', 'reapplied_note')"
_NEW = "action IN ('tag', 'note', 'prospect', 'reapplied_note', 'hired_note')"


def _action_check(condition: str) -> None:
    with op.batch_alter_table("ats_writeback") as batch:
        batch.drop_constraint(op.f("ck_ats_writeback_action"), type_="check")
        batch.create_check_constraint(op.f("ck_ats_writeback_action"), condition)


def upgrade() -> None:
    _action_check(_NEW)


def downgrade() -> None:
    op.execute("DELETE FROM ats_writeback WHERE action = 'hired_note'")
    _action_check(_OLD)
