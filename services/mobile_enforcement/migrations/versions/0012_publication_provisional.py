"""publication due dates flagged provisional

A penalty decision's and an inspection result's publication day is counted in working days; when
it falls into a year without a published holiday schedule it is provisional and is counted again
when that year's schedule is loaded. Rows stored before keep false: their dates were counted as
final.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('cases', 'inspections'):
        op.add_column(table, sa.Column('publication_due_provisional', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade() -> None:
    for table in ('inspections', 'cases'):
        op.drop_column(table, 'publication_due_provisional')
