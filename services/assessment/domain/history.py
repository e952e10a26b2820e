"""Indicator history: every IndicatorsChanged of every source, kept so that a period is closed from
the values as they stood at its end, without asking the services (which only know the present)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.assessment.models import IndicatorHistory
from services.common.contracts import instant_of
from services.common.errors import InvalidArgument
from supervision.common.v1.events_pb2 import IndicatorsChanged
from supervision.common.v1.indicators_pb2 import IndicatorValue

MAX_ID = 32
MAX_KEY = 96


@dataclass(frozen=True)
class Value:
    """An indicator's value of one office (numerator over denominator) and when it was measured."""

    numerator: float
    denominator: float
    as_of: dt.datetime | None


# office id -> indicator key -> value
Values = dict[str, dict[str, Value]]


def record(session: Session, source: str, message: IndicatorsChanged, fallback_time: dt.datetime) -> int:
    """Stores one IndicatorsChanged. A version already stored is left as it is (the event is the
    state of the office's indicators at that version, so a repeat carries nothing new). Returns
    the number of values stored."""
    _check_office(message.office_id)
    if message.version < 0:
        raise InvalidArgument.of("version", f"IndicatorsChanged of office {message.office_id} has a negative version")
    return _store(session, source, message, fallback_time)


def record_before_services(session: Session, source: str, message: IndicatorsChanged,
                           fallback_time: dt.datetime) -> int:
    """Stores values an office had before the services published any (the demo district's past
    quarters): at version 0 or below, so each sorts before every version a service publishes
    (from 1 up) and a later quarter's values take a higher version than an earlier one's."""
    _check_office(message.office_id)
    if message.version > 0:
        raise InvalidArgument.of("version", "values from before the services carry version 0 or below")
    return _store(session, source, message, fallback_time)


def _store(session: Session, source: str, message: IndicatorsChanged, fallback_time: dt.datetime) -> int:
    office_id, version = message.office_id, message.version
    readings = [_reading(reading, index) for index, reading in enumerate(message.indicators)]
    if session.scalar(select(IndicatorHistory.version).where(
            IndicatorHistory.source == source, IndicatorHistory.office_id == office_id,
            IndicatorHistory.version == version).limit(1)) is not None:
        return 0
    as_of = instant_of(message.as_of, message.HasField("as_of")) or fallback_time
    stored = 0
    for key, numerator, denominator in readings:
        if not key.startswith(source + "."):
            continue  # a source speaks for its own indicators only
        session.add(IndicatorHistory(source=source, office_id=office_id, version=version, key=key,
                                     numerator=numerator, denominator=denominator, as_of=as_of))
        stored += 1
    return stored


def _check_office(office_id: str) -> None:
    if not 0 < len(office_id) <= MAX_ID:
        raise InvalidArgument.of("office_id", f"IndicatorsChanged needs the office (at most {MAX_ID} characters)")


def _reading(reading: IndicatorValue, index: int) -> tuple[str, float, float]:
    where = f"indicators[{index}]"
    if not 0 < len(reading.key) <= MAX_KEY:
        raise InvalidArgument.of(f"{where}.key", f"a key of at most {MAX_KEY} characters is required")
    if not (math.isfinite(reading.numerator) and math.isfinite(reading.denominator)):
        raise InvalidArgument.of(where, f"{reading.key}: numerator and denominator must be finite")
    return reading.key, reading.numerator, reading.denominator


def values_at(session: Session, cutoff: dt.datetime, office_ids: list[str] | None = None) -> Values:
    """Each office's latest values recorded before `cutoff`, per source."""
    newest = (select(IndicatorHistory.source, IndicatorHistory.office_id,
                     func.max(IndicatorHistory.version).label("version"))
              .where(IndicatorHistory.as_of < cutoff)
              .group_by(IndicatorHistory.source, IndicatorHistory.office_id))
    if office_ids is not None:
        newest = newest.where(IndicatorHistory.office_id.in_(office_ids))
    latest = newest.subquery()
    rows = session.scalars(select(IndicatorHistory).join(
        latest, (IndicatorHistory.source == latest.c.source) & (IndicatorHistory.office_id == latest.c.office_id)
        & (IndicatorHistory.version == latest.c.version)))
    values: Values = {}
    for row in rows:
        values.setdefault(row.office_id, {})[row.key] = Value(row.numerator, row.denominator, row.as_of)
    return values
