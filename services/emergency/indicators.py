"""The indicators emergency contributes (docs/domain.md, "Indicator catalogue").

The three on-time ratios count actions whose outcome is known: done (on time or late) or still open
past their due time; an open action within its time counts nowhere yet.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from services.common.indicators import Reading
from services.emergency.domain.actions import DONE
from services.emergency.domain.drills import drills_in_year
from services.emergency.domain.rules import NOTIFICATION, ONSITE
from services.emergency.models import Incident, IncidentAction, Office

REPORT_WITHIN_LIMIT = "emergency.report_within_limit"
ONSITE_WITHIN_TARGET = "emergency.onsite_within_target"
ACTIONS_ON_TIME = "emergency.actions_on_time"
DRILLS_PER_YEAR = "emergency.drills_per_year"
KEYS = (REPORT_WITHIN_LIMIT, ONSITE_WITHIN_TARGET, ACTIONS_ON_TIME, DRILLS_PER_YEAR)


def compute(session: Session, office_ids: list[str] | None, today: dt.date,
            drills_target: int) -> dict[str, list[Reading]]:
    """Readings per office; `drills_target` is the yearly target of the rule set in force today."""
    query = select(Office.id)
    if office_ids is not None:
        query = query.where(Office.id.in_(office_ids))
    offices = list(session.scalars(query))
    if not offices:
        return {}

    on_time = case(((IncidentAction.state == DONE) & IncidentAction.overdue.is_(False), 1), else_=0)
    settled = or_(IncidentAction.state == DONE, IncidentAction.overdue.is_(True))
    by_kind: dict[tuple[str, str], tuple[int, int]] = {}
    for office_id, kind, done_on_time, count in session.execute(
            select(Incident.office_id, IncidentAction.kind, func.sum(on_time), func.count())
            .join(Incident, Incident.id == IncidentAction.incident_id)
            .where(Incident.office_id.in_(offices), settled)
            .group_by(Incident.office_id, IncidentAction.kind)):
        by_kind[(office_id, kind)] = (int(done_on_time or 0), int(count))
    drills = drills_in_year(session, offices, today.year)

    readings: dict[str, list[Reading]] = {}
    for office_id in offices:
        notifications = by_kind.get((office_id, NOTIFICATION), (0, 0))
        onsite = by_kind.get((office_id, ONSITE), (0, 0))
        kinds = [value for (office, _), value in by_kind.items() if office == office_id]
        # Drills beyond the target are not counted: in the district figure Σheld/Σtarget, one
        # office's extra drills must not hide another office's missing ones.
        held = min(drills.get(office_id, 0), drills_target)
        readings[office_id] = [
            Reading(office_id, REPORT_WITHIN_LIMIT, *notifications),
            Reading(office_id, ONSITE_WITHIN_TARGET, *onsite),
            Reading(office_id, ACTIONS_ON_TIME, sum(k[0] for k in kinds), sum(k[1] for k in kinds)),
            Reading(office_id, DRILLS_PER_YEAR, held, drills_target),
        ]
    return readings
