"""trail key ids

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 00:00:00.000000
"""

from services.common.schema_history import add_trail_key_ids, drop_trail_key_ids


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_trail_key_ids("custody_trail", [("custody_items", "")])


def downgrade() -> None:
    drop_trail_key_ids("custody_trail")
