"""categories, handlers, report rewards

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
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("category_code", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("category_tree", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("handler_id", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("reward_level", sa.String(8), nullable=False, server_default=""))
        batch.add_column(sa.Column("reward_basis", sa.Text(), nullable=False, server_default=""))
    op.create_index("ix_complaints_handler", "complaints", ["handler_id", "state"])
    op.create_index("ix_complaints_category", "complaints", ["office_id", "category_code", "received_at"])
    op.create_table(
        "officers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("office_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("group", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_officers_office_group", "officers", ["office_id", "group"])
    op.create_table(
        "report_rewards",
        sa.Column("complaint_id", sa.String(32), sa.ForeignKey("complaints.id"), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("rule_set", sa.String(64), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("rate_basis_points", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_rewards")
    op.drop_index("ix_officers_office_group", table_name="officers")
    op.drop_table("officers")
    op.drop_index("ix_complaints_category", table_name="complaints")
    op.drop_index("ix_complaints_handler", table_name="complaints")
    with op.batch_alter_table("complaints") as batch:
        for column in ("reward_basis", "reward_level", "handler_id", "category_tree", "category_code"):
            batch.drop_column(column)
