"""demo loads

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:30:00.000000
"""

from services.common.schema_history import create_demo_loads, drop_demo_loads

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_demo_loads()


def downgrade() -> None:
    drop_demo_loads()
