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
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, NoReturn

from services.common.rulebook import RuleBook as CommonRuleBook
from services.common.rulebook import RuleDataError, effective_date, load_rule_sets, read_document

# Most severe first: the order in which grading looks for a level whose criteria are met.
LEVELS = ("I", "II", "III", "IV")
# The "level" of an incident that meets no criterion of a type with its own outcome below level IV:
# it is graded at no level at all, and ranks below IV.
BELOW_IV = ""
# What grading concluded: a level I-IV, or one of the outcomes below level IV a rule set may name.
GRADED = "GRADED"
BELOW_IV_OUTCOMES = ("BELOW_LEVEL_IV", "NOT_AN_ACCIDENT")
INCIDENT_TYPES = ("FOOD_SAFETY", "SPECIAL_EQUIPMENT", "DRUG_DEVICE_ADVERSE_EVENT", "PRODUCT_QUALITY",
                  "MASS_CONSUMER_DISPUTE")
COUNT_FIELDS = ("ill_count", "death_count", "serious_injury_count", "trapped_count", "trapped_hours",
                "evacuated_count", "affected_count", "provinces_reached", "cities_reached", "counties_reached",
                "economic_loss_yuan")
NOTIFICATION, ONSITE, MEASURE = "NOTIFICATION", "ONSITE", "MEASURE"
ACTION_KINDS = (NOTIFICATION, ONSITE, MEASURE)

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def more_severe(a: str, b: str) -> bool:
    """Whether level `a` is more severe than level `b` (I is the most severe; below IV the least)."""
    return _rank(a) < _rank(b)


def _rank(level: str) -> int:
    return len(LEVELS) if level == BELOW_IV else LEVELS.index(level)


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
class Handling:
    """How an incident below level IV is handled when the circumstances it names were all reported."""

    id: str
    text: str
    circumstances: frozenset[str]
    plan: tuple[PlannedAction, ...]


@dataclass(frozen=True)
class BelowLevelIV:
    """A type's own outcome when no criterion is met: not an incident of any level, with its handlings."""

    outcome: str
    label: str
    basis: str
    # Looked at in order: the first whose circumstances were all reported applies; the last names none.
    handlings: tuple[Handling, ...]

    def handling_for(self, present: frozenset[str]) -> Handling:
        """The handling the reported circumstances call for."""
        return next(h for h in self.handlings if h.circumstances <= present)


@dataclass(frozen=True)
class TypeRules:
    """The rules of one incident type: its legal basis, circumstances, grading criteria and plan."""

    type: str
    name: str
    basis: str
    local_practice: bool
    # The level given when no criterion is met, for a type without its own outcome below level IV.
    default_level: str | None
    circumstances: Mapping[str, Circumstance]
    criteria: tuple[Criterion, ...]
    plan: tuple[PlannedAction, ...]
    below_level_iv: BelowLevelIV | None = None
    # How soon after an accident the unit must report it to the county-level regulator, if the
    # rule set says (special equipment); an incident learned later records the unit's late report.
    unit_report_within: dt.timedelta | None = None
    # Count field -> the count fields it lifts to at least its own value (the rule set's `reach`).
    reach: Mapping[str, tuple[str, ...]] = dataclass_field(default_factory=dict)

    def reached(self, counts: Mapping[str, float]) -> dict[str, float]:
        """The counts with reach made hierarchical: 2 provinces reached are also 2 cities and 2 counties."""
        lifted = dict(counts)
        # The rule set refuses cycles, so as many passes as there are links settle every chain.
        for _ in range(len(self.reach) + 1):
            for source, implied in self.reach.items():
                for target in implied:
                    lifted[target] = max(lifted[target], lifted[source])
        return lifted

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

    def plan_for(self, level: str, present: frozenset[str] = frozenset()) -> list[PlannedAction]:
        """The actions the plan requires for an incident of `level` (below IV: of the handling `present` calls for)."""
        if level == BELOW_IV:
            return list(self.below_level_iv.handling_for(present).plan) if self.below_level_iv else []
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
    data = where.mapping(read_document(path), {"effective_from", "name", "drills", "types", "reach"})
    effective = effective_date(data.get("effective_from"), f"{path}: top level")
    drills = where.at("drills").mapping(data.get("drills"), {"per_office_per_year", "basis"})
    per_year = drills.get("per_office_per_year")
    if isinstance(per_year, bool) or not isinstance(per_year, int) or per_year < 0:
        where.at("drills.per_office_per_year").fail("must be a whole number >= 0")
    types = where.at("types").mapping(data.get("types"), set(INCIDENT_TYPES))
    missing = [t for t in INCIDENT_TYPES if t not in types]
    if missing:
        where.at("types").fail(f"every incident type needs rules; missing {', '.join(missing)}")
    reach = _reach(where.at("reach"), data.get("reach") or {})
    return RuleSet(id=effective.isoformat(), effective_from=effective, name=where.text(data, "name"),
                   drills_per_office_per_year=per_year,
                   types={t: _type_rules(where.at(f"types.{t}"), t, types[t], reach) for t in INCIDENT_TYPES})


def _reach(where: _Where, raw: Any) -> dict[str, tuple[str, ...]]:
    data = where.mapping(raw, set(COUNT_FIELDS))
    reach: dict[str, tuple[str, ...]] = {}
    for source, implied in data.items():
        if not isinstance(implied, list) or not implied:
            where.at(source).fail("must be a non-empty list of count fields")
        unknown = sorted(str(t) for t in implied if t not in COUNT_FIELDS)
        if unknown:
            where.at(source).fail(f"unknown count fields {', '.join(unknown)}")
        reach[source] = tuple(map(str, implied))
    for source in reach:
        # A chain leading back to where it started would make every count in it the largest one.
        seen, pending = set(), list(reach[source])
        while pending:
            target = pending.pop()
            if target == source:
                where.at(source).fail("reach must not lead back to the count it starts from")
            if target not in seen:
                seen.add(target)
                pending.extend(reach.get(target, ()))
    return reach


def _type_rules(where: _Where, incident_type: str, raw: Any, reach: Mapping[str, tuple[str, ...]]) -> TypeRules:
    data = where.mapping(raw, {"name", "basis", "local_practice", "default_level", "below_level_iv",
                               "unit_report_hours", "circumstances", "grading", "plan"})
    if not isinstance(data.get("local_practice"), bool):
        where.at("local_practice").fail("must be true or false")
    circumstances = _circumstances(where.at("circumstances"), data.get("circumstances") or {})
    default_level = data.get("default_level")
    below_level_iv = None
    if "below_level_iv" in data:
        if default_level is not None:
            where.fail("give either default_level or below_level_iv: an incident meeting no criterion gets one")
        below_level_iv = _below_level_iv(where.at("below_level_iv"), data["below_level_iv"], circumstances)
    elif default_level not in LEVELS:
        where.at("default_level").fail(f"must be one of {', '.join(LEVELS)}")
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
                     circumstances=circumstances, criteria=tuple(criteria), plan=tuple(actions),
                     below_level_iv=below_level_iv, reach=reach,
                     unit_report_within=_hours(where.at("unit_report_hours"), data.get("unit_report_hours")))


def _hours(where: _Where, value: Any) -> dt.timedelta | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        where.fail("must be a number of hours > 0")
    return dt.timedelta(minutes=round(value * 60))


def _below_level_iv(where: _Where, raw: Any, circumstances: Mapping[str, Circumstance]) -> BelowLevelIV:
    data = where.mapping(raw, {"outcome", "label", "basis", "handlings"})
    outcome = data.get("outcome")
    if outcome not in BELOW_IV_OUTCOMES:
        where.at("outcome").fail(f"must be one of {', '.join(BELOW_IV_OUTCOMES)}")
    entries = data.get("handlings")
    if not isinstance(entries, list) or not entries:
        where.at("handlings").fail("must be a non-empty list of handlings")
    handlings = []
    for index, entry in enumerate(entries):
        at = where.at(f"handlings[{index}]")
        item = at.mapping(entry, {"id", "text", "circumstances", "plan"})
        needed = item.get("circumstances") or []
        if not isinstance(needed, list):
            at.at("circumstances").fail("must be a list of circumstance codes")
        unknown = sorted(set(map(str, needed)) - set(circumstances))
        if unknown:
            at.at("circumstances").fail(f"unknown circumstances {', '.join(unknown)}")
        plan = item.get("plan")
        if not isinstance(plan, list) or not plan:
            at.at("plan").fail("must be a non-empty list of actions")
        actions = [_planned_action(at.at(f"plan[{i}]"), a, (BELOW_IV,)) for i, a in enumerate(plan)]
        if len({a.code for a in actions}) != len(actions):
            at.at("plan").fail("an action code appears twice")
        handlings.append(Handling(id=at.text(item, "id"), text=at.text(item, "text"),
                                  circumstances=frozenset(map(str, needed)), plan=tuple(actions)))
    if handlings[-1].circumstances:
        where.at("handlings").fail("the last handling must name no circumstances, so every incident has one")
    return BelowLevelIV(outcome=outcome, label=where.text(data, "label"), basis=where.text(data, "basis"),
                        handlings=tuple(handlings))


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


def _planned_action(where: _Where, raw: Any, levels: tuple[str, ...] = LEVELS) -> PlannedAction:
    data = where.mapping(raw, {"code", "kind", "title", "due_hours", "basis"})
    kind = str(data.get("kind", "")).upper()
    if kind not in ACTION_KINDS:
        where.at("kind").fail(f"must be one of {', '.join(k.lower() for k in ACTION_KINDS)}")
    raw_due = data.get("due_hours")
    if isinstance(raw_due, Mapping) and levels != LEVELS:
        where.at("due_hours").fail("must be one number of hours: the plan below level IV has no levels")
    hours = raw_due if isinstance(raw_due, Mapping) else dict.fromkeys(levels, raw_due)
    due: dict[str, dt.timedelta] = {}
    for level, value in hours.items():
        if level not in levels:
            where.at("due_hours").fail(f"unknown level {level!r}; levels are {', '.join(LEVELS)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            where.at(f"due_hours.{level}" if level else "due_hours").fail("must be a number of hours > 0")
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
