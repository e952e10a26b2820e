"""registry generation

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:38:46.141203
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registry_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO registry_generation (id, value) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table('registry_generation')
