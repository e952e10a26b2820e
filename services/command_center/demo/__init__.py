"""The demo district, loaded by `make run` into an empty store (never over existing data), or finished
after an interrupted load (services.common.demo)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from sqlalchemy import select, update

from services.command_center.domain.duty_list import DutyList
from services.command_center.domain.groups import GROUPS
from services.command_center.domain.officers import OfficerInput, Officers
from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.tasks import ACCEPTED, ASSIGNED, IN_PROGRESS, TaskInput, Tasks
from services.command_center.domain.workspace import Workspace
from services.command_center.models import DemoLoad, Office, Task
from services.common.context import SYSTEM_CALLER
from services.common.demo import DemoOutcome, run_demo

HERE = Path(__file__).parent


def load_demo(workspace: Workspace, offices: Offices, officers: Officers, duty_list: DutyList,
              tasks: Tasks) -> DemoOutcome:
    """Loads the demo district into an empty store, or finishes an interrupted load."""

    def is_empty(session) -> bool:
        return session.scalar(select(Office.id).limit(1)) is None

    def load(skipped: list[str]) -> None:
        district = yaml.safe_load((HERE / "district.yaml").read_text(encoding="utf-8"))
        duty_list.import_duty_list(SYSTEM_CALLER, "demo-duty-list", (HERE / "duty_list.csv").read_bytes(),
                                   "CSV", replace=True)
        today = workspace.today()
        names = _names(district["surnames"], district["given_names"])
        for number, office in enumerate(district["offices"], start=1):
            offices.create_office(SYSTEM_CALLER, f"demo-office-{office['id']}",
                                  OfficeInput(id=office["id"], name=office["name"], district=district["district"],
                                              streets=office["streets"], duty_scopes=office.get("duty_scopes", [])))
            _officers(officers, office["id"], number, names, today, office.get("uncertified_groups", []))
            _tasks(workspace, tasks, office["id"], number, today)
        _backdate_some_tasks(workspace, today)
        tasks.sweep_overdue()

    return run_demo(workspace.store, DemoLoad, is_empty=is_empty, load=load)


def _names(surnames: list[str], given: list[str]):
    index = 0
    while True:
        yield surnames[index % len(surnames)] + given[(index * 7) % len(given)]
        index += 1


def _officers(officers: Officers, office_id: str, number: int, names, today: dt.date,
              uncertified_groups: list[str]) -> None:
    """Two officers per group; a few certificates near or past expiry, one officer without one,
    and the groups the office staffed only lately without any."""
    for seat, group in enumerate(list(GROUPS) * 2):
        officer_id = f"{office_id}-{seat + 1:02d}"
        expires: dt.date | None = today + dt.timedelta(days=180 + 97 * seat + 11 * number)
        certificate = f"SH{number:02d}{seat + 1:02d}{2024 + seat % 3}"
        if seat == 7 and number % 3 == 0:
            expires = today + dt.timedelta(days=12)  # about to expire: the dashboard warns
        if seat == 6 and number % 4 == 1:
            expires = today - dt.timedelta(days=20)  # expired: indicator below target
        if seat == 3 and number % 5 == 2:
            certificate, expires = "", None  # newly hired, not certified yet
        if group in uncertified_groups:
            certificate, expires = "", None
        officers.register_officer(SYSTEM_CALLER, f"demo-officer-{officer_id}",
                                  OfficerInput(id=officer_id, name=next(names), office_id=office_id, group=group,
                                               certificate_no=certificate, certificate_expires=expires))


def _tasks(workspace: Workspace, tasks: Tasks, office_id: str, number: int, today: dt.date) -> None:
    titles = ["督办：农贸市场整治回头看", "督办：校园周边食品安全专项检查", "督办：电梯维保专项检查",
              "督办：预付卡纠纷集中处置"]
    created = []
    for index, title in enumerate(titles):
        view = tasks.create_task(SYSTEM_CALLER, f"demo-task-{office_id}-{index}", TaskInput(
            office_id=office_id, title=title, description="区局督办事项（演示数据）", source="bureau",
            source_ref=f"DB-{number:02d}{index}", due_date=today + dt.timedelta(days=5 + 7 * index)))
        created.append(view.task.id)
    # Each step only from the state before it: a load resumed after an interruption does none twice.
    if _state(workspace, created[0]) == ASSIGNED:
        tasks.accept_task(SYSTEM_CALLER, created[0])
    if _state(workspace, created[0]) in (ACCEPTED, IN_PROGRESS):
        tasks.complete_task(SYSTEM_CALLER, created[0], "已完成整改并复查")
    if _state(workspace, created[1]) == ASSIGNED:
        tasks.accept_task(SYSTEM_CALLER, created[1])
    if _state(workspace, created[1]) == ACCEPTED:
        tasks.report_progress(SYSTEM_CALLER, created[1], "已完成辖区内12所学校周边排查")
    if number % 2 == 0 and _state(workspace, created[2]) == ASSIGNED:
        tasks.accept_task(SYSTEM_CALLER, created[2])


def _state(workspace: Workspace, task_id: str) -> str:
    with workspace.store.read() as session:
        return session.scalars(select(Task.state).where(Task.id == task_id)).one()


def _backdate_some_tasks(workspace: Workspace, today: dt.date) -> None:
    """A district mid-stream has overdue tasks; the sweep then marks them as it would in production."""
    with workspace.store.transaction() as session:
        session.execute(update(Task).where(Task.source_ref.in_(["DB-033", "DB-073", "DB-113", "DB-142"]))
                        .values(due_date=today - dt.timedelta(days=3)))
