"""command_center's use cases: each one transaction that changes state, writes its events and
refreshes the office indicators it moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.command_center import indicators
from services.command_center.domain import duty_list, offices, tasks
from services.command_center.domain.offices import OfficeInput, OfficerInput, OfficeView
from services.command_center.domain.tasks import TaskInput
from services.command_center.models import (
    DutyItem,
    Office,
    Officer,
    OfficeStreet,
    Outbox,
    RequestKey,
    Task,
    TaskProgress,
)
from services.common.access import office_scope, require_read, require_write
from services.common.context import BUREAU_LEADER, SYSTEM, Caller
from services.common.contracts import date_of
from services.common.db import Store
from services.common.errors import AlreadyExists
from services.common.events import EventWriter
from services.common.idempotency import run_once
from services.common.indicators import mark_dirty
from services.common.paging import Page, next_token
from services.common.working_days import WorkingDayCalendar
from supervision.command_center.v1 import events_pb2 as pb
from supervision.common.v1.events_pb2 import StatutoryClock

SOURCE = "command_center"
VIEW_CACHE_SIZE = 4096


@dataclass(frozen=True)
class TaskView:
    task: Task
    progress: list[TaskProgress]


@dataclass(frozen=True)
class ListResult:
    items: list
    next_page_token: str


class CommandCenter:
    def __init__(self, store: Store, today: Callable[[], dt.date], calendar: WorkingDayCalendar):
        self.store = store
        self.events = EventWriter(SOURCE, Outbox)
        self.today = today
        self.calendar = calendar
        self._views: dict[tuple[str, int, dt.date], OfficeView] = {}

    # ------------------------------------------------------------------ offices

    def create_office(self, caller: Caller, request_id: str, data: OfficeInput) -> OfficeView:
        require_write(caller, None, district_roles=(BUREAU_LEADER,))

        def create(session: Session) -> str:
            office = offices.create_office(session, data)
            self._office_event(session, pb.OfficeRegistered, office)
            mark_dirty(session, [office.id])
            return office.id

        return run_once(self.store, RequestKey, request_id, "CreateOffice", create, self._office_view)

    def update_office(self, caller: Caller, data: OfficeInput, mask: list[str], expected_version: int) -> OfficeView:
        require_write(caller, None, district_roles=(BUREAU_LEADER,))
        with self.store.transaction() as session:
            office = offices.update_office(session, data, mask, expected_version)
            self._office_event(session, pb.OfficeUpdated, office)
            return self._office_view(session, office.id)

    def get_office(self, caller: Caller, office_id: str) -> OfficeView:
        """Served from a cache valid for the registry generation and the day it was built at."""
        require_read(caller, office_id)
        with self.store.read_engine.connect() as connection:
            generation = offices.registry_generation(connection)
        key = (office_id, generation, self.today())
        view = self._views.get(key)
        if view is None:
            with self.store.read() as session:
                view = self._office_view(session, office_id)
            if len(self._views) >= VIEW_CACHE_SIZE:
                self._views.clear()  # old generations are never asked for again
            self._views[key] = view
        return view

    def list_offices(self, caller: Caller, page: Page, district: str | None, street: str | None) -> ListResult:
        scope = office_scope(caller, None)
        query = select(Office).where(Office.id > page.after).order_by(Office.id).limit(page.size)
        if scope:
            query = query.where(Office.id == scope)
        if district:
            query = query.where(Office.district == district)
        if street:
            query = query.where(Office.id.in_(select(OfficeStreet.office_id).where(OfficeStreet.street == street)))
        with self.store.read() as session:
            rows = list(session.scalars(query))
            views = offices.office_views(session, rows, self.today())
        return ListResult(views, next_token(rows[-1].id if rows else None, len(rows), page))

    def _office_view(self, session: Session, office_id: str) -> OfficeView:
        return offices.office_views(session, [offices.get_office(session, office_id)], self.today())[0]

    def _office_event(self, session: Session, message: type[pb.OfficeRegistered | pb.OfficeUpdated],
                      office: Office) -> None:
        """Records the whole office (OfficeRegistered or OfficeUpdated), so consumers keep their copy from it."""
        self.events.record(session, message(office_id=office.id, version=office.version, name=office.name,
                                            district=office.district, streets=offices.streets_of(session, office.id)),
                           aggregate_type="office", aggregate_id=office.id, version=office.version,
                           office_id=office.id)

    # ------------------------------------------------------------------ officers

    def register_officer(self, caller: Caller, request_id: str, data: OfficerInput) -> Officer:
        require_write(caller, data.office_id or None, district_roles=(BUREAU_LEADER,))

        def create(session: Session) -> str:
            officer = offices.register_officer(session, data, self.today())
            self._officer_event(session, pb.OfficerRegistered, officer)
            mark_dirty(session, [officer.office_id])
            return officer.id

        return run_once(self.store, RequestKey, request_id, "RegisterOfficer", create,
                        lambda session, officer_id: offices.get_officer(session, officer_id))

    def update_officer(self, caller: Caller, data: OfficerInput, mask: list[str], expected_version: int) -> Officer:
        with self.store.transaction() as session:
            current = offices.get_officer(session, data.id)
            require_write(caller, current.office_id)
            if data.office_id and data.office_id != current.office_id and "office_id" in (mask or ["office_id"]):
                require_write(caller, data.office_id)
            officer, previous_office = offices.update_officer(session, data, mask, expected_version, self.today())
            self._officer_event(session, pb.OfficerUpdated, officer)
            mark_dirty(session, sorted({officer.office_id, previous_office}))
            return officer

    def get_officer(self, caller: Caller, officer_id: str) -> Officer:
        with self.store.read() as session:
            officer = offices.get_officer(session, officer_id)
        require_read(caller, officer.office_id)
        return officer

    def list_officers(self, caller: Caller, page: Page, office_id: str | None, group: str | None,
                      certificate_valid: bool | None) -> ListResult:
        scope = office_scope(caller, office_id)
        query = select(Officer).where(Officer.id > page.after).order_by(Officer.id).limit(page.size)
        if scope:
            query = query.where(Officer.office_id == scope)
        if group:
            query = query.where(Officer.group == group)
        if certificate_valid is not None:
            valid = (Officer.certificate_no != "") & (Officer.certificate_expires >= self.today())
            query = query.where(valid if certificate_valid else ~valid | Officer.certificate_expires.is_(None))
        with self.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].id if rows else None, len(rows), page))

    def _officer_event(self, session: Session, message: type[pb.OfficerRegistered | pb.OfficerUpdated],
                       officer: Officer) -> None:
        """Records the whole officer (OfficerRegistered or OfficerUpdated)."""
        self.events.record(session, message(officer_id=officer.id, version=officer.version,
                                            office_id=officer.office_id, name=officer.name, group=officer.group,
                                            certificate_no=officer.certificate_no,
                                            certificate_expires=date_of(officer.certificate_expires)),
                           aggregate_type="officer", aggregate_id=officer.id, version=officer.version,
                           office_id=officer.office_id)

    # ------------------------------------------------------------------ duty list

    def import_duty_list(self, caller: Caller, request_id: str, content: bytes, file_format: str,
                         replace: bool) -> tuple[int, int]:
        require_write(caller, None, district_roles=(BUREAU_LEADER,))
        rows = duty_list.parse(content, file_format)

        def write(session: Session) -> str:
            total = duty_list.store(session, rows, replace=replace)
            mark_dirty(session, None)
            return f"{len(rows)}/{total}"

        result = run_once(self.store, RequestKey, request_id, "ImportDutyList", write, lambda _s, counts: counts)
        imported, total = result.split("/")
        return int(imported), int(total)

    def list_duty_items(self, page: Page, category: str | None, level: str | None, group: str | None) -> ListResult:
        query = select(DutyItem).where(DutyItem.code > page.after).order_by(DutyItem.code).limit(page.size)
        if category:
            query = query.where(DutyItem.category == category)
        if level:
            query = query.where(DutyItem.responsible_level == level)
        if group:
            query = query.where(DutyItem.group == group)
        with self.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].code if rows else None, len(rows), page))

    # ------------------------------------------------------------------ tasks

    def create_task(self, caller: Caller, request_id: str, data: TaskInput) -> TaskView:
        require_write(caller, None, district_roles=(BUREAU_LEADER,))

        def create(session: Session) -> str:
            offices.get_office(session, data.office_id)
            existing = tasks.find_by_source(session, data.source.strip(), data.source_ref) if data.source_ref else None
            if existing is not None:
                raise AlreadyExists(f"{data.source} {data.source_ref} already has task {existing.id}")
            return self._assign(session, data).id

        return run_once(self.store, RequestKey, request_id, "CreateTask", create, self._task_view)

    def raise_task_for(self, session: Session, data: TaskInput) -> Task | None:
        """Called by event handlers: one task per source record, whatever the redeliveries."""
        if tasks.find_by_source(session, data.source, data.source_ref) is not None:
            return None
        if session.get(Office, data.office_id) is None:
            return None
        return self._assign(session, data)

    def _assign(self, session: Session, data: TaskInput) -> Task:
        task = tasks.new_task(session, data, self.today())
        self._task_event(session, pb.TaskAssigned, task)
        mark_dirty(session, [task.office_id])
        return task

    def get_task(self, caller: Caller, task_id: str) -> TaskView:
        with self.store.read() as session:
            view = self._task_view(session, task_id)
        require_read(caller, view.task.office_id)
        return view

    def accept_task(self, caller: Caller, task_id: str) -> TaskView:
        return self._transition(caller, task_id, lambda session, task: tasks.accept(task), None)

    def report_progress(self, caller: Caller, task_id: str, note: str) -> TaskView:
        return self._transition(caller, task_id,
                                lambda session, task: tasks.report_progress(session, task, note, caller.subject),
                                None)

    def complete_task(self, caller: Caller, task_id: str, note: str) -> TaskView:
        return self._transition(
            caller, task_id,
            lambda session, task: tasks.complete(session, task, note, caller.subject, self.today()),
            pb.TaskCompleted)

    def _transition(self, caller: Caller, task_id: str, change, message: type[pb.TaskCompleted] | None) -> TaskView:
        with self.store.transaction() as session:
            task = tasks.get_task(session, task_id)
            require_write(caller, task.office_id)
            change(session, task)
            if message:
                self._task_event(session, message, task)
                mark_dirty(session, [task.office_id])
            return self._task_view(session, task.id)

    def list_tasks(self, caller: Caller, page: Page, office_id: str | None, state: str | None,
                   overdue: bool | None, source: str | None) -> ListResult:
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
        with self.store.read() as session:
            rows = list(session.scalars(query))
            progress = tasks.progress_of(session, [t.id for t in rows])
        return ListResult([TaskView(t, progress[t.id]) for t in rows],
                          next_token(rows[-1].id if rows else None, len(rows), page))

    def sweep_overdue(self) -> int:
        """Marks tasks whose due date passed, publishes TaskOverdue, and refreshes every office's
        indicators (certificates expire with time too). Returns how many tasks became overdue."""
        today = self.today()
        with self.store.transaction() as session:
            overdue = tasks.newly_overdue(session, today)
            for task in overdue:
                task.overdue = True
                task.version += 1
                self._task_event(session, pb.TaskOverdue, task)
            mark_dirty(session, None)
        return len(overdue)

    def _task_view(self, session: Session, task_id: str) -> TaskView:
        task = tasks.get_task(session, task_id)
        return TaskView(task, tasks.progress_of(session, [task.id])[task.id])

    def _task_event(self, session: Session,
                    message: type[pb.TaskAssigned | pb.TaskOverdue | pb.TaskCompleted], task: Task) -> None:
        """Records the task as it now stands; a TaskCompleted also carries the evidence of the work
        (who gets the credit, the day, and whether the due date was met)."""
        event = message(task_id=task.id, version=task.version, office_id=task.office_id, title=task.title,
                        source=task.source, source_ref=task.source_ref, due_date=date_of(task.due_date),
                        state=task.state, overdue=task.overdue)
        if isinstance(event, pb.TaskCompleted):
            completed_on = self.today()
            event.completed_by = task.completed_by
            # The system closing a task is no officer's work.
            if task.completed_by not in ("", SYSTEM):
                event.officer_ids.append(task.completed_by)
            event.completed_on.CopyFrom(date_of(completed_on))
            event.clocks.append(StatutoryClock(clock="due_date", due_date=date_of(task.due_date),
                                               met=completed_on <= task.due_date))
        self.events.record(session, event, aggregate_type="task", aggregate_id=task.id, version=task.version,
                           office_id=task.office_id)

    # ------------------------------------------------------------------ indicators

    def compute_indicators(self, session: Session, office_ids: list[str] | None):
        return indicators.compute(session, office_ids, self.today())
