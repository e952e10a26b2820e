"""facilities' own store: rooms and checks, equipment, rapid tests, custody of confiscated goods, and
the local copies of offices, officers and cases built from other services' events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, text
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
from services.common.hash_chain import HashChainMixin
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


# ---------------------------------------------------------------- local copies (from events)


class Office(Base):
    """An office as command_center announced it (OfficeRegistered / OfficeUpdated)."""

    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(50))


class Officer(Base):
    """An officer as command_center announced it: who may sign custody steps."""

    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    office_id: Mapped[str] = mapped_column(String(32), index=True)
    group: Mapped[str] = mapped_column(String(32))
    certificate_no: Mapped[str] = mapped_column(String(32))
    certificate_expires: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Case(Base):
    """A penalty case's state as mobile_enforcement announced it (CaseFiled / CaseClosed)."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(32))
    closed: Mapped[bool] = mapped_column(Boolean)


# ---------------------------------------------------------------- rooms and 四统一


class Room(Base):
    """One of an office's standard rooms, as its most recent check found it."""

    __tablename__ = "rooms"

    # "<office_id>/<kind>": one key to page on.
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(String(48))
    present: Mapped[bool] = mapped_column(Boolean)
    area_m2: Mapped[float] = mapped_column(Float)
    requirements_met: Mapped[list] = mapped_column(JSON)
    compliant: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[list] = mapped_column(JSON)
    last_check_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    last_checked_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ux_rooms_office_kind", "office_id", "kind", unique=True),)


class RoomCheck(Base):
    __tablename__ = "room_checks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(String(48))
    present: Mapped[bool] = mapped_column(Boolean)
    area_m2: Mapped[float] = mapped_column(Float)
    requirements_met: Mapped[list] = mapped_column(JSON)
    findings: Mapped[str] = mapped_column(Text)
    photo_refs: Mapped[list] = mapped_column(JSON)
    checked_by: Mapped[str] = mapped_column(String(50))
    checked_on: Mapped[dt.date] = mapped_column(Date)
    compliant: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[list] = mapped_column(JSON)
    # The effective date of the room standard the check was judged by.
    standard_from: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_room_checks_office_kind", "office_id", "kind"),)


class FourUnifiedCheck(Base):
    __tablename__ = "four_unified_checks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    aspect: Mapped[str] = mapped_column(String(16))
    passed: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[str] = mapped_column(Text)
    photo_refs: Mapped[list] = mapped_column(JSON)
    checked_by: Mapped[str] = mapped_column(String(50))
    checked_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_four_unified_office_aspect", "office_id", "aspect", "checked_on"),)


# ---------------------------------------------------------------- equipment


class Equipment(Base):
    __tablename__ = "equipment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    category: Mapped[str] = mapped_column(String(48))
    model: Mapped[str] = mapped_column(String(100))
    serial_no: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    needs_calibration: Mapped[bool] = mapped_column(Boolean)
    last_calibrated_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    calibration_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The due date CalibrationDue was last published for: once per equipment per due date.
    due_notice_for: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ux_equipment_category_serial", "category", "serial_no", unique=True),
        Index("ix_equipment_office", "office_id", "category"),
        Index("ix_equipment_due", "calibration_due"),
    )


class Calibration(Base):
    """The history of metrology calibrations (检定) of a piece of equipment."""

    __tablename__ = "calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"), index=True)
    calibrated_on: Mapped[dt.date] = mapped_column(Date)
    certificate_no: Mapped[str] = mapped_column(String(64))
    calibration_due: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- rapid tests


class RapidTest(Base):
    __tablename__ = "rapid_tests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    origin: Mapped[str] = mapped_column(String(24))
    sample_name: Mapped[str] = mapped_column(String(100))
    vendor_name: Mapped[str] = mapped_column(String(100))
    vendor_uscc: Mapped[str] = mapped_column(String(18))
    market: Mapped[str] = mapped_column(String(100))
    stall: Mapped[str] = mapped_column(String(50))
    item: Mapped[str] = mapped_column(String(48))
    method: Mapped[str] = mapped_column(String(48))
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"))
    reading: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24))
    tested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The test's date in Asia/Shanghai: what reports and notices group by.
    tested_on: Mapped[dt.date] = mapped_column(Date)
    retest_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    retest_method: Mapped[str] = mapped_column(String(200))
    retest_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    retest_result: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Set once the sweep published RetestWindowExpired for this test.
    window_expiry_published: Mapped[bool] = mapped_column(Boolean)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    kg_destroyed: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_rapid_tests_office_day", "office_id", "tested_on"),
        # Positives still awaiting follow-up: what the re-test sweep and the indicator read.
        Index("ix_rapid_tests_open_positive", "retest_deadline",
              sqlite_where=text("state IN ('POSITIVE_PENDING', 'RETEST_REQUESTED')"),
              postgresql_where=text("state IN ('POSITIVE_PENDING', 'RETEST_REQUESTED')")),
    )


# ---------------------------------------------------------------- custody (罚没物品库)


class CustodyItem(Base):
    __tablename__ = "custody_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))
    disposal_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    disposed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The trail as this service last wrote it: VerifyCustody notices records cut off the end.
    trail_length: Mapped[int] = mapped_column(Integer)
    trail_head: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_custody_items_office_state", "office_id", "state"),)


class CustodyRecord(HashChainMixin, Base):
    """The hash-chained custody trail; the chain key is the item id."""

    __tablename__ = "custody_trail"

