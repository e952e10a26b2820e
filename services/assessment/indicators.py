"""The indicators assessment contributes (docs/domain.md, "Indicator catalogue": 保障机制科学化)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from services.assessment.domain import periods
from services.assessment.domain.improvement import VERIFIED
from services.assessment.models import ImprovementPlan, Office, Officer, OfficerAssessment
from services.common.indicators import Reading

IMPROVEMENT_PLANS_CLOSED = "assessment.improvement_plans_closed"
STAFF_ASSESSED = "assessment.staff_assessed"
KEYS = (IMPROVEMENT_PLANS_CLOSED, STAFF_ASSESSED)


def compute(session: Session, office_ids: list[str] | None, today: dt.date) -> dict[str, list[Reading]]:
    """improvement_plans_closed: plans closed (completed by the office, or verified at target) over
    plans closed or past their due date; staff_assessed: officers with a final grade for the last
    quarter that has ended over the office's officers."""
    query = select(Office.id)
    if office_ids is not None:
        query = query.where(Office.id.in_(office_ids))
    offices = list(session.scalars(query))
    if not offices:
        return {}
    closed = or_(ImprovementPlan.completed_at.is_not(None), ImprovementPlan.state == VERIFIED)
    plans = {office_id: (int(done or 0), int(due or 0)) for office_id, done, due in session.execute(
        select(ImprovementPlan.office_id, func.sum(case((closed, 1), else_=0)),
               func.sum(case((closed | (ImprovementPlan.due_date < today), 1), else_=0)))
        .where(ImprovementPlan.office_id.in_(offices)).group_by(ImprovementPlan.office_id))}
    officers = dict(session.execute(select(Officer.office_id, func.count()).where(Officer.office_id.in_(offices))
                                    .group_by(Officer.office_id)).all())
    quarter = periods.last_ended_quarter(today).key
    graded = dict(session.execute(
        select(Officer.office_id, func.count()).join(
            OfficerAssessment, (OfficerAssessment.officer_id == Officer.id) & (OfficerAssessment.quarter == quarter)
            & OfficerAssessment.final_grade.is_not(None))
        .where(Officer.office_id.in_(offices)).group_by(Officer.office_id)).all())
    return {office_id: [Reading(office_id, IMPROVEMENT_PLANS_CLOSED, *plans.get(office_id, (0, 0))),
                        Reading(office_id, STAFF_ASSESSED, int(graded.get(office_id, 0)),
                                int(officers.get(office_id, 0)))]
            for office_id in offices}
