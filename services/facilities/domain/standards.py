"""The bureau's standards as versioned data: rooms (一厅六室三库), equipment configuration and
calibration, rapid-test items and methods.

Each file under rules/ holds versions with an effective date. The version in force on a given
day applies, so a changed standard never re-judges what was done under the old one. A file that
cannot be read stops the service at start with the file and the entry named.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.rulebook import RuleDataError, VersionedRules, number, required

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


# ---------------------------------------------------------------- rooms


@dataclass(frozen=True)
class Requirement:
    """One requirement a room must meet (e.g. fire protection), by code."""

    code: str
    text: str


@dataclass(frozen=True)
class RoomStandard:
    """The standard of one kind of room of 一厅六室三库: its least area and its requirements."""

    kind: str
    name: str
    min_area_m2: float
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class RoomRules:
    """Every kind of room an office must have, by kind."""

    rooms: dict[str, RoomStandard]


def parse_rooms(entry: dict[str, Any], where: str) -> RoomRules:
    """One version of rooms.yaml; RuleDataError naming the entry when it is wrong."""
    rooms: dict[str, RoomStandard] = {}
    for index, room in enumerate(required(entry, "rooms", list, where)):
        at = f"{where}.rooms[{index}]"
        if not isinstance(room, dict):
            raise RuleDataError(f"{at}: expected a mapping")
        kind = required(room, "kind", str, at)
        if kind in rooms:
            raise RuleDataError(f"{at}.kind: {kind} appears twice")
        requirements = []
        for position, item in enumerate(required(room, "requirements", list, at)):
            if not isinstance(item, dict):
                raise RuleDataError(f"{at}.requirements[{position}]: expected a mapping")
            requirements.append(Requirement(required(item, "code", str, f"{at}.requirements[{position}]"),
                                            required(item, "text", str, f"{at}.requirements[{position}]")))
        rooms[kind] = RoomStandard(kind, required(room, "name", str, at), number(room, "min_area_m2", at),
                                   tuple(requirements))
    return RoomRules(rooms)


# ---------------------------------------------------------------- equipment


@dataclass(frozen=True)
class EquipmentCategory:
    """A category of equipment: how many an office needs and how often it is calibrated (检定)."""

    code: str
    name: str
    per_office: int
    # None: not subject to metrology calibration.
    calibration_months: int | None
    used_for_tests: bool


@dataclass(frozen=True)
class EquipmentRules:
    """The equipment configuration standard and how early a calibration is announced."""

    calibration_notice_days: int
    categories: dict[str, EquipmentCategory]


def parse_equipment(entry: dict[str, Any], where: str) -> EquipmentRules:
    """One version of equipment.yaml; RuleDataError naming the entry when it is wrong."""
    categories: dict[str, EquipmentCategory] = {}
    for index, item in enumerate(required(entry, "categories", list, where)):
        at = f"{where}.categories[{index}]"
        if not isinstance(item, dict):
            raise RuleDataError(f"{at}: expected a mapping")
        code = required(item, "code", str, at)
        months = item.get("calibration_months")
        if months is not None and (isinstance(months, bool) or not isinstance(months, int) or months <= 0):
            raise RuleDataError(f"{at}.calibration_months: a positive number of months, or null")
        per_office = required(item, "per_office", int, at)
        if per_office < 0:
            raise RuleDataError(f"{at}.per_office: must not be negative")
        categories[code] = EquipmentCategory(code, required(item, "name", str, at), per_office, months,
                                             required(item, "used_for_tests", bool, at))
    notice = required(entry, "calibration_notice_days", int, where)
    return EquipmentRules(notice, categories)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; the month's last day when it has no such day (Jan 31 -> Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# ---------------------------------------------------------------- rapid tests

AT_OR_ABOVE, ABOVE = "at_or_above", "above"


@dataclass(frozen=True)
class Method:
    """A rapid-test method (快检方法): its reading's range, unit and the threshold of a positive."""

    code: str
    name: str
    unit: str
    minimum: float
    maximum: float
    threshold: float
    positive: str  # AT_OR_ABOVE or ABOVE the threshold

    def is_positive(self, reading: float) -> bool:
        """Whether a reading is a positive result by this method's threshold."""
        return reading >= self.threshold if self.positive == AT_OR_ABOVE else reading > self.threshold

    def describe_threshold(self) -> str:
        """The threshold as an inspector reads it: the sign, the figure and the unit."""
        sign = "≥" if self.positive == AT_OR_ABOVE else ">"
        return f"{sign} {self.threshold:g} {self.unit}"


@dataclass(frozen=True)
class TestItem:
    """A rapid-test item (e.g. pesticide residue) and the methods it may be tested by."""

    code: str
    name: str
    methods: dict[str, Method]


@dataclass(frozen=True)
class RapidTestRules:
    """The rapid-test standard: items, the retest window after a positive and the weekly target."""

    retest_window_hours: float
    weekly_target: int
    items: dict[str, TestItem]


def parse_rapid_tests(entry: dict[str, Any], where: str) -> RapidTestRules:
    """One version of rapid_tests.yaml; RuleDataError naming the entry when it is wrong."""
    items: dict[str, TestItem] = {}
    for code, item in required(entry, "items", dict, where).items():
        at = f"{where}.items.{code}"
        if not isinstance(item, dict):
            raise RuleDataError(f"{at}: expected a mapping")
        methods: dict[str, Method] = {}
        for method_code, method in required(item, "methods", dict, at).items():
            place = f"{at}.methods.{method_code}"
            if not isinstance(method, dict):
                raise RuleDataError(f"{place}: expected a mapping")
            positive = required(method, "positive", str, place)
            if positive not in (AT_OR_ABOVE, ABOVE):
                raise RuleDataError(f"{place}.positive: {AT_OR_ABOVE} or {ABOVE}")
            parsed = Method(method_code, required(method, "name", str, place), required(method, "unit", str, place),
                            number(method, "min", place), number(method, "max", place),
                            number(method, "threshold", place), positive)
            if not parsed.minimum <= parsed.threshold <= parsed.maximum or parsed.minimum == parsed.maximum:
                raise RuleDataError(f"{place}: needs min < max and the threshold within them")
            methods[method_code] = parsed
        if not methods:
            raise RuleDataError(f"{at}.methods: at least one method")
        items[code] = TestItem(code, required(item, "name", str, at), methods)
    window = number(entry, "retest_window_hours", where)
    target = required(entry, "weekly_target", int, where)
    if window <= 0 or target <= 0:
        raise RuleDataError(f"{where}: retest_window_hours and weekly_target must be > 0")
    return RapidTestRules(window, target, items)


# ---------------------------------------------------------------- all of them


@dataclass(frozen=True)
class Standards:
    """The bureau's three standards, each by effective date."""

    rooms: VersionedRules[RoomRules]
    equipment: VersionedRules[EquipmentRules]
    rapid_tests: VersionedRules[RapidTestRules]

    @classmethod
    def load(cls, directory: Path = RULES_DIR) -> Standards:
        """Reads rooms.yaml, equipment.yaml and rapid_tests.yaml of `directory`; stops at the first bad entry."""
        return cls(rooms=VersionedRules.load(directory / "rooms.yaml", parse_rooms),
                   equipment=VersionedRules.load(directory / "equipment.yaml", parse_equipment),
                   rapid_tests=VersionedRules.load(directory / "rapid_tests.yaml", parse_rapid_tests))
