"""command_center's own store: offices, officers, the duty list and supervision tasks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, false, text
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
    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(BigInteger)


class RegistryGeneration(Base):
    """One row, bumped by every change to offices or officers: a cached office view is valid while
    the generation it was built at is current, in this process or any replica."""

    __tablename__ = "registry_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class OfficeStreet(Base):
    """A town or subdistrict and the one office whose jurisdiction covers it."""

    __tablename__ = "office_streets"

    street: Mapped[str] = mapped_column(String(50), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    group: Mapped[str] = mapped_column(String(32))
    certificate_no: Mapped[str] = mapped_column(String(32))
    certificate_expires: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_officers_office_group", "office_id", "group"),)


class DutyItem(Base):
    __tablename__ = "duty_items"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50))
    legal_basis: Mapped[str] = mapped_column(String(500))
    responsible_level: Mapped[str] = mapped_column(String(16))
    group: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The scope the item applies under (rules/duty_scopes.yaml); "" for every office.
    applies_to: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # Stands for an item of the district's list not imported yet (the shipped sample's filler).
    placeholder: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class OfficeResponsibility(Base):
    """A duty scope an office declares (its area has a wet market, an industrial zone...)."""

    __tablename__ = "office_responsibilities"

    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64))
    source_ref: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[dt.date] = mapped_column(Date)
    # A due date counted in working days (a task an event raised): the day the count started and the
    # policy's working days then, so that it is counted again the same way when the calendar changes;
    # provisional while the count crosses a year without a published holiday schedule.
    due_date_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    due_counted_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due_working_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    state: Mapped[str] = mapped_column(String(16))
    overdue: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Who completed it (the caller's subject: an officer id for officers' tokens).
    completed_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_tasks_office_state", "office_id", "state"),
        Index("ix_tasks_open_due", "state", "due_date"),
        # A source record (an overdue complaint, an incident) raises at most one task.
        Index("ux_tasks_source", "source", "source_ref", unique=True,
              sqlite_where=text("source_ref != ''"), postgresql_where=text("source_ref != ''")),
    )


class TaskProgress(Base):
    __tablename__ = "task_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reported_by: Mapped[str] = mapped_column(String(64))
