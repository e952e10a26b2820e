"""The indicators complaints contributes (docs/domain.md, "Indicator catalogue"), per office.

- acceptance_on_time / mediation_on_time: clocks met by their due date, over clocks that are met
  or already past due (a running clock still within its limit is not counted either way).
- satisfaction: 满意 and 基本满意 over all feedback, as the 12315 satisfaction rate counts them.
- backlog: a count, not a ratio: numerator = open items, denominator = 1. Summed over offices the
  numerators give the district's backlog; the district "value" is the mean per office.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.indicators import Reading
from services.complaints.domain.deadlines import LATE, MET, OVERDUE
from services.complaints.domain.rules import ACCEPTANCE, MEDIATION
from services.complaints.domain.states import OPEN_STATES
from services.complaints.models import Complaint, ComplaintDeadline, Office

ACCEPTANCE_ON_TIME = "complaints.acceptance_on_time"
MEDIATION_ON_TIME = "complaints.mediation_on_time"
SATISFACTION = "complaints.satisfaction"
BACKLOG = "complaints.backlog"
KEYS = (ACCEPTANCE_ON_TIME, MEDIATION_ON_TIME, SATISFACTION, BACKLOG)
SATISFIED = ("SATISFIED", "BASICALLY_SATISFIED")
_ON_TIME_KEY = {ACCEPTANCE: ACCEPTANCE_ON_TIME, MEDIATION: MEDIATION_ON_TIME}


def compute(session: Session, office_ids: list[str] | None) -> dict[str, list[Reading]]:
    """Readings per known office (the district queue is nobody's indicator), in a few grouped
    queries that the office indexes answer."""
    query = select(Office.id)
    if office_ids is not None:
        query = query.where(Office.id.in_(office_ids))
    offices = list(session.scalars(query))
    if not offices:
        return {}
    counts: dict[tuple[str, str], list[int]] = {}  # (office, key) -> [numerator, denominator]
    for office_id, kind, status, number in session.execute(
            select(ComplaintDeadline.office_id, ComplaintDeadline.kind, ComplaintDeadline.status, func.count())
            .where(ComplaintDeadline.office_id.in_(offices), ComplaintDeadline.kind.in_(list(_ON_TIME_KEY)),
                   ComplaintDeadline.status.in_([MET, LATE, OVERDUE]))
            .group_by(ComplaintDeadline.office_id, ComplaintDeadline.kind, ComplaintDeadline.status)):
        tally = counts.setdefault((office_id, _ON_TIME_KEY[kind]), [0, 0])
        tally[0] += int(number) if status == MET else 0
        tally[1] += int(number)
    for office_id, rating, number in session.execute(
            select(Complaint.office_id, Complaint.feedback_rating, func.count())
            .where(Complaint.office_id.in_(offices), Complaint.feedback_rating.is_not(None))
            .group_by(Complaint.office_id, Complaint.feedback_rating)):
        tally = counts.setdefault((office_id, SATISFACTION), [0, 0])
        tally[0] += int(number) if rating in SATISFIED else 0
        tally[1] += int(number)
    backlog = dict(session.execute(
        select(Complaint.office_id, func.count())
        .where(Complaint.office_id.in_(offices), Complaint.state.in_(OPEN_STATES))
        .group_by(Complaint.office_id)).all())
    readings: dict[str, list[Reading]] = {}
    for office_id in offices:
        readings[office_id] = [Reading(office_id, key, *counts.get((office_id, key), (0, 0)))
                               for key in (ACCEPTANCE_ON_TIME, MEDIATION_ON_TIME, SATISFACTION)]
        readings[office_id].append(Reading(office_id, BACKLOG, int(backlog.get(office_id, 0)), 1))
    return readings
