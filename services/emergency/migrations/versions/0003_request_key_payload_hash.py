"""request key payload hash

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 00:00:00.000000
"""

from services.common.schema_history import add_request_key_payload_hash, drop_request_key_payload_hash


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_request_key_payload_hash()


def downgrade() -> None:
    drop_request_key_payload_hash()
