"""pool: talent pool, potential scores, models, match runs, matches

Revision 0006_pool, after 0005_ingest_lock; written 2026-12-01.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from junkan.db.migrations.ddl import ID, JSON, TS, drop_columns, drop_table

revision, down_revision = '0006_pool', '0005_ingest_lock'
branch_labels = depends_on = None

# Self-contained on purpose: only additive columns and new tables, so it can be re-chained after any
# sibling revision without touching it.


def upgrade() -> None:
    op.create_table('match_run',
    sa.Column('id', ID, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('run_at', TS, nullable=False),
    sa.Column('new_since', TS, nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('params', JSON, nullable=False),
    sa.Column('counts', JSON, nullable=False),
    sa.Column('score_method', sa.String(length=16), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.CheckConstraint("mode IN ('shortlist', 'auto')", name=op.f('ck_match_run_mode')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_run'))
    )
    op.create_table('pool_model',
    sa.Column('id', ID, nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('features', JSON, nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('metrics', JSON, nullable=False),
    sa.Column('n_outcomes', sa.Integer(), nullable=False),
    sa.Column('trained_at', TS, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_model')),
    sa.UniqueConstraint('version', name=op.f('uq_pool_model_version'))
    )
    op.create_table('pool_opening_state',
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('seen_at', TS, nullable=False),
    sa.Column('new_at', TS, nullable=True),
    sa.PrimaryKeyConstraint('target', name=op.f('pk_pool_opening_state'))
    )
    op.create_table('pool_score',
    sa.Column('candidate_id', ID, nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('reasons', JSON, nullable=False),
    sa.Column('computed_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_pool_score_candidate_id_candidate')),
    sa.PrimaryKeyConstraint('candidate_id', name=op.f('pk_pool_score'))
    )
    op.create_table('pool_tag',
    sa.Column('id', ID, nullable=False),
    sa.Column('candidate_id', ID, nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_pool_tag_candidate_id_candidate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_tag')),
    sa.UniqueConstraint('candidate_id', 'tag', name='uq_pool_tag_candidate_tag')
    )
    with op.batch_alter_table('pool_tag', schema=None) as batch_op:
        batch_op.create_index('ix_pool_tag_tag', ['tag'], unique=False)

    op.create_table('pool_member',
    sa.Column('candidate_id', ID, nullable=False),
    sa.Column('eligibility', sa.String(length=16), nullable=False),
    sa.Column('why_code', sa.String(length=64), nullable=False),
    sa.Column('why', sa.String(length=300), nullable=False),
    sa.Column('application_id', ID, nullable=False),
    sa.Column('decided_at', TS, nullable=True),
    sa.Column('consent_until', TS, nullable=True),
    sa.Column('refreshed_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_pool_member_application_id_application')),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_pool_member_candidate_id_candidate')),
    sa.PrimaryKeyConstraint('candidate_id', name=op.f('pk_pool_member'))
    )
    op.create_table('pool_match',
    sa.Column('id', ID, nullable=False),
    sa.Column('run_id', ID, nullable=False),
    sa.Column('job_id', ID, nullable=False),
    sa.Column('opening_id', ID, nullable=True),
    sa.Column('candidate_id', ID, nullable=False),
    sa.Column('application_id', ID, nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('required_score', sa.Float(), nullable=False),
    sa.Column('preferred_score', sa.Float(), nullable=False),
    sa.Column('text_score', sa.Float(), nullable=False),
    sa.Column('location_score', sa.Float(), nullable=False),
    sa.Column('potential_score', sa.Float(), nullable=False),
    sa.Column('matched_required', JSON, nullable=False),
    sa.Column('missing_required', JSON, nullable=False),
    sa.Column('matched_preferred', JSON, nullable=False),
    sa.Column('bucket', sa.String(length=16), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('holdout', sa.Boolean(), nullable=False),
    sa.Column('message_id', ID, nullable=True),
    sa.CheckConstraint("bucket IN ('強い一致', '良い一致', '部分一致')", name=op.f('ck_pool_match_bucket')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_pool_match_application_id_application')),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_pool_match_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_pool_match_job_id_job')),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_pool_match_message_id_message')),
    sa.ForeignKeyConstraint(['opening_id'], ['opening.id'], name=op.f('fk_pool_match_opening_id_opening')),
    sa.ForeignKeyConstraint(['run_id'], ['match_run.id'], name=op.f('fk_pool_match_run_id_match_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_match')),
    sa.UniqueConstraint('run_id', 'job_id', 'opening_id', 'candidate_id', name='uq_pool_match_run_target')
    )
    with op.batch_alter_table('pool_match', schema=None) as batch_op:
        batch_op.create_index('ix_pool_match_candidate', ['candidate_id', 'run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pool_match_run_id'), ['run_id'], unique=False)

    op.create_table('pool_reapplication',
    sa.Column('id', ID, nullable=False),
    sa.Column('application_id', ID, nullable=False),
    sa.Column('candidate_id', ID, nullable=False),
    sa.Column('match_id', ID, nullable=False),
    sa.Column('run_id', ID, nullable=False),
    sa.Column('message_id', ID, nullable=True),
    sa.Column('grp', sa.String(length=16), nullable=False),
    sa.Column('applied_at', TS, nullable=True),
    sa.Column('same_job', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', TS, nullable=False),
    sa.CheckConstraint("grp IN ('contacted', 'holdout')", name=op.f('ck_pool_reapplication_grp')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_pool_reapplication_application_id_application')),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_pool_reapplication_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['match_id'], ['pool_match.id'], name=op.f('fk_pool_reapplication_match_id_pool_match')),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_pool_reapplication_message_id_message')),
    sa.ForeignKeyConstraint(['run_id'], ['match_run.id'], name=op.f('fk_pool_reapplication_run_id_match_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_reapplication')),
    sa.UniqueConstraint('application_id', name=op.f('uq_pool_reapplication_application_id'))
    )
    with op.batch_alter_table('pool_reapplication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pool_reapplication_candidate_id'), ['candidate_id'], unique=False)

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skills', JSON, nullable=True))
        batch_op.add_column(sa.Column('location', sa.String(length=200), nullable=True))

    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('required_skills', JSON, nullable=True))
        batch_op.add_column(sa.Column('preferred_skills', JSON, nullable=True))
        batch_op.add_column(sa.Column('location', sa.String(length=200), nullable=True))



def downgrade() -> None:
    drop_columns('job', 'location', 'preferred_skills', 'required_skills', 'description')
    drop_columns('candidate', 'location', 'skills')
    drop_table('pool_reapplication', 'ix_pool_reapplication_candidate_id')
    drop_table('pool_match', 'ix_pool_match_run_id', 'ix_pool_match_candidate')
    drop_table('pool_member')
    drop_table('pool_tag', 'ix_pool_tag_tag')
    drop_table('pool_score')
    drop_table('pool_opening_state')
    drop_table('pool_model')
    drop_table('match_run')
