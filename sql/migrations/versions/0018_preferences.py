"""preferences: the candidate's own page — choices (candidate_preference), visits, copy requests

Revision 0018_preferences, after 0017_writeback_hired_note; written 2026-12-08.

candidate_preference and preference_visit are append-only person tables (docs/privacy.md "The preference page"): a later save adds a
row, the newest counts, and the erasure and the export follow them by candidate id. data_copy_request
holds the copies of their data people asked for on the page, open until the operator sends one.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import ID, JSON, TS, drop_table

revision, down_revision = '0018_preferences', '0017_writeback_hired_note'
branch_labels = depends_on = None


def _candidate(table: str) -> sa.Column[int]:
    name = op.f(f"fk_{table}_candidate_id_candidate")
    return sa.Column("candidate_id", ID, sa.ForeignKey("candidate.id", name=name), nullable=False)


def upgrade() -> None:
    op.create_table(
        "candidate_preference",
        sa.Column("id", ID, nullable=False),
        _candidate("candidate_preference"),
        sa.Column("families", JSON, nullable=False),
        sa.Column("other_interest", sa.Text(), nullable=False),
        sa.Column("locations", JSON, nullable=False),
        sa.Column("remote", sa.Boolean(), nullable=True),
        sa.Column("timing_months", sa.Integer(), nullable=True),
        sa.Column("never", sa.Boolean(), nullable=False),
        sa.Column("skills_text", sa.Text(), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("wording_version", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate_preference")),
        sa.CheckConstraint("timing_months IN (3, 6, 12)", name=op.f("ck_candidate_preference_timing_months")),
        sa.CheckConstraint("NOT (never AND timing_months IS NOT NULL)",
                           name=op.f("ck_candidate_preference_never_has_no_timing")),
    )
    op.create_index("ix_candidate_preference_candidate", "candidate_preference",
                    ["candidate_id", "recorded_at"])
    op.create_index("ix_candidate_preference_recorded", "candidate_preference", ["recorded_at"])
    op.create_table(
        "preference_visit",
        sa.Column("id", ID, nullable=False),
        _candidate("preference_visit"),
        sa.Column("visited_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preference_visit")),
    )
    op.create_index("ix_preference_visit_candidate", "preference_visit", ["candidate_id", "visited_at"])
    op.create_index("ix_preference_visit_visited", "preference_visit", ["visited_at"])
    op.create_table(
        "data_copy_request",
        sa.Column("id", ID, nullable=False),
        _candidate("data_copy_request"),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_copy_request")),
    )
    op.create_index("ix_data_copy_request_open", "data_copy_request", ["done_at", "requested_at"])


def downgrade() -> None:
    drop_table("data_copy_request", "ix_data_copy_request_open")
    drop_table("preference_visit", "ix_preference_visit_candidate", "ix_preference_visit_visited")
    drop_table("candidate_preference", "ix_candidate_preference_candidate",
               "ix_candidate_preference_recorded")
