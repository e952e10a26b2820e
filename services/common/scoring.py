"""The one scoring function of the standardization index, used by assessment (closing periods)
and by the gateway (the live index), so the two never disagree.

A scheme is data the bureau edits (assessment owns it): four dimensions (四化) with weights that
sum to 100, and per dimension its indicators with weights that sum to 100 within the dimension,
each with a target, a floor and a direction. An indicator with no data (denominator 0) is
missing: it is left out and the remaining weights of its dimension count in full, so an office is
never marked down for work it had no occasion to do; a dimension with no data at all is left out
of the index the same way.

Scoring rule "threshold_pro_rata" (docs/domain.md, "Assessment"): at or better than target, full
marks; at least `floor` of the way to target, points pro rata; worse than that, none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

HIGHER, LOWER = "higher", "lower"
FULL, PRO_RATA, ZERO, MISSING = "full", "pro_rata", "zero", "missing"
RULES = ("threshold_pro_rata",)
WEIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class IndicatorRule:
    """How a scheme scores one indicator: its dimension and weight, its target and its floor."""

    key: str
    dimension: str
    weight: float
    target: float
    floor: float = 0.5
    direction: str = HIGHER
    rule: str = "threshold_pro_rata"
    # The source service, for people and for the gateway's seeding; the key's prefix names it too.
    source: str = ""


@dataclass(frozen=True)
class Dimension:
    """A dimension of the assessment scheme (e.g. 软硬设施规范化) and its weight in the index."""

    key: str
    name: str
    weight: float


@dataclass(frozen=True)
class WorkloadFormula:
    """Coefficient = 1 + sensitivity x (office workload / district mean workload - 1), clamped.

    Workload is the weighted sum of the office's inputs (entities supervised, inspections,
    complaints, cases), so a busy office is not ranked below a quiet one for volume alone.
    """

    weights: Mapping[str, float] = field(default_factory=dict)
    sensitivity: float = 0.1
    minimum: float = 0.9
    maximum: float = 1.1


@dataclass(frozen=True)
class Scheme:
    """An assessment scheme (评价方案): its dimensions, the indicators scored and the workload formula."""

    version: int
    effective_from: str
    dimensions: tuple[Dimension, ...]
    indicators: tuple[IndicatorRule, ...]
    workload: WorkloadFormula = field(default_factory=WorkloadFormula)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scheme:
        """A scheme from its stored or published dictionary form (defaults for the optional keys)."""
        return cls(
            version=int(data.get("version", 0)), effective_from=str(data.get("effective_from", "")),
            dimensions=tuple(Dimension(str(d["key"]), str(d.get("name", d["key"])), float(d["weight"]))
                             for d in data.get("dimensions", ())),
            indicators=tuple(IndicatorRule(
                key=str(i["key"]), dimension=str(i["dimension"]), weight=float(i["weight"]),
                target=float(i["target"]), floor=float(i.get("floor", 0.5)),
                direction=str(i.get("direction", HIGHER)), rule=str(i.get("rule", "threshold_pro_rata")),
                source=str(i.get("source", str(i["key"]).split(".", 1)[0]))) for i in data.get("indicators", ())),
            workload=WorkloadFormula(**(data.get("workload") or {})),
        )

    def to_dict(self) -> dict[str, Any]:
        """The scheme as a plain dictionary, as it is stored and published."""
        return {
            "version": self.version, "effective_from": self.effective_from,
            "dimensions": [asdict(d) for d in self.dimensions],
            "indicators": [asdict(i) for i in self.indicators],
            "workload": {"weights": dict(self.workload.weights), "sensitivity": self.workload.sensitivity,
                         "minimum": self.workload.minimum, "maximum": self.workload.maximum},
        }


def validate(scheme: Scheme, known_keys: Iterable[str] | None = None,
             ranges: Mapping[str, tuple[float, float]] | None = None,
             workload_inputs: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """Every problem of a scheme as (field, description); empty when it can be used.

    Every number must be finite: a NaN compares false with everything, so it would slip
    through each range check below and poison every score computed with the scheme.
    """
    problems: list[tuple[str, str]] = []
    dimension_keys = [d.key for d in scheme.dimensions]
    if not scheme.dimensions:
        problems.append(("scheme.dimensions", "at least one dimension"))
    if len(set(dimension_keys)) != len(dimension_keys):
        problems.append(("scheme.dimensions", "dimension keys repeat"))
    for index, dimension in enumerate(scheme.dimensions):
        if not _positive(dimension.weight):
            problems.append((f"scheme.dimensions[{index}].weight", "must be a finite number > 0"))
    total = sum(d.weight for d in scheme.dimensions)
    if scheme.dimensions and math.isfinite(total) and abs(total - 100) > WEIGHT_TOLERANCE:
        problems.append(("scheme.dimensions", f"weights sum to {total:g}, not 100"))
    known = set(known_keys) if known_keys is not None else None
    seen: set[str] = set()
    for index, rule in enumerate(scheme.indicators):
        where = f"scheme.indicators[{index}]"
        if rule.key in seen:
            problems.append((f"{where}.key", f"{rule.key} appears twice"))
        seen.add(rule.key)
        if known is not None and rule.key not in known:
            problems.append((f"{where}.key", f"unknown indicator {rule.key}"))
        if rule.dimension not in dimension_keys:
            problems.append((f"{where}.dimension", f"unknown dimension {rule.dimension}"))
        if not _positive(rule.weight):
            problems.append((f"{where}.weight", "must be a finite number > 0"))
        if rule.direction not in (HIGHER, LOWER):
            problems.append((f"{where}.direction", "must be higher or lower"))
        if rule.rule not in RULES:
            problems.append((f"{where}.rule", f"must be one of {', '.join(RULES)}"))
        if not 0 < rule.floor <= 1:  # false for NaN too
            problems.append((f"{where}.floor", "must be in (0, 1]"))
        low, high = (ranges or {}).get(rule.key, (0.0, float("inf")))
        if not math.isfinite(rule.target) or not low <= rule.target <= high \
                or (rule.direction == HIGHER and rule.target <= 0):
            problems.append((f"{where}.target", f"{rule.target:g} is outside the indicator's range "
                                                f"[{low:g}, {high:g}]" + (" and must be > 0" if rule.direction == HIGHER
                                                                          else "")))
    for dimension in scheme.dimensions:
        weights = [r.weight for r in scheme.indicators if r.dimension == dimension.key]
        if not weights:
            problems.append(("scheme.indicators", f"dimension {dimension.key} has no indicators"))
        elif math.isfinite(sum(weights)) and abs(sum(weights) - 100) > WEIGHT_TOLERANCE:
            problems.append(("scheme.indicators", f"weights in dimension {dimension.key} sum to {sum(weights):g}, "
                                                  "not 100"))
    workload = scheme.workload
    if not (0 < workload.minimum <= 1 <= workload.maximum and math.isfinite(workload.maximum)):
        problems.append(("scheme.workload", "coefficients must bound 1: 0 < minimum <= 1 <= maximum, finite"))
    if not (math.isfinite(workload.sensitivity) and workload.sensitivity >= 0):
        problems.append(("scheme.workload.sensitivity", "must be a finite number >= 0"))
    inputs = set(workload_inputs) if workload_inputs is not None else None
    for name, weight in workload.weights.items():
        if inputs is not None and name not in inputs:
            problems.append((f"scheme.workload.weights[{name}]",
                             f"unknown workload input; known: {', '.join(sorted(inputs))}"))
        if not (math.isfinite(weight) and weight >= 0):
            problems.append((f"scheme.workload.weights[{name}]", "must be a finite number >= 0"))
    return problems


def _positive(number: float) -> bool:
    return math.isfinite(number) and number > 0


@dataclass(frozen=True)
class IndicatorScore:
    """An office's score on one indicator: its value, the points earned out of its weight, and why."""

    key: str
    dimension: str
    numerator: float
    denominator: float
    value: float | None  # None when missing
    target: float
    weight: float  # within its dimension
    points: float  # earned, out of `weight`
    status: str
    explanation: str

    @property
    def lost(self) -> float:
        """The points the office missed on this indicator (none for an indicator without data)."""
        return 0.0 if self.status == MISSING else self.weight - self.points


@dataclass(frozen=True)
class DimensionScore:
    """An office's score on one dimension, over the indicators that have data."""

    key: str
    name: str
    weight: float
    score: float | None  # 0-100 over the indicators with data; None when none has data
    points: float
    possible: float


@dataclass(frozen=True)
class OfficeScore:
    """An office's index (0-100) with its dimension and indicator scores."""

    office_id: str
    index: float | None  # 0-100; None when no dimension has data
    dimensions: tuple[DimensionScore, ...]
    indicators: tuple[IndicatorScore, ...]


def score_indicator(rule: IndicatorRule, numerator: float, denominator: float) -> IndicatorScore:
    """The score of one indicator from its ratio numerator / denominator, by the rule's target and floor."""
    if denominator <= 0:
        return IndicatorScore(rule.key, rule.dimension, numerator, denominator, None, rule.target, rule.weight, 0.0,
                              MISSING, "no data yet: not scored, its weight goes to the other indicators")
    value = numerator / denominator
    if rule.direction == HIGHER:
        achieved = value / rule.target if rule.target > 0 else 1.0
        better = value >= rule.target
    else:
        achieved = (rule.target / value) if value > 0 else 1.0
        better = value <= rule.target
    if better:
        return IndicatorScore(rule.key, rule.dimension, numerator, denominator, value, rule.target, rule.weight,
                              rule.weight, FULL, f"{_fmt(value)} meets the target {_fmt(rule.target)}: full marks")
    if achieved >= rule.floor:
        points = rule.weight * achieved
        return IndicatorScore(rule.key, rule.dimension, numerator, denominator, value, rule.target, rule.weight, points,
                              PRO_RATA, f"{_fmt(value)} against target {_fmt(rule.target)}: {achieved:.1%} of the way, "
                                        f"{rule.weight - points:.2f} of {rule.weight:g} points lost")
    short = (f"below {rule.floor:.0%} of the target {_fmt(rule.target)}" if rule.direction == HIGHER
             else f"more than the target {_fmt(rule.target)} allows (at most {_fmt(rule.target / rule.floor)} "
                  "earns points)")
    return IndicatorScore(rule.key, rule.dimension, numerator, denominator, value, rule.target, rule.weight, 0.0, ZERO,
                          f"{_fmt(value)} is {short}: all {rule.weight:g} points lost")


def score_office(scheme: Scheme, office_id: str, values: Values) -> OfficeScore:
    """`values`: indicator key -> (numerator, denominator). Keys the scheme lacks are ignored."""
    indicators = tuple(score_indicator(rule, *values.get(rule.key, (0.0, 0.0))) for rule in scheme.indicators)
    dimensions = []
    index_points = index_possible = 0.0
    for dimension in scheme.dimensions:
        scored = [i for i in indicators if i.dimension == dimension.key and i.status != MISSING]
        possible = sum(i.weight for i in scored)
        points = sum(i.points for i in scored)
        score = 100 * points / possible if possible > 0 else None
        dimensions.append(DimensionScore(dimension.key, dimension.name, dimension.weight, score, points, possible))
        if score is not None:
            index_points += dimension.weight * score / 100
            index_possible += dimension.weight
    index = 100 * index_points / index_possible if index_possible > 0 else None
    return OfficeScore(office_id, index, tuple(dimensions), indicators)


Values = Mapping[str, tuple[float, float]]


def district_values(values_by_office: Mapping[str, Values]) -> dict[str, tuple[float, float]]:
    """Ratios across offices as sum of numerators over sum of denominators, never a mean of ratios."""
    totals: dict[str, tuple[float, float]] = {}
    for values in values_by_office.values():
        for key, (numerator, denominator) in values.items():
            total = totals.get(key, (0.0, 0.0))
            totals[key] = (total[0] + numerator, total[1] + denominator)
    return totals


def workload_coefficients(formula: WorkloadFormula,
                          inputs_by_office: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Each office's workload coefficient against the district mean, clamped to the formula's bounds."""
    workloads = {office: sum(formula.weights.get(name, 0.0) * amount for name, amount in inputs.items())
                 for office, inputs in inputs_by_office.items()}
    if not workloads:
        return {}
    mean = sum(workloads.values()) / len(workloads)
    if mean <= 0:
        return dict.fromkeys(workloads, 1.0)
    return {office: min(formula.maximum, max(formula.minimum, 1 + formula.sensitivity * (load / mean - 1)))
            for office, load in workloads.items()}


@dataclass(frozen=True)
class Ranking:
    """An office's place in the ranking, its index and the index adjusted by its workload."""

    office_id: str
    rank: int
    index: float | None
    coefficient: float
    adjusted: float | None


def rank(scores: Iterable[OfficeScore], coefficients: Mapping[str, float] | None = None) -> list[Ranking]:
    """Highest adjusted index first; offices without an index come last; ties share a rank."""
    rows = []
    for score in scores:
        coefficient = (coefficients or {}).get(score.office_id, 1.0)
        adjusted = None if score.index is None else score.index * coefficient
        rows.append((score, coefficient, adjusted))
    rows.sort(key=lambda row: (row[2] is None, -_tie_key(row[2]), row[0].office_id))
    result: list[Ranking] = []
    for position, (score, coefficient, adjusted) in enumerate(rows, start=1):
        tied = result and adjusted is not None and result[-1].adjusted is not None \
            and _tie_key(result[-1].adjusted) == _tie_key(adjusted)
        result.append(Ranking(score.office_id, result[-1].rank if tied else position, score.index, coefficient,
                              adjusted))
    return result


def _tie_key(adjusted: float | None) -> float:
    """Equal indexes reached by different float arithmetic (80 x 1.1 and 88) are one value: they
    tie, and are ordered by office id, never by a rounding error in the last bit."""
    return round(adjusted or 0.0, 9)


def _fmt(value: float) -> str:
    return f"{value:.1%}" if 0 <= value <= 1 else f"{value:g}"
