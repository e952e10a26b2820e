"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 09:56:39.973891
"""

from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('applied_versions',
    sa.Column('aggregate', sa.String(length=160), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('aggregate')
    )
    op.create_table('evidence',
    sa.Column('id', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_office_day', ['office_id', 'occurred_on'], unique=False)

    op.create_table('inbox',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('applied_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('indicator_history',
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('numerator', sa.Float(), nullable=False),
    sa.Column('denominator', sa.Float(), nullable=False),
    sa.Column('as_of', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'office_id', 'version', 'key')
    )
    with op.batch_alter_table('indicator_history', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_history_as_of', ['source', 'office_id', 'as_of'], unique=False)

    op.create_table('indicator_snapshots',
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('numerator', sa.Float(), nullable=False),
    sa.Column('denominator', sa.Float(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('as_of', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('office_id', 'key')
    )
    op.create_table('officer_assessments',
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('evidence_count', sa.Integer(), nullable=False),
    sa.Column('late_count', sa.Integer(), nullable=False),
    sa.Column('proposed_grade', sa.String(length=16), nullable=False),
    sa.Column('proposal_explanation', sa.Text(), nullable=False),
    sa.Column('final_grade', sa.String(length=16), nullable=True),
    sa.Column('final_reason', sa.Text(), nullable=False),
    sa.Column('graded_by', sa.String(length=64), nullable=False),
    sa.Column('graded_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rule_set', sa.String(length=10), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('officer_id', 'quarter')
    )
    with op.batch_alter_table('officer_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_officer_assessments_office_quarter', ['office_id', 'quarter'], unique=False)

    op.create_table('officers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('group', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officers_office_id'), ['office_id'], unique=False)

    op.create_table('offices',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('envelope', sa.JSON(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unsent', ['id'], unique=False, sqlite_where=sa.text('sent_at IS NULL'), postgresql_where=sa.text('sent_at IS NULL'))

    op.create_table('periods',
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('scheme_version', sa.BigInteger(), nullable=False),
    sa.Column('scheme', sa.JSON(), nullable=False),
    sa.Column('district', sa.JSON(), nullable=False),
    sa.Column('district_index', sa.Float(), nullable=True),
    sa.Column('office_count', sa.Integer(), nullable=False),
    sa.Column('plans_opened', sa.Integer(), nullable=False),
    sa.Column('plans_verified', sa.Integer(), nullable=False),
    sa.Column('plans_not_effective', sa.Integer(), nullable=False),
    sa.Column('closed_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('request_keys',
    sa.Column('request_id', sa.String(length=128), nullable=False),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('request_id')
    )
    op.create_table('scheme_versions',
    sa.Column('version', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('evidence_officers',
    sa.Column('evidence_id', sa.String(length=160), nullable=False),
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], ),
    sa.PrimaryKeyConstraint('evidence_id', 'officer_id')
    )
    with op.batch_alter_table('evidence_officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_officers_officer_id'), ['officer_id'], unique=False)

    op.create_table('improvement_plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('indicator_key', sa.String(length=96), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('actions', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('completion_note', sa.Text(), nullable=False),
    sa.Column('completed_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_in', sa.String(length=16), nullable=False),
    sa.Column('verified_value', sa.Float(), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['period_key'], ['periods.key'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('improvement_plans', schema=None) as batch_op:
        batch_op.create_index('ix_improvement_plans_office_state', ['office_id', 'state'], unique=False)
        batch_op.create_index('ix_improvement_plans_open_due', ['state', 'due_date'], unique=False)
        batch_op.create_index('ux_improvement_plans_period_indicator', ['period_key', 'office_id', 'indicator_key'], unique=True)

    op.create_table('period_scores',
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('index', sa.Float(), nullable=True),
    sa.Column('coefficient', sa.Float(), nullable=False),
    sa.Column('adjusted', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('index_rank', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('index_position', sa.Integer(), nullable=False),
    sa.Column('workload', sa.JSON(), nullable=False),
    sa.Column('dimensions', sa.JSON(), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['period_key'], ['periods.key'], ),
    sa.PrimaryKeyConstraint('period_key', 'office_id')
    )


def downgrade() -> None:
    op.drop_table('period_scores')
    with op.batch_alter_table('improvement_plans', schema=None) as batch_op:
        batch_op.drop_index('ux_improvement_plans_period_indicator')
        batch_op.drop_index('ix_improvement_plans_open_due')
        batch_op.drop_index('ix_improvement_plans_office_state')

    op.drop_table('improvement_plans')
    with op.batch_alter_table('evidence_officers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_officers_officer_id'))

    op.drop_table('evidence_officers')
    op.drop_table('scheme_versions')
    op.drop_table('request_keys')
    op.drop_table('periods')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unsent', sqlite_where=sa.text('sent_at IS NULL'), postgresql_where=sa.text('sent_at IS NULL'))

    op.drop_table('outbox')
    op.drop_table('offices')
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officers_office_id'))

    op.drop_table('officers')
    with op.batch_alter_table('officer_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_officer_assessments_office_quarter')

    op.drop_table('officer_assessments')
    op.drop_table('indicator_snapshots')
    with op.batch_alter_table('indicator_history', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_history_as_of')

    op.drop_table('indicator_history')
    op.drop_table('inbox')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_office_day')

    op.drop_table('evidence')
    op.drop_table('applied_versions')
