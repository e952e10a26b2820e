"""The indicators command_center contributes (docs/domain.md, "Indicator catalogue")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.command_center.domain.groups import GROUPS
from services.command_center.domain.tasks import COMPLETED, OPEN_STATES
from services.command_center.models import DutyItem, Office, Officer, OfficeResponsibility, Task
from services.common.business_metrics import ItemCount
from services.common.indicators import Reading

DUTY_COVERAGE = "command_center.duty_coverage"
GROUP_STAFFING = "command_center.group_staffing"
TASK_ON_TIME = "command_center.task_on_time"
CERTIFICATES_VALID = "command_center.certificates_valid"
KEYS = (DUTY_COVERAGE, GROUP_STAFFING, TASK_ON_TIME, CERTIFICATES_VALID)


def compute(session: Session, office_ids: list[str] | None, today: dt.date) -> dict[str, list[Reading]]:
    """Readings per office, from the store as it is (a handful of grouped queries for all offices)."""
    query = select(Office.id)
    if office_ids is not None:
        query = query.where(Office.id.in_(office_ids))
    offices = list(session.scalars(query))
    if not offices:
        return {}
    valid = (Officer.certificate_no != "") & (Officer.certificate_expires >= today)
    officers: dict[str, tuple[int, int]] = {}
    certified_groups: dict[str, set[str]] = {o: set() for o in offices}
    for office_id, group, total, certified in session.execute(
            select(Officer.office_id, Officer.group, func.count(), func.sum(case((valid, 1), else_=0)))
            .where(Officer.office_id.in_(offices)).group_by(Officer.office_id, Officer.group)):
        all_, cert = officers.get(office_id, (0, 0))
        officers[office_id] = (all_ + int(total), cert + int(certified or 0))
        if certified:
            certified_groups[office_id].add(group)

    # An office answers for the office-level items that apply to every office and those under the
    # scopes it declares (a wet market, an industrial zone...); it covers such an item when the
    # group responsible for it is staffed there with at least one certified officer.
    office_duties = [(group, scope, int(n)) for group, scope, n in session.execute(
        select(DutyItem.group, DutyItem.applies_to, func.count()).where(DutyItem.responsible_level == "OFFICE")
        .group_by(DutyItem.group, DutyItem.applies_to))]
    declared: dict[str, set[str]] = {o: {""} for o in offices}
    for office_id, scope in session.execute(select(OfficeResponsibility.office_id, OfficeResponsibility.scope)
                                            .where(OfficeResponsibility.office_id.in_(offices))):
        declared[office_id].add(scope)

    on_time = case((Task.overdue.is_(False), 1), else_=0)
    tasks: dict[str, tuple[int, int]] = {}
    for office_id, state, overdue, completed_on_time, count in session.execute(
            select(Task.office_id, Task.state, Task.overdue, func.sum(on_time), func.count())
            .where(Task.office_id.in_(offices)).group_by(Task.office_id, Task.state, Task.overdue)):
        done, due = tasks.get(office_id, (0, 0))
        if state == COMPLETED:
            tasks[office_id] = (done + int(completed_on_time or 0), due + int(count))
        elif overdue:
            tasks[office_id] = (done, due + int(count))

    readings: dict[str, list[Reading]] = {}
    for office_id in offices:
        staffed = certified_groups[office_id]
        own = [(group, n) for group, scope, n in office_duties if scope in declared[office_id]]
        covered = sum(n for group, n in own if group in staffed)
        duty_total = sum(n for _, n in own)
        done, due = tasks.get(office_id, (0, 0))
        total, certified = officers.get(office_id, (0, 0))
        readings[office_id] = [
            Reading(office_id, DUTY_COVERAGE, covered, duty_total),
            Reading(office_id, GROUP_STAFFING, len(staffed & set(GROUPS)), len(GROUPS)),
            Reading(office_id, TASK_ON_TIME, done, due),
            Reading(office_id, CERTIFICATES_VALID, certified, total),
        ]
    return readings


def item_counts(session: Session, today: dt.date) -> list[ItemCount]:
    """Open supervision tasks and the overdue ones, per office (business gauges)."""
    overdue = case((Task.due_date < today, 1), else_=0)
    return [ItemCount("task", office_id, int(total), int(late or 0))
            for office_id, total, late in session.execute(
                select(Task.office_id, func.count(), func.sum(overdue))
                .where(Task.state.in_(OPEN_STATES)).group_by(Task.office_id))]
