"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 09:45:14.771372
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
    op.create_table('inbox',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('applied_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('indicator_snapshots',
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('numerator', sa.Float(), nullable=False),
    sa.Column('denominator', sa.Float(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('as_of', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('office_id', 'key')
    )
    op.create_table('officers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('group', sa.String(length=32), nullable=False),
    sa.Column('certificate_no', sa.String(length=32), nullable=False),
    sa.Column('certificate_expires', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officers_office_id'), ['office_id'], unique=False)

    op.create_table('offices',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('district', sa.String(length=50), nullable=False),
    sa.Column('streets', sa.JSON(), nullable=False),
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

    op.create_table('request_keys',
    sa.Column('request_id', sa.String(length=128), nullable=False),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('request_id')
    )
    op.create_table('drills',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('incident_type', sa.String(length=32), nullable=False),
    sa.Column('participant_count', sa.Integer(), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.create_index('ix_drills_office_held', ['office_id', 'held_on'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('entity_name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('occurred_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('learned_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ill_count', sa.Integer(), nullable=False),
    sa.Column('death_count', sa.Integer(), nullable=False),
    sa.Column('serious_injury_count', sa.Integer(), nullable=False),
    sa.Column('trapped_count', sa.Integer(), nullable=False),
    sa.Column('trapped_hours', sa.Float(), nullable=False),
    sa.Column('evacuated_count', sa.Integer(), nullable=False),
    sa.Column('affected_count', sa.Integer(), nullable=False),
    sa.Column('provinces_reached', sa.Integer(), nullable=False),
    sa.Column('cities_reached', sa.Integer(), nullable=False),
    sa.Column('counties_reached', sa.Integer(), nullable=False),
    sa.Column('economic_loss_yuan', sa.BigInteger(), nullable=False),
    sa.Column('circumstances', sa.JSON(), nullable=False),
    sa.Column('rule_set', sa.String(length=10), nullable=False),
    sa.Column('level', sa.String(length=3), nullable=False),
    sa.Column('criteria_level', sa.String(length=3), nullable=False),
    sa.Column('escalated_level', sa.String(length=3), nullable=True),
    sa.Column('escalation_reason', sa.Text(), nullable=False),
    sa.Column('grading_reasons', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('review_cause', sa.Text(), nullable=False),
    sa.Column('review_measures', sa.Text(), nullable=False),
    sa.Column('review_lessons', sa.Text(), nullable=False),
    sa.Column('reported_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_office_state', ['office_id', 'state'], unique=False)

    op.create_table('incident_actions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('required_by', sa.String(length=3), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('due_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('assignee_id', sa.String(length=32), nullable=False),
    sa.Column('done_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident_actions', schema=None) as batch_op:
        batch_op.create_index('ix_incident_actions_open_due', ['state', 'overdue', 'due_at'], unique=False)
        batch_op.create_index('ux_incident_actions_code', ['incident_id', 'code'], unique=True)

    op.create_table('timeline_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('recorded_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_entries_incident_id'), ['incident_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_entries_incident_id'))

    op.drop_table('timeline_entries')
    with op.batch_alter_table('incident_actions', schema=None) as batch_op:
        batch_op.drop_index('ux_incident_actions_code')
        batch_op.drop_index('ix_incident_actions_open_due')

    op.drop_table('incident_actions')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_office_state')

    op.drop_table('incidents')
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.drop_index('ix_drills_office_held')

    op.drop_table('drills')
    op.drop_table('request_keys')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unsent', sqlite_where=sa.text('sent_at IS NULL'), postgresql_where=sa.text('sent_at IS NULL'))

    op.drop_table('outbox')
    op.drop_table('offices')
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officers_office_id'))

    op.drop_table('officers')
    op.drop_table('indicator_snapshots')
    op.drop_table('inbox')
    op.drop_table('applied_versions')
