"""retention indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 04:00:00.000000
"""

from services.common.schema_history import add_retention_indexes, drop_retention_indexes


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_retention_indexes()


def downgrade() -> None:
    drop_retention_indexes()
