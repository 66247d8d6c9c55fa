"""${message}

Revision ${up_revision}, after ${down_revision | comma,n}; written ${create_date}.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import junkan.db.types
${imports if imports else ""}
revision, down_revision = ${repr(up_revision)}, ${repr(down_revision)}
branch_labels = depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
