"""The indicators a scheme may score (schemes/catalogue.yaml) and the built-in scheme versions
(schemes/scheme_v*.yaml), both checked when the service starts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from services.assessment.domain.stage_ladder import StageLadder, read_ladder
from services.assessment.domain.workload import ENTITIES_SUPERVISED, WORKLOAD_INPUTS
from services.common import registry, scoring
from services.common.rulebook import RuleDataError, effective_date, read_document

SCHEMES_DIR = Path(__file__).resolve().parent.parent / "schemes"

# The services that publish indicators (services.common.registry), assessment itself included.
SOURCES = tuple(entry.name for entry in registry.sources())


@dataclass(frozen=True)
class IndicatorInfo:
    """One indicator a scheme may score (指标): its key, name, source service, kind and value range."""

    key: str
    name: str
    source: str
    kind: str
    low: float
    high: float


@dataclass(frozen=True)
class Catalogue:
    """The indicator catalogue (指标目录): every indicator a scheme may score and the workload inputs."""

    indicators: dict[str, IndicatorInfo]
    workload_inputs: dict[str, str]

    @classmethod
    def load(cls, path: Path = SCHEMES_DIR / "catalogue.yaml") -> Catalogue:
        """The catalogue of schemes/catalogue.yaml, checked; RuleDataError naming what is wrong."""
        document = read_document(path)
        entries, inputs, kinds = document.get("indicators"), document.get("workload_inputs"), document.get("kinds")
        if not (isinstance(entries, dict) and entries and isinstance(inputs, dict) and inputs
                and isinstance(kinds, dict) and kinds):
            raise RuleDataError(f"{path.name}: expected kinds, indicators and workload_inputs mappings")
        if not all(_is_range(span) for span in kinds.values()):
            raise RuleDataError(f"{path.name}: each kind needs a range [low, high]")
        if set(inputs) != set(WORKLOAD_INPUTS):
            raise RuleDataError(f"{path.name}: workload_inputs must be {', '.join(WORKLOAD_INPUTS)} (what the "
                            "coefficient counts)")
        indicators = {}
        for key, entry in entries.items():
            where = f"{path.name}: indicators.{key}"
            source = str(key).split(".", 1)[0]
            if source not in SOURCES or "." not in str(key):
                raise RuleDataError(f"{where}: the key must be <service>.<name> of one of {', '.join(SOURCES)}")
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise RuleDataError(f"{where}: a name is required")
            kind = entry.get("kind")
            if kind in kinds:
                low, high = (float(v) for v in kinds[kind])
            elif kind == "count" and _is_range(entry.get("range")):
                low, high = (float(v) for v in entry["range"])
            else:
                raise RuleDataError(f"{where}: kind must be one of {', '.join(kinds)}, "
                                    "or count with a range [low, high]")
            indicators[key] = IndicatorInfo(key, entry["name"], source, str(kind), low, high)
        if ENTITIES_SUPERVISED not in indicators:
            raise RuleDataError(f"{path.name}: indicators must list {ENTITIES_SUPERVISED} (the workload's entities)")
        return cls(indicators, {str(k): str(v) for k, v in inputs.items()})

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        """Each indicator's possible values [low, high], by key."""
        return {key: (info.low, info.high) for key, info in self.indicators.items()}

    def name_of(self, key: str) -> str:
        """The indicator's name as people read it, or its key when the catalogue does not know it."""
        info = self.indicators.get(key)
        return info.name if info else key

    def problems(self, scheme: scoring.Scheme) -> list[tuple[str, str]]:
        """What makes the scheme invalid against this catalogue, as (field, problem) pairs."""
        return scoring.validate(scheme, self.indicators, self.ranges, self.workload_inputs)

    def complete(self, scheme: scoring.Scheme) -> scoring.Scheme:
        """The scheme with each indicator's source taken from the catalogue (never from a caller)."""
        rules = tuple(replace(rule, source=self.indicators[rule.key].source) if rule.key in self.indicators else rule
                      for rule in scheme.indicators)
        return replace(scheme, indicators=rules)


def _is_range(value: object) -> bool:
    return (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value)
            and value[0] <= value[1])


@dataclass(frozen=True)
class BuiltInScheme:
    """A scheme version shipped with the service (考核方案), with the day it takes effect."""

    scheme: scoring.Scheme
    effective_from: dt.date
    note: str
    stages: StageLadder


def built_in_schemes(catalogue: Catalogue, directory: Path = SCHEMES_DIR) -> list[BuiltInScheme]:
    """The scheme versions shipped with the service, each valid against the catalogue."""
    schemes: list[BuiltInScheme] = []
    for path in sorted(directory.glob("scheme_v*.yaml")):
        document = read_document(path)
        effective_from = effective_date(document.get("effective_from"), path.name)
        try:
            scheme = scoring.Scheme.from_dict({**document, "effective_from": effective_from.isoformat()})
        except (KeyError, TypeError, ValueError) as exc:
            raise RuleDataError(f"{path.name}: cannot read the scheme: {exc!r}") from None
        problems = catalogue.problems(scheme)
        if problems:
            raise RuleDataError(f"{path.name}: " + "; ".join(f"{field}: {text}" for field, text in problems))
        stages = read_ladder(document.get("stages"), [d.key for d in scheme.dimensions], path.name)
        schemes.append(BuiltInScheme(catalogue.complete(scheme), effective_from, str(document.get("note", "")),
                                     stages))
    versions = [s.scheme.version for s in schemes]
    if not schemes or versions != list(range(1, len(schemes) + 1)):
        raise RuleDataError(f"{directory.name}: built-in schemes must be versions 1, 2, ... (found {versions})")
    return schemes
