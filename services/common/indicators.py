"""Indicators a service contributes to the standardization index.

A service computes readings (numerator/denominator per office) from its own store. `refresh`
compares them with the last published snapshot and, when something moved, bumps the office's
version and writes IndicatorsChanged in the same transaction (event-carried state). The
IndicatorSource RPC answers from the snapshot, so what it returns and what was published agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Float, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import UTCDateTime, utcnow
from services.common.events import EventWriter

INDICATORS_CHANGED = "IndicatorsChanged"


@dataclass(frozen=True)
class Reading:
    office_id: str
    key: str
    numerator: float
    denominator: float

    @property
    def has_data(self) -> bool:
        return self.denominator > 0

    @property
    def value(self) -> float:
        return self.numerator / self.denominator if self.denominator > 0 else 0.0


class IndicatorSnapshotMixin:
    __tablename__ = "indicator_snapshots"

    office_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    numerator: Mapped[float] = mapped_column(Float)
    denominator: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def reading_to_wire(reading: Reading) -> dict[str, Any]:
    return {"key": reading.key, "numerator": reading.numerator, "denominator": reading.denominator,
            "value": reading.value, "has_data": reading.has_data}


def refresh(session: Session, snapshot_model: type[IndicatorSnapshotMixin], events: EventWriter,
            readings_by_office: dict[str, list[Reading]]) -> list[str]:
    """Stores readings that changed and publishes IndicatorsChanged per office; returns those offices."""
    if not readings_by_office:
        return []
    existing: dict[str, dict[str, IndicatorSnapshotMixin]] = {}
    rows = session.scalars(select(snapshot_model).where(snapshot_model.office_id.in_(list(readings_by_office))))
    for row in rows:
        existing.setdefault(row.office_id, {})[row.key] = row
    now = utcnow()
    changed: list[str] = []
    for office_id, readings in readings_by_office.items():
        current = existing.get(office_id, {})
        moved = [r for r in readings
                 if r.key not in current
                 or (current[r.key].numerator, current[r.key].denominator) != (r.numerator, r.denominator)]
        if not moved:
            continue
        version = max((row.version for row in current.values()), default=0) + 1
        for reading in readings:
            row = current.get(reading.key)
            if row is None:
                session.add(snapshot_model(office_id=office_id, key=reading.key, numerator=reading.numerator,
                                           denominator=reading.denominator, version=version, as_of=now))
            else:
                row.numerator, row.denominator, row.version, row.as_of = (
                    reading.numerator, reading.denominator, version, now)
        events.record(session, INDICATORS_CHANGED, aggregate_type="indicators", aggregate_id=office_id,
                      version=version, office_id=office_id,
                      data={"office_id": office_id, "as_of": now.isoformat(),
                            "indicators": [reading_to_wire(r) for r in readings]})
        changed.append(office_id)
    return changed
