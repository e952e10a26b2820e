"""The indicators mobile_enforcement contributes (docs/domain.md, "Indicator catalogue"), per office.

A limit counts once it is met or has run out: a record still within its limit is neither on time
nor late yet, so it is in no denominator.

entities_supervised is a count, not a ratio: numerator = the entities in the office's directory
(its supervised population, the workload's "entities" input), denominator = 1. Summed over offices
the numerators give the district's directory.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from services.common.indicators import Reading
from services.mobile_enforcement.domain.vocabulary import COMPLETED, LEAD, UNDECIDED_STATES
from services.mobile_enforcement.models import Case, Entity, Inspection, Office

SPOT_CHECK_COMPLETION = "mobile_enforcement.spot_check_completion"
INSPECTION_CHECKLIST_COMPLETE = "mobile_enforcement.inspection_checklist_complete"
CASE_FILING_ON_TIME = "mobile_enforcement.case_filing_on_time"
CASE_CLOSING_ON_TIME = "mobile_enforcement.case_closing_on_time"
PUBLICATION_ON_TIME = "mobile_enforcement.publication_on_time"
ENTITIES_SUPERVISED = "mobile_enforcement.entities_supervised"
KEYS = (SPOT_CHECK_COMPLETION, INSPECTION_CHECKLIST_COMPLETE, CASE_FILING_ON_TIME, CASE_CLOSING_ON_TIME,
        PUBLICATION_ON_TIME, ENTITIES_SUPERVISED)


def _count(condition) -> object:
    return func.sum(case((condition, 1), else_=0))


def compute(session: Session, office_ids: list[str] | None) -> dict[str, list[Reading]]:
    """Readings per office, from the store as it is (a few grouped queries for all offices). Time
    moves them through the overdue flags, which the deadline sweep sets."""
    query = select(Office.id)
    if office_ids is not None:
        query = query.where(Office.id.in_(office_ids))
    offices = list(session.scalars(query))
    if not offices:
        return {}
    figures: dict[tuple[str, str], tuple[float, float]] = {}

    def add(key: str, rows) -> None:
        for office_id, numerator, denominator in rows:
            figures[(office_id, key)] = (float(numerator or 0), float(denominator or 0))

    completed = Inspection.state == COMPLETED
    add(SPOT_CHECK_COMPLETION, session.execute(
        select(Inspection.office_id, _count(completed), func.count())
        .where(Inspection.office_id.in_(offices), Inspection.plan_id.is_not(None)).group_by(Inspection.office_id)))
    add(INSPECTION_CHECKLIST_COMPLETE, session.execute(
        select(Inspection.office_id, _count(Inspection.evidence_complete.is_(True)), func.count())
        .where(Inspection.office_id.in_(offices), completed).group_by(Inspection.office_id)))

    filing_decided = Case.filing_decided_on.is_not(None)
    add(CASE_FILING_ON_TIME, session.execute(
        select(Case.office_id, _count(and_(filing_decided, Case.filing_overdue.is_(False))), func.count())
        .where(Case.office_id.in_(offices), or_(filing_decided, and_(Case.state == LEAD, Case.filing_overdue)))
        .group_by(Case.office_id)))
    # A filed case still undecided counts once its decision clock ran out, whichever step it is at.
    ordinary_decision = and_(Case.decided_on.is_not(None), Case.simplified.is_(False))
    undecided_late = and_(Case.state.in_(UNDECIDED_STATES), Case.closing_overdue)
    add(CASE_CLOSING_ON_TIME, session.execute(
        select(Case.office_id, _count(and_(ordinary_decision, Case.closing_overdue.is_(False))), func.count())
        .where(Case.office_id.in_(offices), or_(ordinary_decision, undecided_late))
        .group_by(Case.office_id)))

    publications: dict[str, tuple[float, float]] = {}
    for model in (Inspection, Case):
        published = model.published_at.is_not(None)
        for office_id, on_time, due in session.execute(
                select(model.office_id, _count(and_(published, model.publication_overdue.is_(False))), func.count())
                .where(model.office_id.in_(offices), or_(published, model.publication_overdue))
                .group_by(model.office_id)):
            done, total = publications.get(office_id, (0.0, 0.0))
            publications[office_id] = (done + float(on_time or 0), total + float(due or 0))
    for office_id, (on_time, due) in publications.items():
        figures[(office_id, PUBLICATION_ON_TIME)] = (on_time, due)

    directory = dict(session.execute(
        select(Entity.office_id, func.count()).where(Entity.office_id.in_(offices)).group_by(Entity.office_id)).all())
    for office_id in offices:  # an empty directory is a count of 0, still over 1
        figures[(office_id, ENTITIES_SUPERVISED)] = (float(directory.get(office_id, 0)), 1.0)

    return {office_id: [Reading(office_id, key, *figures.get((office_id, key), (0.0, 0.0))) for key in KEYS]
            for office_id in offices}
