"""The bureau's standards as versioned data: rooms (一厅六室三库), equipment configuration and
calibration, rapid-test items and methods.

Each file under rules/ holds versions with an effective date. The version in force on a given
day applies, so a changed standard never re-judges what was done under the old one. A file that
cannot be read stops the service at start with the file and the entry named.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

from services.common.rulebook import RuleBook as CommonRuleBook
from services.common.rulebook import RuleDataError

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

T = TypeVar("T")


class StandardsError(RuleDataError):
    pass


class RuleBook(Generic[T]):
    """Versions of one standard by effective date; `in_force(day)` is the one that applies."""

    def __init__(self, name: str, versions: list[tuple[dt.date, T]]):
        self.name = name
        self._book = CommonRuleBook(name, versions, effective_from=lambda pair: pair[0])

    @classmethod
    def load(cls, path: Path, parse: Callable[[dict[str, Any], str], T]) -> RuleBook[T]:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise StandardsError(f"{path.name}: cannot read: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("versions"), list):
            raise StandardsError(f"{path.name}: expected a mapping with a list of versions")
        versions = []
        seen: set[dt.date] = set()
        for index, entry in enumerate(document["versions"]):
            where = f"{path.name}: versions[{index}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("effective_from"), dt.date):
                raise StandardsError(f"{where}: effective_from must be a date (YYYY-MM-DD)")
            if entry["effective_from"] in seen:
                raise StandardsError(f"{where}: a second version effective from {entry['effective_from']}")
            seen.add(entry["effective_from"])
            versions.append((entry["effective_from"], parse(entry, where)))
        return cls(path.name, versions)

    def in_force(self, day: dt.date) -> T:
        return self._version(day)[1]

    def effective_from(self, day: dt.date) -> dt.date:
        """When the version that applies on `day` took effect."""
        return self._version(day)[0]

    def _version(self, day: dt.date) -> tuple[dt.date, T]:
        # Before the first version the earliest one applies: records older than the data are
        # judged by the oldest standard the bureau wrote down.
        return self._book.in_force(day) or self._book.earliest


def _require(entry: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str):
    value = entry.get(key)
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise StandardsError(f"{where}.{key}: missing or of the wrong type")
    return value


def _number(entry: dict[str, Any], key: str, where: str) -> float:
    value = float(_require(entry, key, (int, float), where))
    if not math.isfinite(value) or value < 0:
        raise StandardsError(f"{where}.{key}: must be a finite number >= 0")
    return value


# ---------------------------------------------------------------- rooms


@dataclass(frozen=True)
class Requirement:
    code: str
    text: str


@dataclass(frozen=True)
class RoomStandard:
    kind: str
    name: str
    min_area_m2: float
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class RoomRules:
    rooms: dict[str, RoomStandard]


def parse_rooms(entry: dict[str, Any], where: str) -> RoomRules:
    rooms: dict[str, RoomStandard] = {}
    for index, room in enumerate(_require(entry, "rooms", list, where)):
        at = f"{where}.rooms[{index}]"
        if not isinstance(room, dict):
            raise StandardsError(f"{at}: expected a mapping")
        kind = _require(room, "kind", str, at)
        if kind in rooms:
            raise StandardsError(f"{at}.kind: {kind} appears twice")
        requirements = []
        for position, item in enumerate(_require(room, "requirements", list, at)):
            if not isinstance(item, dict):
                raise StandardsError(f"{at}.requirements[{position}]: expected a mapping")
            requirements.append(Requirement(_require(item, "code", str, f"{at}.requirements[{position}]"),
                                            _require(item, "text", str, f"{at}.requirements[{position}]")))
        rooms[kind] = RoomStandard(kind, _require(room, "name", str, at), _number(room, "min_area_m2", at),
                                   tuple(requirements))
    return RoomRules(rooms)


# ---------------------------------------------------------------- equipment


@dataclass(frozen=True)
class EquipmentCategory:
    code: str
    name: str
    per_office: int
    # None: not subject to metrology calibration.
    calibration_months: int | None
    used_for_tests: bool


@dataclass(frozen=True)
class EquipmentRules:
    calibration_notice_days: int
    categories: dict[str, EquipmentCategory]


def parse_equipment(entry: dict[str, Any], where: str) -> EquipmentRules:
    categories: dict[str, EquipmentCategory] = {}
    for index, item in enumerate(_require(entry, "categories", list, where)):
        at = f"{where}.categories[{index}]"
        if not isinstance(item, dict):
            raise StandardsError(f"{at}: expected a mapping")
        code = _require(item, "code", str, at)
        months = item.get("calibration_months")
        if months is not None and (isinstance(months, bool) or not isinstance(months, int) or months <= 0):
            raise StandardsError(f"{at}.calibration_months: a positive number of months, or null")
        per_office = _require(item, "per_office", int, at)
        if per_office < 0:
            raise StandardsError(f"{at}.per_office: must not be negative")
        categories[code] = EquipmentCategory(code, _require(item, "name", str, at), per_office, months,
                                             _require(item, "used_for_tests", bool, at))
    notice = _require(entry, "calibration_notice_days", int, where)
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
    code: str
    name: str
    unit: str
    minimum: float
    maximum: float
    threshold: float
    positive: str  # AT_OR_ABOVE or ABOVE the threshold

    def is_positive(self, reading: float) -> bool:
        return reading >= self.threshold if self.positive == AT_OR_ABOVE else reading > self.threshold

    def describe_threshold(self) -> str:
        sign = "≥" if self.positive == AT_OR_ABOVE else ">"
        return f"{sign} {self.threshold:g} {self.unit}"


@dataclass(frozen=True)
class TestItem:
    code: str
    name: str
    methods: dict[str, Method]


@dataclass(frozen=True)
class RapidTestRules:
    retest_window_hours: float
    weekly_target: int
    items: dict[str, TestItem]


def parse_rapid_tests(entry: dict[str, Any], where: str) -> RapidTestRules:
    items: dict[str, TestItem] = {}
    for code, item in _require(entry, "items", dict, where).items():
        at = f"{where}.items.{code}"
        if not isinstance(item, dict):
            raise StandardsError(f"{at}: expected a mapping")
        methods: dict[str, Method] = {}
        for method_code, method in _require(item, "methods", dict, at).items():
            place = f"{at}.methods.{method_code}"
            if not isinstance(method, dict):
                raise StandardsError(f"{place}: expected a mapping")
            positive = _require(method, "positive", str, place)
            if positive not in (AT_OR_ABOVE, ABOVE):
                raise StandardsError(f"{place}.positive: {AT_OR_ABOVE} or {ABOVE}")
            parsed = Method(method_code, _require(method, "name", str, place), _require(method, "unit", str, place),
                            _number(method, "min", place), _number(method, "max", place),
                            _number(method, "threshold", place), positive)
            if not parsed.minimum <= parsed.threshold <= parsed.maximum or parsed.minimum == parsed.maximum:
                raise StandardsError(f"{place}: needs min < max and the threshold within them")
            methods[method_code] = parsed
        if not methods:
            raise StandardsError(f"{at}.methods: at least one method")
        items[code] = TestItem(code, _require(item, "name", str, at), methods)
    window = _number(entry, "retest_window_hours", where)
    target = _require(entry, "weekly_target", int, where)
    if window <= 0 or target <= 0:
        raise StandardsError(f"{where}: retest_window_hours and weekly_target must be > 0")
    return RapidTestRules(window, target, items)


# ---------------------------------------------------------------- all of them


@dataclass(frozen=True)
class Standards:
    rooms: RuleBook[RoomRules]
    equipment: RuleBook[EquipmentRules]
    rapid_tests: RuleBook[RapidTestRules]

    @classmethod
    def load(cls, directory: Path = RULES_DIR) -> Standards:
        return cls(rooms=RuleBook.load(directory / "rooms.yaml", parse_rooms),
                   equipment=RuleBook.load(directory / "equipment.yaml", parse_equipment),
                   rapid_tests=RuleBook.load(directory / "rapid_tests.yaml", parse_rapid_tests))
