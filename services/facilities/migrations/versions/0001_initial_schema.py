"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 09:39:54.944996
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
    op.create_table('cases',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('custody_trail',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('chain_key', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chain_key', 'sequence', name='ux_custody_trail_chain_sequence')
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
    op.create_table('custody_items',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('disposal_method', sa.String(length=16), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disposed_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('trail_length', sa.Integer(), nullable=False),
    sa.Column('trail_head', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('custody_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_items_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_custody_items_office_state', ['office_id', 'state'], unique=False)

    op.create_table('equipment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=48), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('serial_no', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('needs_calibration', sa.Boolean(), nullable=False),
    sa.Column('last_calibrated_on', sa.Date(), nullable=True),
    sa.Column('calibration_due', sa.Date(), nullable=True),
    sa.Column('due_notice_for', sa.Date(), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.create_index('ix_equipment_due', ['calibration_due'], unique=False)
        batch_op.create_index('ix_equipment_office', ['office_id', 'category'], unique=False)
        batch_op.create_index('ux_equipment_category_serial', ['category', 'serial_no'], unique=True)

    op.create_table('four_unified_checks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('aspect', sa.String(length=16), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('photo_refs', sa.JSON(), nullable=False),
    sa.Column('checked_by', sa.String(length=50), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('four_unified_checks', schema=None) as batch_op:
        batch_op.create_index('ix_four_unified_office_aspect', ['office_id', 'aspect', 'checked_on'], unique=False)

    op.create_table('room_checks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('requirements_met', sa.JSON(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('photo_refs', sa.JSON(), nullable=False),
    sa.Column('checked_by', sa.String(length=50), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('compliant', sa.Boolean(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('standard_from', sa.Date(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('room_checks', schema=None) as batch_op:
        batch_op.create_index('ix_room_checks_office_kind', ['office_id', 'kind'], unique=False)

    op.create_table('rooms',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('requirements_met', sa.JSON(), nullable=False),
    sa.Column('compliant', sa.Boolean(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('last_check_id', sa.String(length=36), nullable=True),
    sa.Column('last_checked_on', sa.Date(), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.create_index('ux_rooms_office_kind', ['office_id', 'kind'], unique=True)

    op.create_table('calibrations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('equipment_id', sa.String(length=36), nullable=False),
    sa.Column('calibrated_on', sa.Date(), nullable=False),
    sa.Column('certificate_no', sa.String(length=64), nullable=False),
    sa.Column('calibration_due', sa.Date(), nullable=False),
    sa.Column('recorded_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('calibrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibrations_equipment_id'), ['equipment_id'], unique=False)

    op.create_table('rapid_tests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('origin', sa.String(length=24), nullable=False),
    sa.Column('sample_name', sa.String(length=100), nullable=False),
    sa.Column('vendor_name', sa.String(length=100), nullable=False),
    sa.Column('vendor_uscc', sa.String(length=18), nullable=False),
    sa.Column('market', sa.String(length=100), nullable=False),
    sa.Column('stall', sa.String(length=50), nullable=False),
    sa.Column('item', sa.String(length=48), nullable=False),
    sa.Column('method', sa.String(length=48), nullable=False),
    sa.Column('equipment_id', sa.String(length=36), nullable=False),
    sa.Column('reading', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('tested_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tested_on', sa.Date(), nullable=False),
    sa.Column('retest_deadline', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retest_method', sa.String(length=200), nullable=False),
    sa.Column('retest_requested_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retest_result', sa.String(length=16), nullable=True),
    sa.Column('window_expiry_published', sa.Boolean(), nullable=False),
    sa.Column('confirmed_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('kg_destroyed', sa.Float(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], ),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rapid_tests', schema=None) as batch_op:
        batch_op.create_index('ix_rapid_tests_office_day', ['office_id', 'tested_on'], unique=False)
        batch_op.create_index('ix_rapid_tests_open_positive', ['retest_deadline'], unique=False, sqlite_where=sa.text("state IN ('POSITIVE_PENDING', 'RETEST_REQUESTED')"), postgresql_where=sa.text("state IN ('POSITIVE_PENDING', 'RETEST_REQUESTED')"))



def downgrade() -> None:
    with op.batch_alter_table('rapid_tests', schema=None) as batch_op:
        batch_op.drop_index('ix_rapid_tests_open_positive', sqlite_where=sa.text("state IN ('POSITIVE_PENDING', 'RETEST_REQUESTED')"), postgresql_where=sa.text("state IN ('POSITIVE_PENDING', 'RETEST_REQUESTED')"))
        batch_op.drop_index('ix_rapid_tests_office_day')

    op.drop_table('rapid_tests')
    with op.batch_alter_table('calibrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibrations_equipment_id'))

    op.drop_table('calibrations')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index('ux_rooms_office_kind')

    op.drop_table('rooms')
    with op.batch_alter_table('room_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_room_checks_office_kind')

    op.drop_table('room_checks')
    with op.batch_alter_table('four_unified_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_four_unified_office_aspect')

    op.drop_table('four_unified_checks')
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.drop_index('ux_equipment_category_serial')
        batch_op.drop_index('ix_equipment_office')
        batch_op.drop_index('ix_equipment_due')

    op.drop_table('equipment')
    with op.batch_alter_table('custody_items', schema=None) as batch_op:
        batch_op.drop_index('ix_custody_items_office_state')
        batch_op.drop_index(batch_op.f('ix_custody_items_case_id'))

    op.drop_table('custody_items')
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
    op.drop_table('custody_trail')
    op.drop_table('cases')
    op.drop_table('applied_versions')
