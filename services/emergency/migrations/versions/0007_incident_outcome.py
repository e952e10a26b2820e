"""incident outcome below level IV, its handling, and the unit's late report

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 16:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Incidents already stored were all graded I-IV.
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), server_default='GRADED', nullable=False))
        batch_op.add_column(sa.Column('handling', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('unit_report_late', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('unit_report_late')
        batch_op.drop_column('handling')
        batch_op.drop_column('outcome')
