"""evidence attached on site, and signed copies of inspection records

Inspections gain the files attached on site (photos, the party's signature, the signed record) by
hash. A document may be a signed copy of another: it keeps the original's subject, kind and number,
so the two unique indexes on them cover originals only, and an original has one signed copy at most.
Documents issued before keep an empty content digest (no check when they are signed).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import services.common.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

ORIGINAL = sa.text("signed_copy_of IS NULL")


def upgrade() -> None:
    op.create_table('inspection_evidence',
    sa.Column('inspection_id', sa.String(length=48), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('captured_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('accuracy_meters', sa.Float(), nullable=False),
    sa.Column('item_code', sa.String(length=16), nullable=False),
    sa.Column('attached_by', sa.String(length=64), nullable=False),
    sa.Column('attached_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], ),
    sa.PrimaryKeyConstraint('inspection_id', 'sha256')
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_digest', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('signed_copy_of', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('signer_name', sa.String(length=50), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('signature_sha256', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('signed_at', services.common.db.UTCDateTime(timezone=True), nullable=True))
    op.drop_index('ux_documents_subject_kind', table_name='documents')
    op.drop_index('ux_documents_number', table_name='documents')
    op.create_index('ux_documents_subject_kind', 'documents', ['subject', 'kind'], unique=True,
                    sqlite_where=ORIGINAL, postgresql_where=ORIGINAL)
    op.create_index('ux_documents_number', 'documents', ['kind', 'year', 'sequence'], unique=True,
                    sqlite_where=ORIGINAL, postgresql_where=ORIGINAL)
    op.create_index('ux_documents_signed_copy', 'documents', ['signed_copy_of'], unique=True)


def downgrade() -> None:
    op.execute("DELETE FROM documents WHERE signed_copy_of IS NOT NULL")
    op.drop_index('ux_documents_signed_copy', table_name='documents')
    op.drop_index('ux_documents_number', table_name='documents')
    op.drop_index('ux_documents_subject_kind', table_name='documents')
    op.create_index('ux_documents_subject_kind', 'documents', ['subject', 'kind'], unique=True)
    op.create_index('ux_documents_number', 'documents', ['kind', 'year', 'sequence'], unique=True)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('signed_at')
        batch_op.drop_column('signature_sha256')
        batch_op.drop_column('signer_name')
        batch_op.drop_column('signed_copy_of')
        batch_op.drop_column('content_digest')
    op.drop_table('inspection_evidence')
