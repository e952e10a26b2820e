"""The rule book: versioned rule sets (rules/*.yaml) of grading criteria and response plans.

Statutory figures live in those files, never here: this module only knows their shape. Every file
is checked at start, so a typo in a criterion stops the process with the file and the place named
instead of mis-grading an incident later.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from services.common.rulebook import RuleBook as CommonRuleBook
from services.common.rulebook import RuleDataError, effective_date, load_rule_sets, read_document

# Most severe first: the order in which grading looks for a level whose criteria are met.
LEVELS = ("I", "II", "III", "IV")
INCIDENT_TYPES = ("FOOD_SAFETY", "SPECIAL_EQUIPMENT", "DRUG_DEVICE_ADVERSE_EVENT", "PRODUCT_QUALITY",
                  "MASS_CONSUMER_DISPUTE")
COUNT_FIELDS = ("ill_count", "death_count", "serious_injury_count", "trapped_count", "trapped_hours",
                "evacuated_count", "affected_count", "provinces_reached", "cities_reached", "counties_reached",
                "economic_loss_yuan")
NOTIFICATION, ONSITE, MEASURE = "NOTIFICATION", "ONSITE", "MEASURE"
ACTION_KINDS = (NOTIFICATION, ONSITE, MEASURE)

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def more_severe(a: str, b: str) -> bool:
    """Whether level `a` is more severe than level `b` (I is the most severe)."""
    return LEVELS.index(a) < LEVELS.index(b)


@dataclass(frozen=True)
class Circumstance:
    """A circumstance of an incident that grading looks for (e.g. a death), and those it implies."""

    code: str
    label: str
    implies: frozenset[str]


@dataclass(frozen=True)
class Criterion:
    """One grading criterion (分级标准) of a level: thresholds of counts and circumstances, all needed."""

    id: str
    level: str
    text: str
    # (count field, minimum): every one must be reached.
    thresholds: tuple[tuple[str, float], ...]
    circumstances: frozenset[str]

    def holds(self, counts: Mapping[str, float], present: frozenset[str]) -> bool:
        """Whether the reported counts and circumstances meet this criterion."""
        return (all(counts[field] >= minimum for field, minimum in self.thresholds)
                and self.circumstances <= present)


@dataclass(frozen=True)
class PlannedAction:
    """An action of the response plan (应急预案): a notification, going on site or a measure, due by level."""

    code: str
    kind: str
    title: str
    # Level -> time after learned_at the action is due; a level absent does not require it.
    due: Mapping[str, dt.timedelta]


@dataclass(frozen=True)
class TypeRules:
    """The rules of one incident type: its legal basis, circumstances, grading criteria and plan."""

    type: str
    name: str
    basis: str
    local_practice: bool
    default_level: str
    circumstances: Mapping[str, Circumstance]
    criteria: tuple[Criterion, ...]
    plan: tuple[PlannedAction, ...]

    def with_implied(self, reported: frozenset[str]) -> frozenset[str]:
        """The reported circumstances with every one they imply."""
        present = set(reported)
        pending = list(reported)
        while pending:
            for implied in self.circumstances[pending.pop()].implies:
                if implied not in present:
                    present.add(implied)
                    pending.append(implied)
        return frozenset(present)

    def plan_for(self, level: str) -> list[PlannedAction]:
        """The actions the plan requires for an incident of `level`."""
        return [action for action in self.plan if level in action.due]


@dataclass(frozen=True)
class RuleSet:
    """One rule set of grading and response, with the drills each office owes a year."""

    id: str
    effective_from: dt.date
    name: str
    drills_per_office_per_year: int
    types: Mapping[str, TypeRules]


class NoRuleSet(LookupError):
    """No rule set applies: the day is before the first, or a stored id is no longer in the book."""


class RuleBook:
    """The rule sets of grading and response, by effective date."""

    def __init__(self, book: CommonRuleBook[RuleSet]):
        self._book = book

    @classmethod
    def load(cls, directory: Path = RULES_DIR) -> RuleBook:
        """Every rule file of `directory`; RuleDataError naming the file and the place when one is wrong."""
        return cls(load_rule_sets("emergency rules", directory, parse_rule_set))

    def in_force(self, day: dt.date) -> RuleSet:
        """The rule set whose effective date is the latest on or before `day`."""
        found = self._book.in_force(day)
        if found is None:
            raise NoRuleSet(f"no rule set in force on {day} (the first takes effect {self._book.first_effective})")
        return found

    def get(self, rule_set_id: str) -> RuleSet:
        """The rule set an incident recorded; NoRuleSet when the book no longer holds it."""
        found = self._book.get(rule_set_id)
        if found is None:
            raise NoRuleSet(f"rule set {rule_set_id} is no longer in the rule book")
        return found


# ---------------------------------------------------------------------------- parsing


def parse_rule_set(path: Path) -> RuleSet:
    """One rule file; RuleDataError naming the file and the place (e.g. types.FOOD_SAFETY.plan[0])."""
    where = _Where(str(path))
    data = where.mapping(read_document(path), {"effective_from", "name", "drills", "types"})
    effective = effective_date(data.get("effective_from"), f"{path}: top level")
    drills = where.at("drills").mapping(data.get("drills"), {"per_office_per_year", "basis"})
    per_year = drills.get("per_office_per_year")
    if isinstance(per_year, bool) or not isinstance(per_year, int) or per_year < 0:
        where.at("drills.per_office_per_year").fail("must be a whole number >= 0")
    types = where.at("types").mapping(data.get("types"), set(INCIDENT_TYPES))
    missing = [t for t in INCIDENT_TYPES if t not in types]
    if missing:
        where.at("types").fail(f"every incident type needs rules; missing {', '.join(missing)}")
    return RuleSet(id=effective.isoformat(), effective_from=effective, name=where.text(data, "name"),
                   drills_per_office_per_year=per_year,
                   types={t: _type_rules(where.at(f"types.{t}"), t, types[t]) for t in INCIDENT_TYPES})


def _type_rules(where: _Where, incident_type: str, raw: Any) -> TypeRules:
    data = where.mapping(raw, {"name", "basis", "local_practice", "default_level", "circumstances", "grading",
                               "plan"})
    if not isinstance(data.get("local_practice"), bool):
        where.at("local_practice").fail("must be true or false")
    default_level = data.get("default_level")
    if default_level not in LEVELS:
        where.at("default_level").fail(f"must be one of {', '.join(LEVELS)}")
    circumstances = _circumstances(where.at("circumstances"), data.get("circumstances") or {})
    grading = where.at("grading").mapping(data.get("grading"), set(LEVELS))
    criteria: list[Criterion] = []
    for level in LEVELS:
        entries = grading.get(level) or []
        if not isinstance(entries, list):
            where.at(f"grading.{level}").fail("must be a list of criteria")
        for index, entry in enumerate(entries):
            criteria.append(_criterion(where.at(f"grading.{level}[{index}]"), level, entry, circumstances))
    ids = [c.id for c in criteria]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        where.at("grading").fail(f"criterion ids used twice: {', '.join(duplicates)}")
    plan = data.get("plan")
    if not isinstance(plan, list) or not plan:
        where.at("plan").fail("must be a non-empty list of actions")
    actions = [_planned_action(where.at(f"plan[{index}]"), entry) for index, entry in enumerate(plan)]
    codes = [a.code for a in actions]
    if len(set(codes)) != len(codes):
        where.at("plan").fail("an action code appears twice")
    for level in LEVELS:
        if not any(a.kind == NOTIFICATION and level in a.due for a in actions):
            where.at("plan").fail(f"level {level} has no notification action (the report to the superior)")
    return TypeRules(type=incident_type, name=where.text(data, "name"), basis=where.text(data, "basis"),
                     local_practice=data["local_practice"], default_level=default_level,
                     circumstances=circumstances, criteria=tuple(criteria), plan=tuple(actions))


def _circumstances(where: _Where, raw: Any) -> dict[str, Circumstance]:
    data = where.mapping(raw, None)
    parsed: dict[str, Circumstance] = {}
    for code, entry in data.items():
        item = where.at(str(code)).mapping(entry, {"label", "implies"})
        implies = item.get("implies") or []
        if not isinstance(implies, list):
            where.at(f"{code}.implies").fail("must be a list of circumstance codes")
        parsed[str(code)] = Circumstance(str(code), where.at(str(code)).text(item, "label"),
                                         frozenset(map(str, implies)))
    for circumstance in parsed.values():
        unknown = circumstance.implies - set(parsed)
        if unknown:
            where.at(f"{circumstance.code}.implies").fail(f"unknown circumstances {', '.join(sorted(unknown))}")
    return parsed


def _criterion(where: _Where, level: str, raw: Any, circumstances: Mapping[str, Circumstance]) -> Criterion:
    data = where.mapping(raw, {"id", "text", "when", "circumstances"})
    thresholds = []
    for field, minimum in where.at("when").mapping(data.get("when") or {}, set(COUNT_FIELDS)).items():
        if isinstance(minimum, bool) or not isinstance(minimum, int | float) or not math.isfinite(minimum) \
                or minimum <= 0:
            where.at(f"when.{field}").fail("must be a number > 0")
        thresholds.append((field, float(minimum)))
    needed = data.get("circumstances") or []
    if not isinstance(needed, list):
        where.at("circumstances").fail("must be a list of circumstance codes")
    unknown = sorted(set(map(str, needed)) - set(circumstances))
    if unknown:
        where.at("circumstances").fail(f"unknown circumstances {', '.join(unknown)}")
    if not thresholds and not needed:
        where.fail("a criterion needs `when` thresholds or circumstances")
    return Criterion(id=where.text(data, "id"), level=level, text=where.text(data, "text"),
                     thresholds=tuple(thresholds), circumstances=frozenset(map(str, needed)))


def _planned_action(where: _Where, raw: Any) -> PlannedAction:
    data = where.mapping(raw, {"code", "kind", "title", "due_hours", "basis"})
    kind = str(data.get("kind", "")).upper()
    if kind not in ACTION_KINDS:
        where.at("kind").fail(f"must be one of {', '.join(k.lower() for k in ACTION_KINDS)}")
    raw_due = data.get("due_hours")
    hours = raw_due if isinstance(raw_due, Mapping) else dict.fromkeys(LEVELS, raw_due)
    due: dict[str, dt.timedelta] = {}
    for level, value in hours.items():
        if level not in LEVELS:
            where.at("due_hours").fail(f"unknown level {level!r}; levels are {', '.join(LEVELS)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            where.at(f"due_hours.{level}").fail("must be a number of hours > 0")
        due[level] = dt.timedelta(minutes=round(value * 60))
    return PlannedAction(code=where.text(data, "code"), kind=kind, title=where.text(data, "title"), due=due)


class _Where:
    """A position in a rule file, for error messages."""

    def __init__(self, path: str, place: str = ""):
        self.path = path
        self.place = place

    def at(self, place: str) -> _Where:
        return _Where(self.path, f"{self.place}.{place}" if self.place else place)

    def fail(self, problem: str) -> NoReturn:
        raise RuleDataError(f"{self.path}: {self.place or 'top level'}: {problem}")

    def mapping(self, value: Any, allowed: set[str] | None) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            self.fail("must be a mapping")
        if allowed is not None:
            unknown = sorted(str(k) for k in value if k not in allowed)
            if unknown:
                self.fail(f"unknown keys {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        return dict(value)

    def text(self, data: Mapping[str, Any], key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.at(key).fail("must be non-empty text")
        return value.strip()
