"""A scored office as the API shows it, live or from a closed period, and how a period keeps
scores: as they were computed, never recomputed (a later fix to scoring never rewrites history)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from services.assessment.domain.history import Value, Values
from services.assessment.models import Period, PeriodScore
from services.common import scoring


@dataclass(frozen=True)
class SourceStatus:
    """Whether an indicator source answered a live score's question, and why not when it did not."""

    source: str
    available: bool
    error: str = ""


@dataclass(frozen=True)
class Fetched:
    """What the indicator sources answered: values per office, and which sources answered."""

    values: Values
    statuses: list[SourceStatus]


# (office ids or None for every office, the caller's authorization to pass on) -> what the sources said
Fetch = Callable[[list[str] | None, str], Fetched]


@dataclass(frozen=True)
class ScoreView:
    """An office's (or the district's) score with its scheme, workload, ranks and sources, as shown."""

    office_id: str  # "" for the district
    period: str  # "" for a live score
    scheme: scoring.Scheme
    score: scoring.OfficeScore
    as_of: dict[str, dt.datetime | None]
    computed_at: dt.datetime
    coefficient: float = 1.0
    adjusted: float | None = None
    rank: int = 0
    index_rank: int = 0
    workload: dict[str, float] = field(default_factory=dict)
    sources: list[SourceStatus] = field(default_factory=list)


def pairs(values: dict[str, Value]) -> dict[str, tuple[float, float]]:
    """The values as scoring reads them: (numerator, denominator) by indicator."""
    return {key: (value.numerator, value.denominator) for key, value in values.items()}


def latest_as_of(values_by_office: Values) -> dict[str, dt.datetime | None]:
    """Per indicator, when its newest value among the offices was measured."""
    latest: dict[str, dt.datetime | None] = {}
    for values in values_by_office.values():
        for key, value in values.items():
            known = latest.get(key)
            if value.as_of is not None and (known is None or value.as_of > known):
                latest[key] = value.as_of
    return latest


def score_to_json(score: scoring.OfficeScore, as_of: Mapping[str, dt.datetime | None]) -> dict[str, Any]:
    """Every figure of the score as computed, with when each value was measured."""
    return {"index": score.index, "dimensions": [asdict(d) for d in score.dimensions],
            "indicators": [{**asdict(i), "as_of": _iso(as_of.get(i.key))} for i in score.indicators]}


def _iso(instant: dt.datetime | None) -> str | None:
    return instant.isoformat() if instant else None


_INDICATOR_FIELDS = [f.name for f in fields(scoring.IndicatorScore)]


def _from_json(office_id: str, index: float | None, dimensions: list[dict[str, Any]],
               indicators: list[dict[str, Any]]) -> tuple[scoring.OfficeScore, dict[str, dt.datetime | None]]:
    as_of = {i["key"]: dt.datetime.fromisoformat(i["as_of"]) if i.get("as_of") else None for i in indicators}
    score = scoring.OfficeScore(
        office_id, index, tuple(scoring.DimensionScore(**d) for d in dimensions),
        tuple(scoring.IndicatorScore(**{name: i[name] for name in _INDICATOR_FIELDS}) for i in indicators))
    return score, as_of


def from_period(period: Period, row: PeriodScore) -> ScoreView:
    """An office's score as its period stored it when it closed."""
    score, as_of = _from_json(row.office_id, row.index, row.dimensions, row.indicators)
    return ScoreView(row.office_id, period.key, scoring.Scheme.from_dict(period.scheme), score, as_of,
                     period.closed_at, row.coefficient, row.adjusted, row.rank, row.index_rank, dict(row.workload))


def district_of_period(period: Period) -> ScoreView:
    """The district's score as its period stored it when it closed."""
    district = period.district
    score, as_of = _from_json("", district["index"], district["dimensions"], district["indicators"])
    workload = {name: float(amount) for name, amount in district.get("workload", {}).items()}
    return ScoreView("", period.key, scoring.Scheme.from_dict(period.scheme), score, as_of, period.closed_at,
                     adjusted=score.index, workload=workload)
