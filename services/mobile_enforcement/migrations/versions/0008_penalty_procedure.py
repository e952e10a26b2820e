"""penalty procedure

The ordinary procedure's steps on the case: the investigation's conclusion, legal review,
collective discussion, the advance notice and statement, the hearing, delivery and execution.
Texts and flags get server defaults so that the cases stored before migrate unchanged; the first
sanction's kind may now be longer than 16 characters (e.g. RESTRICT_BUSINESS).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import services.common.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _columns() -> list[sa.Column]:
    def text(name: str, default: str = '') -> sa.Column:
        return sa.Column(name, sa.Text(), server_default=default, nullable=False)

    def string(name: str, length: int) -> sa.Column:
        return sa.Column(name, sa.String(length=length), server_default='', nullable=False)

    def flag(name: str) -> sa.Column:
        return sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)

    def day(name: str) -> sa.Column:
        return sa.Column(name, sa.Date(), nullable=True)

    def money(name: str) -> sa.Column:
        return sa.Column(name, sa.Numeric(precision=14, scale=2), nullable=True)

    return [
        text('facts'), text('legal_basis'), text('proposed_penalty'), text('sanctions', '[]'),
        day('investigated_on'), flag('legal_review_required'), flag('collective_discussion_required'),
        flag('hearing_eligible'), day('legal_review_due'), flag('legal_review_due_provisional'),
        flag('legal_review_overdue'), day('legal_reviewed_on'), string('legal_reviewer_id', 32),
        text('legal_review_opinion'), day('collective_discussed_on'), text('collective_discussion_record'),
        day('notified_on'), day('statement_due'), flag('statement_due_provisional'), text('statement'),
        flag('statement_waived'), day('hearing_requested_on'),
        sa.Column('hearing_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
        string('hearing_place', 200), string('hearing_host_id', 32), day('hearing_notified_on'),
        day('hearing_held_on'), text('hearing_record'), day('delivery_due'), flag('delivery_overdue'),
        day('delivered_on'), string('delivery_method', 24), day('payment_due'), flag('payment_overdue'),
        money('amount_paid'), money('surcharge_paid'), day('executed_on'),
    ]


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('penalty_kind', existing_type=sa.String(length=16), type_=sa.String(length=24),
                              existing_nullable=True)
        for column in _columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
        batch_op.alter_column('penalty_kind', existing_type=sa.String(length=24), type_=sa.String(length=16),
                              existing_nullable=True)
