"""emergency's own store: incidents, their actions and timeline, drills, and a local copy of
command_center's offices and officers (for dispatch)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, false
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
    """command_center's office as its events last described it."""

    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(50))
    streets: Mapped[list] = mapped_column(JSON)


class Officer(Base):
    """command_center's officer as its events last described it."""

    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    office_id: Mapped[str] = mapped_column(String(32), index=True)
    group: Mapped[str] = mapped_column(String(32))
    certificate_no: Mapped[str] = mapped_column(String(32))
    certificate_expires: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    entity_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    learned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    ill_count: Mapped[int] = mapped_column(Integer)
    death_count: Mapped[int] = mapped_column(Integer)
    serious_injury_count: Mapped[int] = mapped_column(Integer)
    trapped_count: Mapped[int] = mapped_column(Integer)
    trapped_hours: Mapped[float] = mapped_column(Float)
    evacuated_count: Mapped[int] = mapped_column(Integer)
    affected_count: Mapped[int] = mapped_column(Integer)
    provinces_reached: Mapped[int] = mapped_column(Integer)
    cities_reached: Mapped[int] = mapped_column(Integer)
    counties_reached: Mapped[int] = mapped_column(Integer)
    economic_loss_yuan: Mapped[int] = mapped_column(BigInteger)
    circumstances: Mapped[list] = mapped_column(JSON)

    # The rule set in force when the office learned of it (its effective date), used for life.
    rule_set: Mapped[str] = mapped_column(String(10))
    # "" below level IV: the outcome then says which (BELOW_LEVEL_IV, NOT_AN_ACCIDENT), else GRADED.
    level: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[str] = mapped_column(String(16), default="GRADED", server_default="GRADED")
    # The rule set's handling below level IV (its id); empty for a graded incident.
    handling: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The accident was first reported later than the rule set gives the unit (special equipment).
    unit_report_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    criteria_level: Mapped[str] = mapped_column(String(3))
    escalated_level: Mapped[str | None] = mapped_column(String(3), nullable=True)
    escalation_reason: Mapped[str] = mapped_column(Text)
    # [{"level", "criterion", "text"}]: why the incident has its level.
    grading_reasons: Mapped[list] = mapped_column(JSON)

    state: Mapped[str] = mapped_column(String(16))
    review_cause: Mapped[str] = mapped_column(Text)
    review_measures: Mapped[str] = mapped_column(Text)
    review_lessons: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_incidents_office_state", "office_id", "state"),)


class IncidentAction(Base):
    """One required action of the response plan, instantiated on an incident."""

    __tablename__ = "incident_actions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Indexed by ux_incident_actions_code, which starts with it.
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    required_by: Mapped[str] = mapped_column(String(3))
    position: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(8))
    overdue: Mapped[bool] = mapped_column(Boolean)
    assignee_id: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    done_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ux_incident_actions_code", "incident_id", "code", unique=True),
        Index("ix_incident_actions_open_due", "state", "overdue", "due_at"),
    )


class TimelineEntry(Base):
    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class Drill(Base):
    __tablename__ = "drills"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    held_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    incident_type: Mapped[str] = mapped_column(String(32))
    participant_count: Mapped[int] = mapped_column(Integer)
    scenario: Mapped[str] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_drills_office_held", "office_id", "held_on"),)
