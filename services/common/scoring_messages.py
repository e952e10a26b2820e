"""The scoring scheme (services.common.scoring.Scheme, in its to_dict / from_dict form) as the
protobuf Scheme message assessment publishes (SchemeService, SchemeUpdated), and back.

Both directions live here so the publisher (assessment) and the readers (the gateway, the
pre-contract event reader) map the scheme the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from services.common import scoring
from services.common.contracts import date_of, day_of
from services.common.errors import InvalidArgument
from supervision.assessment.v1 import assessment_pb2 as pb

# An enum's number, as the generated stubs type each enum's values.
Number = TypeVar("Number", bound=int)

DIRECTION = {scoring.HIGHER: pb.DIRECTION_HIGHER, scoring.LOWER: pb.DIRECTION_LOWER}
RULE = {"threshold_pro_rata": pb.SCORING_RULE_THRESHOLD_PRO_RATA}
_DIRECTION_NAME = {value: name for name, value in DIRECTION.items()}
_RULE_NAME = {value: name for name, value in RULE.items()}


def scheme_message_from_dict(data: Mapping[str, Any]) -> pb.Scheme:
    """The Scheme message of a scheme in scoring.Scheme.to_dict form (a `note` key is kept too)."""
    try:
        scheme = scoring.Scheme.from_dict(data)
    except KeyError as exc:
        raise ValueError(f"scheme: {exc.args[0]} missing") from None
    effective_from = dt.date.fromisoformat(scheme.effective_from) if scheme.effective_from else None
    return pb.Scheme(
        version=scheme.version, effective_from=date_of(effective_from), note=str(data.get("note") or ""),
        dimensions=[pb.Dimension(key=d.key, name=d.name, weight=d.weight) for d in scheme.dimensions],
        indicators=[pb.IndicatorRule(key=r.key, dimension=r.dimension, weight=r.weight, target=r.target,
                                     floor=r.floor, direction=_known(DIRECTION, r.direction, r.key, "direction"),
                                     rule=_known(RULE, r.rule, r.key, "rule"), source=r.source)
                    for r in scheme.indicators],
        workload=pb.WorkloadFormula(weights=dict(scheme.workload.weights), sensitivity=scheme.workload.sensitivity,
                                    minimum=scheme.workload.minimum, maximum=scheme.workload.maximum))


def scheme_dict_from_message(message: pb.Scheme) -> dict[str, Any]:
    """The scoring.Scheme.from_dict form of a published Scheme message. An indicator without a
    direction is refused: guessing one would score the office the wrong way round."""
    effective_from = day_of(message.effective_from)
    indicators = []
    for index, rule in enumerate(message.indicators):
        if rule.direction not in _DIRECTION_NAME:
            raise InvalidArgument.of(f"scheme.indicators[{index}].direction",
                                     f"{rule.key}: no known direction ({rule.direction})")
        if rule.rule and rule.rule not in _RULE_NAME:
            raise InvalidArgument.of(f"scheme.indicators[{index}].rule", f"{rule.key}: unknown rule ({rule.rule})")
        indicators.append({
            "key": rule.key, "dimension": rule.dimension, "weight": rule.weight, "target": rule.target,
            "floor": rule.floor, "direction": _DIRECTION_NAME[rule.direction],
            # Unset means the one rule there is, as the API reads it.
            "rule": _RULE_NAME.get(rule.rule, "threshold_pro_rata"),
            "source": rule.source or rule.key.split(".", 1)[0]})
    workload = message.workload
    return {
        "version": message.version, "effective_from": effective_from.isoformat() if effective_from else "",
        "dimensions": [{"key": d.key, "name": d.name or d.key, "weight": d.weight} for d in message.dimensions],
        "indicators": indicators,
        "workload": {"weights": dict(workload.weights), "sensitivity": workload.sensitivity,
                     "minimum": workload.minimum, "maximum": workload.maximum},
    }


def _known(mapping: Mapping[str, Number], value: str, key: str, what: str) -> Number:
    if value not in mapping:
        raise ValueError(f"indicator {key}: unknown {what} {value!r}")
    return mapping[value]
