"""duty items' scope and placeholders; offices' declared responsibilities

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 16:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('duty_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applies_to', sa.String(length=32), server_default='', nullable=False))
        batch_op.add_column(sa.Column('placeholder', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'office_responsibilities',
        sa.Column('office_id', sa.String(length=32), sa.ForeignKey('offices.id'), primary_key=True),
        sa.Column('scope', sa.String(length=32), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table('office_responsibilities')
    with op.batch_alter_table('duty_items', schema=None) as batch_op:
        batch_op.drop_column('placeholder')
        batch_op.drop_column('applies_to')
