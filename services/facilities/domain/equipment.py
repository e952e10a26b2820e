"""Equipment: the standard configuration per office, the inventory with serial numbers and status,
and metrology calibration (计量检定) with its due dates.

Equipment of a calibrated category is usable on its due date and not after; a test on equipment
out of calibration is refused. The sweep publishes CalibrationDue once per equipment and due date,
the configured number of days ahead.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_read, require_write
from services.common.context import Caller
from services.common.contracts import date_of
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Violations,
)
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.facilities.domain import fields
from services.facilities.domain.standards import EquipmentCategory, EquipmentRules, add_months
from services.facilities.domain.vocabulary import IN_SERVICE, RETIRED, STATUSES
from services.facilities.domain.workspace import Workspace, get_office
from services.facilities.models import Calibration, Equipment, RequestKey
from supervision.facilities.v1 import events_pb2

SERIAL_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./_-]{0,63}$")
MAX_MODEL = 100
MAX_CERTIFICATE = 64


@dataclass
class EquipmentInput:
    """A device an office registers: its category, model and serial number, and its last calibration (计量检定)."""

    office_id: str
    category: str
    model: str
    serial_no: str
    last_calibrated_on: dt.date | None
    calibration_due: dt.date | None


@dataclass(frozen=True)
class EquipmentView:
    """A device as the equipment standard in force today names and judges it."""

    equipment: Equipment
    category_name: str
    in_calibration: bool


@dataclass(frozen=True)
class CategoryFigures:
    """One category of the standard configuration (装备配置) against what an office holds and can use."""

    category: EquipmentCategory
    held: int
    usable: int

    @property
    def complete(self) -> bool:
        """The office can use at least as many of the category as the standard asks for."""
        return self.usable >= self.category.per_office


def in_calibration(equipment: Equipment, today: dt.date) -> bool:
    """The device may be used today: its category needs no calibration, or it is not past its due date."""
    return not equipment.needs_calibration or (equipment.calibration_due is not None
                                                and equipment.calibration_due >= today)


def category_name(rules: EquipmentRules, code: str) -> str:
    """The category's name in the standard; its code when the standard no longer lists it."""
    category = rules.categories.get(code)
    return category.name if category else code


def usable_for_test(session: Session, equipment_id: str, office_id: str, rules: EquipmentRules,
                    today: dt.date) -> Equipment:
    """The device a rapid test is read on: the office's own, of a test category, in service, calibrated."""
    equipment = session.get(Equipment, equipment_id) if equipment_id else None
    if equipment is None:
        raise NotFound(f"equipment {equipment_id!r} not found")
    category = rules.categories.get(equipment.category)
    if category is None or not category.used_for_tests:
        raise InvalidArgument.of("equipment_id", f"{equipment_id} is a {category_name(rules, equipment.category)}, "
                                                 "not a rapid-test device")
    if equipment.office_id != office_id:
        problem = f"{equipment_id} belongs to office {equipment.office_id}"
    elif equipment.status != IN_SERVICE:
        problem = f"{equipment_id} is {equipment.status}"
    elif not in_calibration(equipment, today):
        problem = f"{equipment_id} is out of calibration: it was due on {equipment.calibration_due}"
    else:
        return equipment
    raise FailedPrecondition(f"equipment cannot be used for a test: {problem}",
                             [FieldViolation("equipment_id", problem)])


class Inventory:
    """The offices' equipment: registration, calibration, status, the configuration check and the due-date sweep."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def register(self, caller: Caller, request_id: str, data: EquipmentInput) -> EquipmentView:
        """Registers a device of the office (once per request id); a serial number is registered once per category."""
        require_write(caller, data.office_id or None)
        today = self.workspace.today()
        rules = self.workspace.standards.equipment.in_force(today)
        due = self._validate(data, rules, today)

        def create(session: Session) -> str:
            get_office(session, data.office_id)
            taken = session.scalar(select(Equipment.id).where(Equipment.category == data.category,
                                                              Equipment.serial_no == data.serial_no))
            if taken is not None:
                raise AlreadyExists(f"{data.category} with serial number {data.serial_no} is registered as {taken}")
            equipment = Equipment(id=str(uuid.uuid4()), office_id=data.office_id, category=data.category,
                                  model=data.model.strip(), serial_no=data.serial_no, status=IN_SERVICE,
                                  needs_calibration=due is not None, last_calibrated_on=data.last_calibrated_on,
                                  calibration_due=due, created_at=self.workspace.now(), version=1)
            session.add(equipment)
            self.workspace.touched(session, [data.office_id])
            return equipment.id

        return self._view(run_once(self.workspace.store, RequestKey, request_id, "RegisterEquipment", create, _get))

    @staticmethod
    def _validate(data: EquipmentInput, rules: EquipmentRules, today: dt.date) -> dt.date | None:
        """Checks the input; returns the calibration due date (None for a category without calibration)."""
        violations = Violations()
        category = rules.categories.get(data.category)
        if category is None:
            violations.add("equipment.category", f"unknown category {data.category!r}; "
                                                 f"the configuration lists: {', '.join(rules.categories)}")
        if not data.office_id:
            violations.add("equipment.office_id", "must not be empty")
        fields.check_text(violations, "equipment.model", data.model, MAX_MODEL, required=True)
        if not SERIAL_NO.match(data.serial_no):
            violations.add("equipment.serial_no", "1-64 letters, digits or . / _ -, starting with a letter or digit")
        due = data.calibration_due
        months = category.calibration_months if category is not None else None
        if category is not None and months is None:
            if data.last_calibrated_on or data.calibration_due:
                violations.add("equipment.calibration_due", f"{category.name} is not subject to calibration")
        elif category is not None and months is not None:
            if data.last_calibrated_on is None:
                violations.add("equipment.last_calibrated_on", f"{category.name} needs its last calibration date")
            else:
                fields.check_day_not_ahead(violations, "equipment.last_calibrated_on", data.last_calibrated_on, today)
                due = due or add_months(data.last_calibrated_on, months)
                if due <= data.last_calibrated_on:
                    violations.add("equipment.calibration_due", "must be after the last calibration")
        violations.raise_if_any("invalid equipment")
        return due

    def record_calibration(self, caller: Caller, equipment_id: str, calibrated_on: dt.date | None,
                           certificate_no: str, calibration_due: dt.date | None) -> EquipmentView:
        """Records a calibration (计量检定) with its certificate; the device is due again at the given date or the
        standard's interval."""
        today = self.workspace.today()
        with self.workspace.store.transaction() as session:
            equipment = _get(session, equipment_id)
            require_write(caller, equipment.office_id)
            violations = Violations()
            if calibrated_on is None:
                violations.add("calibrated_on", "required")
            else:
                fields.check_day_not_ahead(violations, "calibrated_on", calibrated_on, today)
                if equipment.last_calibrated_on and calibrated_on < equipment.last_calibrated_on:
                    violations.add("calibrated_on", f"before the last calibration on {equipment.last_calibrated_on}")
            fields.check_text(violations, "certificate_no", certificate_no, MAX_CERTIFICATE, required=True)
            if calibrated_on and calibration_due and calibration_due <= calibrated_on:
                violations.add("calibration_due", "must be after the calibration")
            violations.raise_if_any("invalid calibration")
            assert calibrated_on is not None  # refused above when missing
            if not equipment.needs_calibration:
                raise FailedPrecondition(f"equipment {equipment.id} ({equipment.category}) is not subject to "
                                         "calibration")
            if equipment.status == RETIRED:
                raise FailedPrecondition(f"equipment {equipment.id} is retired")
            due = calibration_due or self._default_due(equipment.category, calibrated_on)
            session.add(Calibration(equipment_id=equipment.id, calibrated_on=calibrated_on,
                                    certificate_no=certificate_no.strip(), calibration_due=due,
                                    recorded_at=self.workspace.now()))
            equipment.last_calibrated_on, equipment.calibration_due = calibrated_on, due
            equipment.version += 1
            self.workspace.touched(session, [equipment.office_id])
            return self._view(equipment)

    def _default_due(self, category_code: str, calibrated_on: dt.date) -> dt.date:
        """The calibration interval of the standard in force on the day of the calibration."""
        category = self.workspace.standards.equipment.in_force(calibrated_on).categories.get(category_code)
        if category is None or category.calibration_months is None:
            raise InvalidArgument.of("calibration_due", f"required: the standard in force on {calibrated_on} "
                                                        f"gives no calibration interval for {category_code}")
        return add_months(calibrated_on, category.calibration_months)

    def set_status(self, caller: Caller, equipment_id: str, status: str) -> EquipmentView:
        """Puts a device in service, under repair or retired; a retired device stays retired."""
        if status not in STATUSES:
            raise InvalidArgument.of("status", f"one of {', '.join(STATUSES)}")
        with self.workspace.store.transaction() as session:
            equipment = _get(session, equipment_id)
            require_write(caller, equipment.office_id)
            if equipment.status == RETIRED and status != RETIRED:
                raise FailedPrecondition(f"equipment {equipment.id} is retired; register a replacement instead")
            if equipment.status != status:
                equipment.status = status
                equipment.version += 1
                self.workspace.touched(session, [equipment.office_id])
            return self._view(equipment)

    def get(self, caller: Caller, equipment_id: str) -> EquipmentView:
        """One device, for a caller who may read its office."""
        with self.workspace.store.read() as session:
            equipment = _get(session, equipment_id)
        require_read(caller, equipment.office_id)
        return self._view(equipment)

    def list(self, caller: Caller, page: Page, office_id: str | None, category: str | None, status: str | None,
             calibrated: bool | None) -> ListResult[EquipmentView]:
        """A page of the devices in the caller's scope, by category, status and whether they are in calibration."""
        scope = office_scope(caller, office_id)
        query = select(Equipment).where(Equipment.id > page.after).order_by(Equipment.id).limit(page.size)
        if scope:
            query = query.where(Equipment.office_id == scope)
        if category:
            query = query.where(Equipment.category == category)
        if status:
            query = query.where(Equipment.status == status)
        if calibrated is not None:
            valid = or_(Equipment.needs_calibration.is_(False), Equipment.calibration_due >= self.workspace.today())
            query = query.where(valid if calibrated else ~valid)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult([self._view(row) for row in rows], next_token(rows[-1].id if rows else None, len(rows),
                                                                        page))

    def _view(self, equipment: Equipment) -> EquipmentView:
        today = self.workspace.today()
        return EquipmentView(equipment, category_name(self.workspace.standards.equipment.in_force(today),
                                                      equipment.category), in_calibration(equipment, today))

    def configuration(self, caller: Caller, office_id: str) -> Sequence[CategoryFigures]:
        """The office's equipment against the standard configuration in force today."""
        today = self.workspace.today()
        rules = self.workspace.standards.equipment.in_force(today)
        with self.workspace.store.read() as session:
            get_office(session, office_id)
            require_read(caller, office_id)
            held: dict[str, int] = {}
            usable: dict[str, int] = {}
            for equipment in session.scalars(select(Equipment).where(Equipment.office_id == office_id,
                                                                     Equipment.status != RETIRED)):
                held[equipment.category] = held.get(equipment.category, 0) + 1
                if equipment.status == IN_SERVICE and in_calibration(equipment, today):
                    usable[equipment.category] = usable.get(equipment.category, 0) + 1
        return [CategoryFigures(category, held.get(code, 0), usable.get(code, 0))
                for code, category in rules.categories.items()]

    def sweep_calibration(self) -> int:
        """Publishes CalibrationDue for equipment whose calibration falls due within the notice
        period (or has passed), once per due date, and has every office's indicators refreshed:
        time alone moves the calibration and weekly-test figures. Returns how many notices went out."""
        today = self.workspace.today()
        rules = self.workspace.standards.equipment.in_force(today)
        horizon = today + dt.timedelta(days=rules.calibration_notice_days)
        with self.workspace.store.transaction() as session:
            due = list(session.scalars(
                select(Equipment).where(Equipment.needs_calibration.is_(True), Equipment.status != RETIRED,
                                        Equipment.calibration_due <= horizon,
                                        or_(Equipment.due_notice_for.is_(None),
                                            Equipment.due_notice_for != Equipment.calibration_due))
                .order_by(Equipment.calibration_due, Equipment.id)))
            for equipment in due:
                due_on = equipment.calibration_due
                assert due_on is not None  # the query selects only devices with a due date
                equipment.due_notice_for = due_on
                self.workspace.events.record(
                    session, events_pb2.CalibrationDue(
                        equipment_id=equipment.id, version=equipment.version, office_id=equipment.office_id,
                        category=equipment.category, category_name=category_name(rules, equipment.category),
                        serial_no=equipment.serial_no, calibration_due=date_of(due_on), overdue=due_on < today),
                    aggregate_type="equipment", aggregate_id=equipment.id, version=equipment.version,
                    office_id=equipment.office_id)
            self.workspace.touched(session, None)
        return len(due)


def _get(session: Session, equipment_id: str) -> Equipment:
    equipment = session.get(Equipment, equipment_id) if equipment_id else None
    if equipment is None:
        raise NotFound(f"equipment {equipment_id!r} not found")
    return equipment
