"""whole market: industry codes, optional key types, the plan's rounding rule, import reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:45:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Entities of every industry: the industry code, and the key type becomes optional ("").
    op.add_column('entities', sa.Column('industry_code', sa.String(4), nullable=False, server_default=''))
    # Plans drawn before the whole-plan rounding rule keep the rule they were drawn by.
    op.add_column('spot_check_plans', sa.Column('rounding', sa.String(16), nullable=False,
                                                server_default='PER_GROUP_CEIL'))
    op.add_column('import_reports', sa.Column('row_count', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    op.drop_column('import_reports', 'row_count')
    op.drop_column('spot_check_plans', 'rounding')
    op.drop_column('entities', 'industry_code')
