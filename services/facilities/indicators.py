"""The indicators facilities contributes (docs/domain.md, "Indicator catalogue": 软硬设施规范化)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from services.common.indicators import Reading
from services.facilities.domain.standards import Standards
from services.facilities.domain.vocabulary import (
    ASPECTS,
    POSITIVE,
    POSITIVE_PENDING,
    RESOLVED_POSITIVE_STATES,
    RETIRED,
)
from services.facilities.models import Equipment, FourUnifiedCheck, Office, RapidTest, Room

ROOMS_COMPLIANT = "facilities.rooms_compliant"
FOUR_UNIFIED = "facilities.four_unified"
EQUIPMENT_IN_CALIBRATION = "facilities.equipment_in_calibration"
RAPID_TESTS_PER_WEEK = "facilities.rapid_tests_per_week"
POSITIVE_FOLLOWED_UP = "facilities.positive_followed_up"
KEYS = (ROOMS_COMPLIANT, FOUR_UNIFIED, EQUIPMENT_IN_CALIBRATION, RAPID_TESTS_PER_WEEK, POSITIVE_FOLLOWED_UP)
WEEK = 7


def compute(session: Session, office_ids: list[str] | None, today: dt.date,
            standards: Standards) -> dict[str, list[Reading]]:
    """Readings per office, from the store as it is (a handful of grouped queries for all offices)."""
    query = select(Office.id)
    if office_ids is not None:
        query = query.where(Office.id.in_(office_ids))
    offices = list(session.scalars(query))
    if not offices:
        return {}
    room_kinds = list(standards.rooms.in_force(today).rooms)
    weekly_target = standards.rapid_tests.in_force(today).weekly_target

    compliant_rooms = dict(session.execute(
        select(Room.office_id, func.count()).where(Room.office_id.in_(offices), Room.compliant.is_(True),
                                                   Room.kind.in_(room_kinds)).group_by(Room.office_id)).all())

    # The latest check of each aspect decides it (ordered so the last row per aspect wins).
    latest: dict[tuple[str, str], bool] = {}
    for office_id, aspect, passed in session.execute(
            select(FourUnifiedCheck.office_id, FourUnifiedCheck.aspect, FourUnifiedCheck.passed)
            .where(FourUnifiedCheck.office_id.in_(offices))
            .order_by(FourUnifiedCheck.checked_on, FourUnifiedCheck.created_at)):
        latest[(office_id, aspect)] = passed
    unified: dict[str, int] = {}
    for (office_id, _aspect), passed in latest.items():
        unified[office_id] = unified.get(office_id, 0) + int(passed)

    calibrated = case((Equipment.calibration_due >= today, 1), else_=0)
    equipment = {office_id: (int(within or 0), int(total)) for office_id, within, total in session.execute(
        select(Equipment.office_id, func.sum(calibrated), func.count())
        .where(Equipment.office_id.in_(offices), Equipment.needs_calibration.is_(True),
               Equipment.status != RETIRED).group_by(Equipment.office_id))}

    weekly = dict(session.execute(
        select(RapidTest.office_id, func.count())
        .where(RapidTest.office_id.in_(offices), RapidTest.tested_on > today - dt.timedelta(days=WEEK),
               RapidTest.tested_on <= today).group_by(RapidTest.office_id)).all())

    # A positive is due for follow-up once resolved or once its re-test window closed unused;
    # a positive in its window, or in a re-test, is not due yet.
    resolved = RapidTest.state.in_(RESOLVED_POSITIVE_STATES)
    due = or_(resolved, and_(RapidTest.state == POSITIVE_PENDING, RapidTest.window_expiry_published.is_(True)))
    positives = {office_id: (int(done or 0), int(total)) for office_id, done, total in session.execute(
        select(RapidTest.office_id, func.sum(case((resolved, 1), else_=0)), func.count())
        .where(RapidTest.office_id.in_(offices), RapidTest.result == POSITIVE, due)
        .group_by(RapidTest.office_id))}

    readings: dict[str, list[Reading]] = {}
    for office_id in offices:
        within, held = equipment.get(office_id, (0, 0))
        followed, due_count = positives.get(office_id, (0, 0))
        readings[office_id] = [
            Reading(office_id, ROOMS_COMPLIANT, int(compliant_rooms.get(office_id, 0)), len(room_kinds)),
            Reading(office_id, FOUR_UNIFIED, unified.get(office_id, 0), len(ASPECTS)),
            Reading(office_id, EQUIPMENT_IN_CALIBRATION, within, held),
            Reading(office_id, RAPID_TESTS_PER_WEEK, int(weekly.get(office_id, 0)), weekly_target),
            Reading(office_id, POSITIVE_FOLLOWED_UP, followed, due_count),
        ]
    return readings
