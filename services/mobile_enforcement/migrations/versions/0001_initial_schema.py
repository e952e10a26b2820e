"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 10:02:29.489300
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
    op.create_table('audit_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('chain_key', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chain_key', 'sequence', name='ux_audit_records_chain_sequence')
    )
    op.create_table('import_reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('imported_count', sa.Integer(), nullable=False),
    sa.Column('rejected_rows', sa.JSON(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
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
    op.create_table('entities',
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('street', sa.String(length=50), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('risk_level', sa.String(length=16), nullable=False),
    sa.Column('key_supervision', sa.Boolean(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('uscc')
    )
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.create_index('ix_entities_draw', ['office_id', 'key_supervision', 'risk_level', 'uscc', 'category'], unique=False)
        batch_op.create_index('ix_entities_office_category', ['office_id', 'category'], unique=False)

    op.create_table('office_streets',
    sa.Column('street', sa.String(length=50), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('street')
    )
    with op.batch_alter_table('office_streets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_streets_office_id'), ['office_id'], unique=False)

    op.create_table('spot_check_plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('ratio_basis_points', sa.Integer(), nullable=False),
    sa.Column('tier_ratios', sa.JSON(), nullable=False),
    sa.Column('inspectors_per_target', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=128), nullable=False),
    sa.Column('drawn_on', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('entity_digest', sa.String(length=64), nullable=False),
    sa.Column('officer_digest', sa.String(length=64), nullable=False),
    sa.Column('population_count', sa.Integer(), nullable=False),
    sa.Column('key_object_count', sa.Integer(), nullable=False),
    sa.Column('eligible_inspector_count', sa.Integer(), nullable=False),
    sa.Column('target_count', sa.Integer(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('spot_check_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_plans_office_id'), ['office_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=18), nullable=True),
    sa.Column('party_name', sa.String(length=200), nullable=False),
    sa.Column('party_uscc', sa.String(length=18), nullable=False),
    sa.Column('party_address', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('received_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rule_set', sa.String(length=64), nullable=False),
    sa.Column('filing_decision_due', sa.Date(), nullable=False),
    sa.Column('filing_due_provisional', sa.Boolean(), nullable=False),
    sa.Column('filing_extended', sa.Boolean(), nullable=False),
    sa.Column('filing_overdue', sa.Boolean(), nullable=False),
    sa.Column('filing_decided_on', sa.Date(), nullable=True),
    sa.Column('not_filed_reason', sa.Text(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=True),
    sa.Column('officer_ids', sa.String(length=400), nullable=False),
    sa.Column('closing_due', sa.Date(), nullable=True),
    sa.Column('closing_extensions', sa.Integer(), nullable=False),
    sa.Column('collective_decision_ref', sa.String(length=200), nullable=False),
    sa.Column('closing_overdue', sa.Boolean(), nullable=False),
    sa.Column('paused_for', sa.String(length=16), nullable=True),
    sa.Column('paused_since', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('penalty_kind', sa.String(length=16), nullable=True),
    sa.Column('party_kind', sa.String(length=16), nullable=True),
    sa.Column('fine_yuan', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('simplified', sa.Boolean(), nullable=False),
    sa.Column('publication_due', sa.Date(), nullable=True),
    sa.Column('published_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('publication_overdue', sa.Boolean(), nullable=False),
    sa.Column('closed_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('trail_head', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.uscc'], ),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index('ix_cases_office_state', ['office_id', 'state'], unique=False)
        batch_op.create_index('ux_cases_source', ['source', 'source_ref'], unique=True, sqlite_where=sa.text("source_ref != ''"), postgresql_where=sa.text("source_ref != ''"))

    op.create_table('conflicts',
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=18), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('declared_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.uscc'], ),
    sa.PrimaryKeyConstraint('officer_id', 'entity_id')
    )
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflicts_entity_id'), ['entity_id'], unique=False)

    op.create_table('inspections',
    sa.Column('id', sa.String(length=48), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=18), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('source_ref', sa.String(length=64), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=True),
    sa.Column('plan_position', sa.Integer(), nullable=True),
    sa.Column('assigned_officer_ids', sa.String(length=400), nullable=False),
    sa.Column('inspector_ids', sa.String(length=400), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('location_address', sa.String(length=300), nullable=False),
    sa.Column('checklist_category', sa.String(length=32), nullable=False),
    sa.Column('checklist_version', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('evidence_complete', sa.Boolean(), nullable=True),
    sa.Column('rectification_due', sa.Date(), nullable=True),
    sa.Column('rectification_confirmed_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rectification_overdue', sa.Boolean(), nullable=False),
    sa.Column('lead_case_id', sa.String(length=36), nullable=True),
    sa.Column('publication_due', sa.Date(), nullable=True),
    sa.Column('published_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('publication_overdue', sa.Boolean(), nullable=False),
    sa.Column('started_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('trail_head', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.uscc'], ),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['spot_check_plans.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index('ix_inspections_office_state', ['office_id', 'state'], unique=False)
        batch_op.create_index('ix_inspections_plan', ['plan_id', 'plan_position'], unique=False)
        batch_op.create_index('ux_inspections_source', ['kind', 'source_ref'], unique=True, sqlite_where=sa.text("source_ref != ''"), postgresql_where=sa.text("source_ref != ''"))

    op.create_table('plan_snapshots',
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['spot_check_plans.id'], ),
    sa.PrimaryKeyConstraint('plan_id', 'kind')
    )
    op.create_table('inspection_findings',
    sa.Column('inspection_id', sa.String(length=48), nullable=False),
    sa.Column('item_code', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence_refs', sa.JSON(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], ),
    sa.PrimaryKeyConstraint('inspection_id', 'item_code')
    )


def downgrade() -> None:
    op.drop_table('inspection_findings')
    op.drop_table('plan_snapshots')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index('ux_inspections_source', sqlite_where=sa.text("source_ref != ''"), postgresql_where=sa.text("source_ref != ''"))
        batch_op.drop_index('ix_inspections_plan')
        batch_op.drop_index('ix_inspections_office_state')
        batch_op.drop_index(batch_op.f('ix_inspections_entity_id'))

    op.drop_table('inspections')
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflicts_entity_id'))

    op.drop_table('conflicts')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ux_cases_source', sqlite_where=sa.text("source_ref != ''"), postgresql_where=sa.text("source_ref != ''"))
        batch_op.drop_index('ix_cases_office_state')
        batch_op.drop_index(batch_op.f('ix_cases_entity_id'))

    op.drop_table('cases')
    with op.batch_alter_table('spot_check_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_check_plans_office_id'))

    op.drop_table('spot_check_plans')
    with op.batch_alter_table('office_streets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_streets_office_id'))

    op.drop_table('office_streets')
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.drop_index('ix_entities_office_category')
        batch_op.drop_index('ix_entities_draw')

    op.drop_table('entities')
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
    op.drop_table('import_reports')
    op.drop_table('audit_records')
    op.drop_table('applied_versions')
