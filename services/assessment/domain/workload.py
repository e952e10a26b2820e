"""The inputs of the workload coefficient (考核系数, docs/domain.md "Assessment"): an office's business
volume, so a busy office is not ranked below a quiet one for volume alone.

The entities supervised are the office's supervised population, the count of entities in its
directory that mobile_enforcement publishes as an indicator, as it stood at the period's cutoff;
inspections, complaints and cases are the work of the period, counted from the evidence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy.orm import Session

from services.assessment.domain import evidence
from services.assessment.domain.history import Values

ENTITIES, INSPECTIONS, COMPLAINTS, CASES = "entities", "inspections", "complaints", "cases"
WORKLOAD_INPUTS = (ENTITIES, INSPECTIONS, COMPLAINTS, CASES)
# The indicator that carries an office's supervised population (a count over 1).
ENTITIES_SUPERVISED = "mobile_enforcement.entities_supervised"
_INPUT_OF_KIND = {evidence.INSPECTION: INSPECTIONS, evidence.COMPLAINT: COMPLAINTS, evidence.CASE: CASES}


def inputs(session: Session, start: dt.date, end: dt.date, office_ids: Iterable[str],
           values: Values) -> dict[str, dict[str, float]]:
    """Per office, the workload inputs of a period; `values` are the indicators at its cutoff."""
    offices = list(office_ids)
    counted = evidence.counts(session, start, end, offices)
    result: dict[str, dict[str, float]] = {}
    for office in offices:
        amounts = dict.fromkeys(WORKLOAD_INPUTS, 0.0)
        for kind, name in _INPUT_OF_KIND.items():
            amounts[name] = float(counted[office][kind])
        population = values.get(office, {}).get(ENTITIES_SUPERVISED)
        if population is not None and population.denominator > 0:
            amounts[ENTITIES] = population.numerator / population.denominator
        result[office] = amounts
    return result


def explain(amounts: Mapping[str, float], weights: Mapping[str, float], sources: Mapping[str, str]) -> str:
    """The workload in words: each input with its value, its weight and where it was counted from."""
    if not amounts:
        return ""
    terms = [f"{name} {_number(amounts.get(name, 0.0))} × {_number(weights.get(name, 0.0))} "
             f"[{sources.get(name, name)}]" for name in _ordered(amounts)]
    total = sum(weights.get(name, 0.0) * amounts.get(name, 0.0) for name in amounts)
    return f"workload {_number(total)} = " + " + ".join(terms)


def _ordered(amounts: Mapping[str, float]) -> list[str]:
    known = [name for name in WORKLOAD_INPUTS if name in amounts]
    return known + sorted(name for name in amounts if name not in WORKLOAD_INPUTS)


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
