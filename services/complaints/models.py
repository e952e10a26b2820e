"""complaints' own store: the items, their statutory clocks and history, and the local copy of
the offices and streets learned from command_center's events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import UTCDateTime
from services.common.demo import DemoLoadMixin
from services.common.events import (
    AppliedVersionMixin,
    DeadLetterMixin,
    InboxMixin,
    OutboxMixin,
    RequestKeyMixin,
)
from services.common.indicators import IndicatorSnapshotMixin
from services.common.leases import LeaseMixin


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class AppliedVersion(AppliedVersionMixin, Base):
    pass


class DeadLetter(DeadLetterMixin, Base):
    pass


class Lease(LeaseMixin, Base):
    pass


class DemoLoad(DemoLoadMixin, Base):
    pass


class RequestKey(RequestKeyMixin, Base):
    pass


class IndicatorSnapshot(IndicatorSnapshotMixin, Base):
    pass


class Office(Base):
    """An office as command_center last announced it (OfficeRegistered / OfficeUpdated)."""

    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(BigInteger)


class OfficeStreet(Base):
    """A town or subdistrict and the office whose jurisdiction covers it: the routing table."""

    __tablename__ = "office_streets"

    street: Mapped[str] = mapped_column(String(50), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)


class Complaint(Base):
    __tablename__ = "complaints"

    # Sortable by creation time (see domain.intake.new_id): keyset pages come out newest first.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24))
    office_id: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    anonymous: Mapped[bool] = mapped_column(Boolean)
    complainant_name: Mapped[str] = mapped_column(String(50))
    complainant_phone: Mapped[str] = mapped_column(String(32))
    complainant_id_number: Mapped[str] = mapped_column(String(18))
    # The complainant's phone digits: how a repeat complaint is recognised ("" when anonymous).
    complainant_key: Mapped[str] = mapped_column(String(32))
    respondent_name: Mapped[str] = mapped_column(String(200))
    respondent_uscc: Mapped[str] = mapped_column(String(18))
    respondent_address: Mapped[str] = mapped_column(String(300))
    respondent_street: Mapped[str] = mapped_column(String(50))
    # The credit code, else the normalised name: the same business however it was written.
    respondent_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50))
    # The 12315 classification's class or subclass code ("" when the subject named none), and the
    # version of the tree it was classified with.
    category_code: Mapped[str] = mapped_column(String(16), server_default="")
    category_tree: Mapped[str] = mapped_column(String(64), server_default="")
    # The officer of the office's complaint handling group (申投诉处理组) handling it; "" when none.
    handler_id: Mapped[str] = mapped_column(String(64), server_default="")
    # Reports: the reward level (1-3) the office recorded when it filed a case, and why; "" when none.
    reward_level: Mapped[str] = mapped_column(String(8), server_default="")
    reward_basis: Mapped[str] = mapped_column(Text, server_default="")
    description: Mapped[str] = mapped_column(Text)
    # The amount in dispute in fen (0.01 yuan): exact, and the same on both backends.
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    possible_duplicate_of: Mapped[str] = mapped_column(String(32))
    refusal_ground: Mapped[str] = mapped_column(String(32))
    overdue: Mapped[bool] = mapped_column(Boolean)
    feedback_rating: Mapped[str | None] = mapped_column(String(24), nullable=True)
    feedback_comment: Mapped[str] = mapped_column(Text)
    feedback_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        # ListComplaints: newest first within an office, optionally one state; the backlog count.
        Index("ix_complaints_office", "office_id", "id"),
        Index("ix_complaints_office_state", "office_id", "state", "id"),
        Index("ix_complaints_state", "state", "id"),
        Index("ix_complaints_office_overdue", "office_id", "overdue", "id"),
        Index("ix_complaints_office_feedback", "office_id", "feedback_rating",
              sqlite_where=text("feedback_rating IS NOT NULL"),
              postgresql_where=text("feedback_rating IS NOT NULL")),
        Index("ix_complaints_repeat", "complainant_key", "respondent_key", "received_at"),
        Index("ix_complaints_handler", "handler_id", "state"),
        Index("ix_complaints_category", "office_id", "category_code", "received_at"),
    )


class ComplaintDeadline(Base):
    """One statutory clock of an item. office_id follows the item (re-routing moves it) so the
    on-time indicators are counted from this table alone."""

    __tablename__ = "complaint_deadlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    office_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    rule_set: Mapped[str] = mapped_column(String(64))
    started_on: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean)
    extended: Mapped[bool] = mapped_column(Boolean)
    met_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (
        Index("ix_deadlines_office_kind_status", "office_id", "kind", "status"),
        Index("ix_deadlines_status_due", "status", "due_date"),
        Index("ix_deadlines_provisional", "provisional", "status"),
    )


class ComplaintHistory(Base):
    __tablename__ = "complaint_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    from_office_id: Mapped[str] = mapped_column(String(32))
    to_office_id: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Officer(Base):
    """An officer as command_center last announced it (OfficerRegistered / OfficerUpdated): who can
    handle the items of an office."""

    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    group: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_officers_office_group", "office_id", "group"),)


class ReportReward(Base):
    """The reward of a report whose case closed with a fine or confiscation, with its basis."""

    __tablename__ = "report_rewards"

    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64))
    rule_set: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))
    # Fines and confiscated gains of the case, in fen: what the percentage applies to.
    base_fen: Mapped[int] = mapped_column(BigInteger)
    # The percentage in hundredths of a percent (5 % = 500): exact on both backends.
    rate_basis_points: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # How the amount came about, in words (the percentage, and the minimum or maximum applied).
    explanation: Mapped[str] = mapped_column(Text)
    computed_on: Mapped[dt.date] = mapped_column(Date)
