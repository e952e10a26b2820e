"""Supervision tasks (督办): assigned to an office with a due date, accepted, reported on, completed.

A task is overdue once its due date (a date in Asia/Shanghai) has passed before completion; it
stays marked overdue after a late completion, which is what task_on_time counts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.command_center.models import Task, TaskProgress
from services.common.db import utcnow
from services.common.errors import FailedPrecondition, NotFound, Violations

ASSIGNED, ACCEPTED, IN_PROGRESS, COMPLETED = "ASSIGNED", "ACCEPTED", "IN_PROGRESS", "COMPLETED"
OPEN_STATES = (ASSIGNED, ACCEPTED, IN_PROGRESS)
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_SOURCE = 64
MAX_DUE_DAYS = 3 * 366


@dataclass
class TaskInput:
    office_id: str
    title: str
    description: str
    source: str
    source_ref: str
    due_date: dt.date | None


def validate_task(data: TaskInput, today: dt.date) -> None:
    violations = Violations()
    if not data.office_id:
        violations.add("task.office_id", "must not be empty")
    if not data.title.strip():
        violations.add("task.title", "must not be empty")
    elif len(data.title) > MAX_TITLE:
        violations.add("task.title", f"at most {MAX_TITLE} characters")
    if len(data.description) > MAX_TEXT:
        violations.add("task.description", f"at most {MAX_TEXT} characters")
    if not data.source.strip():
        violations.add("task.source", "must not be empty (e.g. bureau, complaints.overdue)")
    elif len(data.source) > MAX_SOURCE:
        violations.add("task.source", f"at most {MAX_SOURCE} characters")
    if len(data.source_ref) > MAX_SOURCE:
        violations.add("task.source_ref", f"at most {MAX_SOURCE} characters")
    if data.due_date is None:
        violations.add("task.due_date", "required")
    elif data.due_date < today:
        violations.add("task.due_date", f"{data.due_date} is in the past (today is {today} in Asia/Shanghai)")
    elif (data.due_date - today).days > MAX_DUE_DAYS:
        violations.add("task.due_date", "more than three years ahead")
    violations.raise_if_any("invalid task")


def new_task(session: Session, data: TaskInput, today: dt.date) -> Task:
    validate_task(data, today)
    task = Task(id=str(uuid.uuid4()), office_id=data.office_id, title=data.title.strip(),
                description=data.description, source=data.source.strip(), source_ref=data.source_ref,
                due_date=data.due_date, state=ASSIGNED, overdue=False, created_at=utcnow(), version=1)
    session.add(task)
    session.flush()
    return task


def get_task(session: Session, task_id: str) -> Task:
    task = session.get(Task, task_id) if task_id else None
    if task is None:
        raise NotFound(f"task {task_id!r} not found")
    return task


def find_by_source(session: Session, source: str, source_ref: str) -> Task | None:
    return session.scalar(select(Task).where(Task.source == source, Task.source_ref == source_ref))


def accept(task: Task) -> None:
    if task.state != ASSIGNED:
        raise FailedPrecondition(f"task {task.id} is {task.state}; only an ASSIGNED task can be accepted")
    task.state = ACCEPTED
    task.accepted_at = utcnow()
    task.version += 1


def _check_note(note: str, *, required: bool) -> str:
    violations = Violations()
    if required and not note.strip():
        violations.add("note", "must not be empty")
    if len(note) > MAX_TEXT:
        violations.add("note", f"at most {MAX_TEXT} characters")
    violations.raise_if_any("invalid note")
    return note.strip()


def report_progress(session: Session, task: Task, note: str, reported_by: str) -> None:
    note = _check_note(note, required=True)
    if task.state not in (ACCEPTED, IN_PROGRESS):
        raise FailedPrecondition(f"task {task.id} is {task.state}; progress is reported on an accepted task")
    task.state = IN_PROGRESS
    task.version += 1
    session.add(TaskProgress(task_id=task.id, note=note, reported_at=utcnow(), reported_by=reported_by))


def complete(session: Session, task: Task, note: str, completed_by: str, today: dt.date) -> None:
    note = _check_note(note, required=False)
    if task.state not in (ACCEPTED, IN_PROGRESS):
        raise FailedPrecondition(f"task {task.id} is {task.state}; only an accepted task can be completed")
    task.state = COMPLETED
    task.completed_at = utcnow()
    task.completed_by = completed_by
    # A completion after the due date counts as late even if the sweep has not marked it yet.
    task.overdue = task.overdue or today > task.due_date
    task.version += 1
    if note:
        session.add(TaskProgress(task_id=task.id, note=note, reported_at=task.completed_at,
                                 reported_by=completed_by))


def progress_of(session: Session, task_ids: list[str]) -> dict[str, list[TaskProgress]]:
    result: dict[str, list[TaskProgress]] = {task_id: [] for task_id in task_ids}
    if task_ids:
        for row in session.scalars(select(TaskProgress).where(TaskProgress.task_id.in_(task_ids))
                                   .order_by(TaskProgress.id)):
            result[row.task_id].append(row)
    return result


def newly_overdue(session: Session, today: dt.date, limit: int = 500) -> list[Task]:
    """Open tasks whose due date has passed and that are not marked yet (oldest first)."""
    return list(session.scalars(select(Task).where(Task.state.in_(OPEN_STATES), Task.overdue.is_(False),
                                                   Task.due_date < today)
                                .order_by(Task.due_date, Task.id).limit(limit)))
