"""provisional deadlines: nothing to change in the schema

The recount of provisional due dates after a calendar reload works on the columns cases already
have (filing_due_provisional, legal_review_due_provisional, statement_due_provisional) and reads a
clock's start from the case's evidence trail. The revision keeps its number in the chain.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:40:00.000000
"""


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
