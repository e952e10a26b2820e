"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 09:39:17.645336
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
    op.create_table('complaints',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('received_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('complainant_name', sa.String(length=50), nullable=False),
    sa.Column('complainant_phone', sa.String(length=32), nullable=False),
    sa.Column('complainant_id_number', sa.String(length=18), nullable=False),
    sa.Column('complainant_key', sa.String(length=32), nullable=False),
    sa.Column('respondent_name', sa.String(length=200), nullable=False),
    sa.Column('respondent_uscc', sa.String(length=18), nullable=False),
    sa.Column('respondent_address', sa.String(length=300), nullable=False),
    sa.Column('respondent_street', sa.String(length=50), nullable=False),
    sa.Column('respondent_key', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('possible_duplicate_of', sa.String(length=32), nullable=False),
    sa.Column('refusal_ground', sa.String(length=32), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('feedback_rating', sa.String(length=24), nullable=True),
    sa.Column('feedback_comment', sa.Text(), nullable=False),
    sa.Column('feedback_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notified_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_office', ['office_id', 'id'], unique=False)
        batch_op.create_index('ix_complaints_office_feedback', ['office_id', 'feedback_rating'], unique=False, sqlite_where=sa.text('feedback_rating IS NOT NULL'), postgresql_where=sa.text('feedback_rating IS NOT NULL'))
        batch_op.create_index('ix_complaints_office_overdue', ['office_id', 'overdue', 'id'], unique=False)
        batch_op.create_index('ix_complaints_office_state', ['office_id', 'state', 'id'], unique=False)
        batch_op.create_index('ix_complaints_repeat', ['complainant_key', 'respondent_key', 'received_at'], unique=False)
        batch_op.create_index('ix_complaints_state', ['state', 'id'], unique=False)

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
    op.create_table('offices',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('district', sa.String(length=50), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
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
    op.create_table('complaint_deadlines',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('complaint_id', sa.String(length=32), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rule_set', sa.String(length=64), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('met_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('complaint_deadlines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_deadlines_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index('ix_deadlines_office_kind_status', ['office_id', 'kind', 'status'], unique=False)
        batch_op.create_index('ix_deadlines_provisional', ['provisional', 'status'], unique=False)
        batch_op.create_index('ix_deadlines_status_due', ['status', 'due_date'], unique=False)

    op.create_table('complaint_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('complaint_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=False),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('from_office_id', sa.String(length=32), nullable=False),
    sa.Column('to_office_id', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('complaint_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_history_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('office_streets',
    sa.Column('street', sa.String(length=50), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('street')
    )
    with op.batch_alter_table('office_streets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_streets_office_id'), ['office_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('office_streets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_streets_office_id'))

    op.drop_table('office_streets')
    with op.batch_alter_table('complaint_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_history_complaint_id'))

    op.drop_table('complaint_history')
    with op.batch_alter_table('complaint_deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_status_due')
        batch_op.drop_index('ix_deadlines_provisional')
        batch_op.drop_index('ix_deadlines_office_kind_status')
        batch_op.drop_index(batch_op.f('ix_complaint_deadlines_complaint_id'))

    op.drop_table('complaint_deadlines')
    op.drop_table('request_keys')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unsent', sqlite_where=sa.text('sent_at IS NULL'), postgresql_where=sa.text('sent_at IS NULL'))

    op.drop_table('outbox')
    op.drop_table('offices')
    op.drop_table('indicator_snapshots')
    op.drop_table('inbox')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_state')
        batch_op.drop_index('ix_complaints_repeat')
        batch_op.drop_index('ix_complaints_office_state')
        batch_op.drop_index('ix_complaints_office_overdue')
        batch_op.drop_index('ix_complaints_office_feedback', sqlite_where=sa.text('feedback_rating IS NOT NULL'), postgresql_where=sa.text('feedback_rating IS NOT NULL'))
        batch_op.drop_index('ix_complaints_office')

    op.drop_table('complaints')
    op.drop_table('applied_versions')
