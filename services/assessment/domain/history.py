"""Indicator history: every IndicatorsChanged of every source, kept so that a period is closed from
the values as they stood at its end, without asking the services (which only know the present)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.assessment.models import IndicatorHistory
from services.common.errors import InvalidArgument

MAX_ID = 32


@dataclass(frozen=True)
class Value:
    numerator: float
    denominator: float
    as_of: dt.datetime | None


# office id -> indicator key -> value
Values = dict[str, dict[str, Value]]


def record(session: Session, source: str, office_id: str, version: int, data: dict[str, Any],
           fallback_time: dt.datetime) -> int:
    """Stores one IndicatorsChanged. A version already stored is left as it is (the event is the
    state of the office's indicators at that version, so a repeat carries nothing new). Returns
    the number of values stored."""
    if not office_id or len(office_id) > MAX_ID:
        raise InvalidArgument.of("data.office_id", f"IndicatorsChanged needs the office (at most {MAX_ID} characters)")
    readings = data.get("indicators")
    if not isinstance(readings, list):
        raise InvalidArgument.of("data.indicators", "a list of readings is required")
    if session.scalar(select(IndicatorHistory.version).where(
            IndicatorHistory.source == source, IndicatorHistory.office_id == office_id,
            IndicatorHistory.version == version).limit(1)) is not None:
        return 0
    as_of = _instant(data.get("as_of")) or fallback_time
    stored = 0
    for index, reading in enumerate(readings):
        key, numerator, denominator = _reading(reading, index)
        if not key.startswith(source + "."):
            continue  # a source speaks for its own indicators only
        session.add(IndicatorHistory(source=source, office_id=office_id, version=version, key=key,
                                     numerator=numerator, denominator=denominator, as_of=as_of))
        stored += 1
    return stored


def _reading(reading: object, index: int) -> tuple[str, float, float]:
    where = f"data.indicators[{index}]"
    if not isinstance(reading, dict) or not isinstance(reading.get("key"), str):
        raise InvalidArgument.of(where, "a reading with a key is required")
    try:
        numerator, denominator = float(reading["numerator"]), float(reading["denominator"])
    except (KeyError, TypeError, ValueError):
        raise InvalidArgument.of(where, "numerator and denominator must be numbers") from None
    if not (math.isfinite(numerator) and math.isfinite(denominator)):
        raise InvalidArgument.of(where, "numerator and denominator must be finite")
    return reading["key"][:96], numerator, denominator


def _instant(raw: object) -> dt.datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        instant = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant.astimezone(dt.UTC) if instant.tzinfo else None


def values_at(session: Session, cutoff: dt.datetime, office_ids: list[str] | None = None) -> Values:
    """Each office's latest values recorded before `cutoff`, per source."""
    latest = (select(IndicatorHistory.source, IndicatorHistory.office_id,
                     func.max(IndicatorHistory.version).label("version"))
              .where(IndicatorHistory.as_of < cutoff)
              .group_by(IndicatorHistory.source, IndicatorHistory.office_id))
    if office_ids is not None:
        latest = latest.where(IndicatorHistory.office_id.in_(office_ids))
    latest = latest.subquery()
    rows = session.scalars(select(IndicatorHistory).join(
        latest, (IndicatorHistory.source == latest.c.source) & (IndicatorHistory.office_id == latest.c.office_id)
        & (IndicatorHistory.version == latest.c.version)))
    values: Values = {}
    for row in rows:
        values.setdefault(row.office_id, {})[row.key] = Value(row.numerator, row.denominator, row.as_of)
    return values
