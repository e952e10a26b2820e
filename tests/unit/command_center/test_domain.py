"""command_center's rules without a server: duty-list parsing, the task state machine, indicators."""

from __future__ import annotations

import datetime as dt

import pytest

from services.command_center import indicators
from services.command_center.domain import duty_list, tasks
from services.command_center.domain.duty_list import DutyList
from services.command_center.domain.officers import OfficerInput, Officers
from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.tasks import TaskInput, Tasks
from services.command_center.domain.workspace import Workspace
from services.command_center.models import Base, Office, Task
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.working_days import WorkingDayCalendar

TODAY = dt.date(2026, 11, 2)
HEADER = "code,title,category,legal_basis,responsible_level,group\n"


def test_csv_rows_keep_their_line_numbers():
    rows = duty_list.parse((HEADER + "A-1,标题,食品安全,依据,office,supervision\nB-2,标题,计量,依据,BUREAU,\n")
                           .encode(), "CSV")
    assert [(r.line, r.code, r.responsible_level, r.group) for r in rows] == [
        (2, "A-1", "OFFICE", "SUPERVISION"), (3, "B-2", "BUREAU", "")]


def test_a_quoted_csv_field_spanning_lines_reports_the_line_it_ends_on():
    content = HEADER + 'A-1,"多行\n标题",食品安全,依据,OFFICE,\n,缺编码,食品安全,依据,OFFICE,\n'
    with pytest.raises(InvalidArgument) as raised:
        duty_list.parse(content.encode(), "CSV")
    assert [v.field for v in raised.value.violations] == ["rows[4].code"]


def test_yaml_rows_are_numbered_by_their_line_in_the_file():
    content = "items:\n  - code: A-1\n    title: t\n    category: c\n    legal_basis: b\n" \
              "    responsible_level: OFFICE\n  - code: B 2\n    title: t\n    category: c\n" \
              "    legal_basis: b\n    responsible_level: OFFICE\n    color: red\n"
    with pytest.raises(InvalidArgument) as raised:
        duty_list.parse(content.encode(), "YAML")
    assert {v.field for v in raised.value.violations} == {"rows[7]", "rows[7].code"}


def test_an_empty_file_and_an_oversized_file_are_refused():
    with pytest.raises(InvalidArgument):
        duty_list.parse(HEADER.encode(), "CSV")
    with pytest.raises(InvalidArgument):
        duty_list.parse(b"x" * (duty_list.MAX_BYTES + 1), "CSV")


def make_task(state=tasks.ASSIGNED, due=TODAY) -> Task:
    return Task(id="t1", office_id="MH01", title="t", description="", source="bureau", source_ref="",
                due_date=due, state=state, overdue=False, version=1, created_at=dt.datetime.now(dt.UTC))


def test_only_an_assigned_task_can_be_accepted():
    task = make_task()
    tasks.accept(task)
    assert (task.state, task.version) == (tasks.ACCEPTED, 2)
    with pytest.raises(FailedPrecondition):
        tasks.accept(task)


def test_a_late_completion_counts_as_overdue_even_before_the_sweep(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'cc.db'}")
    Base.metadata.create_all(store.engine)
    with store.transaction() as session:
        session.add(Office(id="MH01", name="所", district="区", created_at=dt.datetime.now(dt.UTC),
                           updated_at=dt.datetime.now(dt.UTC), version=1))
        task = make_task(state=tasks.ACCEPTED, due=TODAY)
        session.add(task)
        tasks.complete(session, task, "", "u1", TODAY + dt.timedelta(days=1))
        assert task.overdue and task.state == tasks.COMPLETED
    store.dispose()


@pytest.mark.parametrize(("due", "field_fragment"), [(TODAY - dt.timedelta(days=1), "in the past"),
                                                      (TODAY + dt.timedelta(days=1200), "three years"),
                                                      (None, "required")])
def test_task_due_dates_are_checked(due, field_fragment):
    with pytest.raises(InvalidArgument) as raised:
        tasks.validate_task(TaskInput("MH01", "t", "", "bureau", "", due), TODAY)
    assert field_fragment in raised.value.violations[0].description


def test_indicators_count_certified_groups_duties_and_tasks(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'cc.db'}")
    Base.metadata.create_all(store.engine)
    today = {"value": TODAY}
    workspace = Workspace(store, lambda: today["value"], WorkingDayCalendar.load())
    officers = Officers(workspace)
    DutyList(workspace).import_duty_list(
        SYSTEM_CALLER, "", (HEADER + "A,t,c,b,OFFICE,SUPERVISION\nB,t,c,b,OFFICE,GENERAL\n"
                            "C,t,c,b,OFFICE,\nD,t,c,b,BUREAU,GENERAL\n").encode(), "CSV", True)
    Offices(workspace).create_office(SYSTEM_CALLER, "", OfficeInput("MH01", "所", "区", ["镇"]))
    officers.register_officer(SYSTEM_CALLER, "", OfficerInput("o1", "甲", "MH01", "SUPERVISION", "SH01",
                                                              TODAY + dt.timedelta(days=3)))
    officers.register_officer(SYSTEM_CALLER, "", OfficerInput("o2", "乙", "MH01", "GENERAL", "SH02",
                                                              TODAY - dt.timedelta(days=1)))
    with store.read() as session:
        readings = {r.key: (r.numerator, r.denominator) for r in indicators.compute(session, None, TODAY)["MH01"]}
    assert readings == {
        indicators.DUTY_COVERAGE: (1, 3),  # only SUPERVISION is staffed with a valid certificate
        indicators.GROUP_STAFFING: (1, 4),
        indicators.TASK_ON_TIME: (0, 0),  # nothing due yet: no data, not zero
        indicators.CERTIFICATES_VALID: (1, 2),
    }
    today["value"] = TODAY + dt.timedelta(days=4)  # o1's certificate expires with time alone
    Tasks(workspace).sweep_overdue()
    with store.read() as session:
        readings = {r.key: r.numerator for r in indicators.compute(session, ["MH01"], today["value"])["MH01"]}
    assert readings[indicators.CERTIFICATES_VALID] == 0 and readings[indicators.GROUP_STAFFING] == 0
    store.dispose()
