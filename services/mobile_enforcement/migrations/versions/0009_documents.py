"""enforcement documents

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:40:00.000000
"""

from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ux_documents_subject_kind', ['subject', 'kind'], unique=True)
        batch_op.create_index('ux_documents_number', ['kind', 'year', 'sequence'], unique=True)
        batch_op.create_index('ix_documents_office', ['office_id', 'id'], unique=False)

    op.create_table('document_counters',
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'year')
    )


def downgrade() -> None:
    op.drop_table('document_counters')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_office')
        batch_op.drop_index('ux_documents_number')
        batch_op.drop_index('ux_documents_subject_kind')
    op.drop_table('documents')
