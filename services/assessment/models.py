"""assessment's own store: scheme versions, indicator history, closed periods and their scores,
improvement plans, evidence of officers' work and their quarterly grades, and the offices and
officers learned from command_center's events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import UTCDateTime
from services.common.demo import DemoLoadMixin
from services.common.events import AppliedVersionMixin, DeadLetterMixin, InboxMixin, OutboxMixin, RequestKeyMixin
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
    """command_center's offices, as its events told us."""

    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Officer(Base):
    """command_center's officers, as its events told us. No foreign key to offices: over the
    broker an officer's event may arrive before its office's."""

    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    office_id: Mapped[str] = mapped_column(String(32), index=True)
    group: Mapped[str] = mapped_column(String(32))


class SchemeVersion(Base):
    """A version of the scheme the bureau wrote. While none is stored the built-in versions in
    schemes/ apply; the first update copies them here, so versions never collide."""

    __tablename__ = "scheme_versions"

    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    body: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class IndicatorHistory(Base):
    """Every office's indicator values as each source published them (IndicatorsChanged), so a
    period is closed from the values as they stood at its end."""

    __tablename__ = "indicator_history"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    numerator: Mapped[float] = mapped_column(Float)
    denominator: Mapped[float] = mapped_column(Float)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_indicator_history_as_of", "source", "office_id", "as_of"),)


class Period(Base):
    """A closed period: written once, never updated."""

    __tablename__ = "periods"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    scheme_version: Mapped[int] = mapped_column(BigInteger)
    scheme: Mapped[dict] = mapped_column(JSON)
    district: Mapped[dict] = mapped_column(JSON)
    district_index: Mapped[float | None] = mapped_column(Float, nullable=True)
    office_count: Mapped[int] = mapped_column(Integer)
    plans_opened: Mapped[int] = mapped_column(Integer)
    plans_verified: Mapped[int] = mapped_column(Integer)
    plans_not_effective: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_by: Mapped[str] = mapped_column(String(64))


class PeriodScore(Base):
    """An office's values and scores in a closed period: written once, never updated."""

    __tablename__ = "period_scores"

    period_key: Mapped[str] = mapped_column(ForeignKey("periods.key"), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    index: Mapped[float | None] = mapped_column(Float, nullable=True)
    coefficient: Mapped[float] = mapped_column(Float)
    adjusted: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank: Mapped[int] = mapped_column(Integer)
    index_rank: Mapped[int] = mapped_column(Integer)
    # Unique orders behind the ranks (ties broken by office id): keyset paging of rankings.
    position: Mapped[int] = mapped_column(Integer)
    index_position: Mapped[int] = mapped_column(Integer)
    workload: Mapped[dict] = mapped_column(JSON)
    dimensions: Mapped[list] = mapped_column(JSON)
    indicators: Mapped[list] = mapped_column(JSON)


class ImprovementPlan(Base):
    __tablename__ = "improvement_plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(32))
    period_key: Mapped[str] = mapped_column(ForeignKey("periods.key"))
    indicator_key: Mapped[str] = mapped_column(String(96))
    value: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    actions: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(32))
    due_date: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    overdue: Mapped[bool] = mapped_column(Boolean)
    completion_note: Mapped[str] = mapped_column(Text)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    verified_in: Mapped[str] = mapped_column(String(16))
    verified_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_improvement_plans_office_state", "office_id", "state"),
        Index("ix_improvement_plans_open_due", "state", "due_date"),
        Index("ux_improvement_plans_period_indicator", "period_key", "office_id", "indicator_key", unique=True),
    )


class Evidence(Base):
    """One piece of an office's work learned from an event: the evidence behind officers' grades
    and the workload behind the offices' coefficients."""

    __tablename__ = "evidence"

    # "<source>/<kind>/<reference>": a record of another service counts once, however often
    # its event is delivered.
    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    office_id: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    source: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_evidence_office_day", "office_id", "occurred_on"),)


class EvidenceOfficer(Base):
    __tablename__ = "evidence_officers"

    evidence_id: Mapped[str] = mapped_column(ForeignKey("evidence.id"), primary_key=True)
    officer_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class OfficerAssessment(Base):
    __tablename__ = "officer_assessments"

    officer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    quarter: Mapped[str] = mapped_column(String(7), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(32))
    points: Mapped[float] = mapped_column(Float)
    evidence_count: Mapped[int] = mapped_column(Integer)
    late_count: Mapped[int] = mapped_column(Integer)
    proposed_grade: Mapped[str] = mapped_column(String(16))
    proposal_explanation: Mapped[str] = mapped_column(Text)
    final_grade: Mapped[str | None] = mapped_column(String(16), nullable=True)
    final_reason: Mapped[str] = mapped_column(Text)
    graded_by: Mapped[str] = mapped_column(String(64))
    graded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rule_set: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_officer_assessments_office_quarter", "office_id", "quarter"),)
