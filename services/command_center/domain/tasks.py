"""Supervision tasks (督办): assigned to an office with a due date, accepted, reported on, completed.

A task is overdue once its due date (a date in Asia/Shanghai) has passed before completion; it
stays marked overdue after a late completion, which is what task_on_time counts.

A task an event raised is due a number of working days after the day it was raised. When that
count crosses a year without a published holiday schedule the date is provisional, and the recount
counts it again (same start, same working days) once the calendar in use changes.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.command_center.domain.offices import get_office
from services.command_center.domain.workspace import Workspace
from services.command_center.models import Office, RequestKey, Task, TaskProgress
from services.common.access import office_scope, require_read, require_write
from services.common.context import BUREAU_LEADER, SYSTEM, Caller
from services.common.contracts import date_of
from services.common.db import utcnow
from services.common.errors import AlreadyExists, FailedPrecondition, NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.common.recount import Recount
from services.common.working_days import DueDate
from supervision.command_center.v1 import events_pb2 as pb
from supervision.common.v1.events_pb2 import StatutoryClock

ASSIGNED, ACCEPTED, IN_PROGRESS, COMPLETED = "ASSIGNED", "ACCEPTED", "IN_PROGRESS", "COMPLETED"
OPEN_STATES = (ASSIGNED, ACCEPTED, IN_PROGRESS)
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_SOURCE = 64
MAX_DUE_DAYS = 3 * 366
# DeadlineRecomputed.subject_type and .clock for a task's due date (the clock TaskCompleted names).
TASK_SUBJECT, DUE_DATE_CLOCK = "task", "due_date"

log = logging.getLogger(__name__)


@dataclass
class TaskInput:
    """A task as the bureau or an event handler raises it."""

    office_id: str
    title: str
    description: str
    source: str
    source_ref: str
    due_date: dt.date | None
    # Set when the due date was counted in working days: the day the count started, how many, and
    # whether the count crossed a year without a published holiday schedule.
    due_counted_from: dt.date | None = None
    due_working_days: int = 0
    due_date_provisional: bool = False

    @classmethod
    def counted(cls, office_id: str, title: str, description: str, source: str, source_ref: str,
                start: dt.date, working_days: int, due: DueDate) -> TaskInput:
        """A task due `working_days` after `start`, as the calendar counted it (`due`)."""
        return cls(office_id=office_id, title=title, description=description, source=source, source_ref=source_ref,
                   due_date=due.date, due_counted_from=start, due_working_days=working_days,
                   due_date_provisional=due.provisional)


@dataclass(frozen=True)
class TaskView:
    """A task with the progress reported on it, oldest first."""

    task: Task
    progress: list[TaskProgress]


def validate_task(data: TaskInput, today: dt.date) -> None:
    """Refuses a task without office, title or source, or with a due date not in the next three years."""
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
    """A new ASSIGNED task, checked by validate_task."""
    validate_task(data, today)
    task = Task(id=str(uuid.uuid4()), office_id=data.office_id, title=data.title.strip(),
                description=data.description, source=data.source.strip(), source_ref=data.source_ref,
                due_date=data.due_date, state=ASSIGNED, overdue=False, created_at=utcnow(), version=1,
                due_date_provisional=data.due_date_provisional, due_counted_from=data.due_counted_from,
                due_working_days=data.due_working_days)
    session.add(task)
    session.flush()
    return task


def get_task(session: Session, task_id: str) -> Task:
    """The stored task, or NotFound."""
    task = session.get(Task, task_id) if task_id else None
    if task is None:
        raise NotFound(f"task {task_id!r} not found")
    return task


def find_by_source(session: Session, source: str, source_ref: str) -> Task | None:
    """The task raised for a source record (one per record), if any."""
    return session.scalar(select(Task).where(Task.source == source, Task.source_ref == source_ref))


def accept(task: Task) -> None:
    """The office takes on an ASSIGNED task."""
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
    """Adds a progress note to an accepted task, which is then IN_PROGRESS."""
    note = _check_note(note, required=True)
    if task.state not in (ACCEPTED, IN_PROGRESS):
        raise FailedPrecondition(f"task {task.id} is {task.state}; progress is reported on an accepted task")
    task.state = IN_PROGRESS
    task.version += 1
    session.add(TaskProgress(task_id=task.id, note=note, reported_at=utcnow(), reported_by=reported_by))


def complete(session: Session, task: Task, note: str, completed_by: str, today: dt.date) -> None:
    """Completes an accepted task, crediting `completed_by`; late if past its due date."""
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


def progress_of(session: Session, task_ids: Sequence[str]) -> dict[str, list[TaskProgress]]:
    """The progress reported on each task, oldest first."""
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


class Tasks:
    """Supervision tasks (督办): raised by the bureau or by events, worked on by an office, swept for deadlines."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def create_task(self, caller: Caller, request_id: str, data: TaskInput) -> TaskView:
        """The bureau assigns a task to an office (one per source record), once per request id."""
        require_write(caller, None, district_roles=(BUREAU_LEADER,))

        def create(session: Session) -> str:
            get_office(session, data.office_id)
            existing = find_by_source(session, data.source.strip(), data.source_ref) if data.source_ref else None
            if existing is not None:
                raise AlreadyExists(f"{data.source} {data.source_ref} already has task {existing.id}")
            return self._assign(session, data).id

        return run_once(self.workspace.store, RequestKey, request_id, "CreateTask", create, self._view)

    def raise_task_for(self, session: Session, data: TaskInput) -> Task | None:
        """Raises the task for a source record an event reported, once whatever the redeliveries."""
        if find_by_source(session, data.source, data.source_ref) is not None:
            return None
        if session.get(Office, data.office_id) is None:
            return None
        return self._assign(session, data)

    def get_task(self, caller: Caller, task_id: str) -> TaskView:
        """One task with its progress, for a caller who may read its office."""
        with self.workspace.store.read() as session:
            view = self._view(session, task_id)
        require_read(caller, view.task.office_id)
        return view

    def accept_task(self, caller: Caller, task_id: str) -> TaskView:
        """The office accepts a task assigned to it."""
        return self._transition(caller, task_id, lambda session, task: accept(task), None)

    def report_progress(self, caller: Caller, task_id: str, note: str) -> TaskView:
        """The office reports progress on a task it accepted."""
        return self._transition(caller, task_id,
                                lambda session, task: report_progress(session, task, note, caller.subject), None)

    def complete_task(self, caller: Caller, task_id: str, note: str) -> TaskView:
        """The office completes a task; the caller gets the credit for the work."""
        return self._transition(
            caller, task_id,
            lambda session, task: complete(session, task, note, caller.subject, self.workspace.today()),
            pb.TaskCompleted)

    def list_tasks(self, caller: Caller, page: Page, office_id: str | None, state: str | None,
                   overdue: bool | None, source: str | None) -> ListResult[TaskView]:
        """The tasks the caller may see, by office, state, overdue or source."""
        scope = office_scope(caller, office_id)
        query = select(Task).where(Task.id > page.after).order_by(Task.id).limit(page.size)
        if scope:
            query = query.where(Task.office_id == scope)
        if state:
            query = query.where(Task.state == state)
        if overdue is not None:
            query = query.where(Task.overdue.is_(overdue))
        if source:
            query = query.where(Task.source == source)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
            progress = progress_of(session, [t.id for t in rows])
        return ListResult([TaskView(t, progress[t.id]) for t in rows],
                          next_token(rows[-1].id if rows else None, len(rows), page))

    def sweep_overdue(self) -> int:
        """Marks tasks past their due date overdue (TaskOverdue); returns how many became overdue."""
        today = self.workspace.today()
        with self.workspace.store.transaction() as session:
            overdue = newly_overdue(session, today)
            for task in overdue:
                task.overdue = True
                task.version += 1
                self._record(session, pb.TaskOverdue, task)
            # Every office's indicators: certificates expire with time alone, tasks or not.
            self.workspace.touched(session, None)
        return len(overdue)

    def recount_provisional(self) -> list[Recount]:
        """Counts every open task's provisional due date again on the calendar in use (the same start
        and working days it was raised with); each one that moved is stored and published as
        DeadlineRecomputed. Run by one replica under the timer's lease."""
        with self.workspace.store.read() as session:
            task_ids = list(session.scalars(select(Task.id).where(
                Task.state.in_(OPEN_STATES), Task.overdue.is_(False), Task.due_date_provisional.is_(True),
                Task.due_counted_from.is_not(None)).order_by(Task.id)))
        moved: list[Recount] = []
        for task_id in task_ids:
            # One transaction per task: a task that fails to count does not hold back the others.
            with self.workspace.store.transaction() as session:
                task = session.get(Task, task_id, with_for_update=True)
                recount = self._recount(session, task) if task is not None else None
                if recount is not None:
                    moved.append(recount)
        if moved:
            log.info("provisional task due dates recounted",
                     extra={"moved": [(r.subject_id, r.current.date.isoformat()) for r in moved]})
        return moved

    def _recount(self, session: Session, task: Task) -> Recount | None:
        if (task.state not in OPEN_STATES or task.overdue or not task.due_date_provisional
                or task.due_counted_from is None):
            return None
        due = self.workspace.calendar.add_working_days(task.due_counted_from, task.due_working_days)
        # The policy has no rule-set ids: the task keeps the working days it was raised with.
        recount = Recount(TASK_SUBJECT, task.id, "", task.office_id, DUE_DATE_CLOCK, "",
                          DueDate(task.due_date, True), due)
        if not recount.moved:
            return None
        task.due_date, task.due_date_provisional = due.date, due.provisional
        task.version += 1
        self.workspace.events.record(session, recount.event(), aggregate_type=TASK_SUBJECT, aggregate_id=task.id,
                                     version=task.version, office_id=task.office_id)
        self.workspace.touched(session, [task.office_id])
        return recount

    def _assign(self, session: Session, data: TaskInput) -> Task:
        task = new_task(session, data, self.workspace.today())
        self._record(session, pb.TaskAssigned, task)
        self.workspace.touched(session, [task.office_id])
        return task

    def _transition(self, caller: Caller, task_id: str, change: Callable[[Session, Task], None],
                    message: type[pb.TaskCompleted] | None) -> TaskView:
        with self.workspace.store.transaction() as session:
            task = get_task(session, task_id)
            require_write(caller, task.office_id)
            change(session, task)
            if message:
                self._record(session, message, task)
                self.workspace.touched(session, [task.office_id])
            return self._view(session, task.id)

    def _view(self, session: Session, task_id: str) -> TaskView:
        task = get_task(session, task_id)
        return TaskView(task, progress_of(session, [task.id])[task.id])

    def _record(self, session: Session, message: type[pb.TaskAssigned | pb.TaskOverdue | pb.TaskCompleted],
                task: Task) -> None:
        """Records the task as it now stands; a TaskCompleted also carries the evidence of the work
        (who gets the credit, the day, and whether the due date was met)."""
        event = message(task_id=task.id, version=task.version, office_id=task.office_id, title=task.title,
                        source=task.source, source_ref=task.source_ref, due_date=date_of(task.due_date),
                        state=task.state, overdue=task.overdue, due_date_provisional=task.due_date_provisional)
        if isinstance(event, pb.TaskCompleted):
            completed_on = self.workspace.today()
            event.completed_by = task.completed_by
            # The system closing a task is no officer's work.
            if task.completed_by not in ("", SYSTEM):
                event.officer_ids.append(task.completed_by)
            event.completed_on.CopyFrom(date_of(completed_on))
            event.clocks.append(StatutoryClock(clock=DUE_DATE_CLOCK, due_date=date_of(task.due_date),
                                               met=completed_on <= task.due_date,
                                               provisional=task.due_date_provisional))
        self.workspace.events.record(session, event, aggregate_type="task", aggregate_id=task.id,
                                     version=task.version, office_id=task.office_id)
