"""supervision tasks' due dates flagged provisional

A task's due date is counted in working days; when it falls into a year without a published
holiday schedule it is provisional and is counted again when that year's schedule is loaded.
The day the count started and its working days are kept so that the recount uses the figure the
task was raised with. Tasks stored before keep false (and no count: a bureau's date is its own).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 17:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_date_provisional', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('due_counted_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('due_working_days', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('due_working_days')
        batch_op.drop_column('due_counted_from')
        batch_op.drop_column('due_date_provisional')
