"""leases

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 04:00:00.000000
"""

from services.common.schema_history import create_leases, drop_leases

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_leases()


def downgrade() -> None:
    drop_leases()
