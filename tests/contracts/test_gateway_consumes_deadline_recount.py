"""DeadlineRecomputed, produced by complaints' sweep and by mobile_enforcement's and command_center's
recounts (their own code, through gRPC and their outboxes) once the operator's calendar file gains
2027 while they run, consumed by the gateway as a line of its live feed (动态)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.common import contracts
from services.common.calendar_reload import reload_all
from services.common.clock import SHANGHAI
from services.common.working_days import WorkingDayCalendar
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.complaints.v1 import complaints_pb2 as cp_pb
from supervision.complaints.v1 import complaints_pb2_grpc as cp_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me_pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc
from tests.contracts.test_gateway_consumes import Gateway, create_office, register_officer
from tests.contracts.test_gateway_feed_consumes import COMPLAINTS_OFFICE, feed, file_complaint, run_timer
from tests.support import Clock

WITHOUT_2027 = "years:\n  2030:\n    holidays: [2030-01-01]\n    workdays: []\n"
# New Year's Day a holiday: every weekends-only count past it ends one working day later.
WITH_2027 = WITHOUT_2027 + "  2027:\n    holidays: [2027-01-01]\n    workdays: []\n"


@pytest.fixture
def recounting(center, tmp_path):
    """recounting(*publishers, today=day) -> (their Center on a calendar file without 2027, the file, the
    Gateway). The days are fixed: the bundled calendar ends with 2026, as the clocks' counts assume."""
    schedule = tmp_path / "calendar.yaml"
    schedule.write_text(WITHOUT_2027, encoding="utf-8")
    gateways: list[Gateway] = []

    def make(*publishers: str, today: dt.date):
        hosted = center(*publishers, clock=Clock(today), WORKING_CALENDAR_FILE=str(schedule))
        gateway = Gateway(hosted)
        gateways.append(gateway)
        return hosted, schedule, gateway

    yield make
    try:
        for gateway in gateways:
            assert gateway.parked() == []
    finally:
        for gateway in gateways:
            gateway.close()


def publish_2027(schedule: Path) -> WorkingDayCalendar:
    """The operator adds 2027 to the file and signals the processes (what SIGHUP does)."""
    schedule.write_text(WITH_2027, encoding="utf-8")
    os.utime(schedule)
    reload_all()
    return WorkingDayCalendar.load(schedule)


def recounted_by_hand(published: WorkingDayCalendar, started_on: dt.date, due_before: dt.date) -> dt.date:
    """The clock that ran from `started_on` to `due_before` on weekends alone, counted again on the
    published calendar; with New Year's Day a holiday it ends one working day later."""
    limit = WorkingDayCalendar.load().working_days_between(started_on, due_before)
    due_after = published.add_working_days(started_on, limit).date
    assert due_after == WorkingDayCalendar.load().add_working_days(due_before, 1).date
    return due_after


def test_a_complaint_clock_recounted_by_the_sweep_is_a_feed_line(recounting):
    center, schedule, gateway = recounting("command_center", "complaints", today=dt.date(2026, 11, 2))
    create_office(center, *COMPLAINTS_OFFICE)
    complaint = file_complaint(center)
    stub = cp_grpc.ComplaintServiceStub(center["complaints"].channel)
    accepted = stub.AcceptComplaint(cp_pb.AcceptComplaintRequest(id=complaint.id, note="予以受理"))
    [mediation] = [d for d in accepted.deadlines if d.kind == cp_pb.DEADLINE_KIND_MEDIATION]
    due_before = contracts.day_of(mediation.due_date)
    assert mediation.provisional and due_before.year == 2027
    center.settle()
    before = feed(gateway)

    published = publish_2027(schedule)
    run_timer(center, "complaints", "sweep_complaint_deadlines")
    center.settle()
    accepted_on = center.clock.today
    due_after = recounted_by_hand(published, accepted_on, due_before)
    assert feed(gateway) == [*before, ("MH02", "complaints",
                                       f"工作日历更新，投诉举报 {complaint.id} 调解期限重算 "
                                       f"{due_before.isoformat()} → {due_after.isoformat()}")]
    got = stub.GetComplaint(cp_pb.GetComplaintRequest(id=complaint.id))
    [mediation] = [d for d in got.deadlines if d.kind == cp_pb.DEADLINE_KIND_MEDIATION]
    assert (contracts.day_of(mediation.due_date), mediation.provisional) == (due_after, False)


def test_a_case_clock_recounted_by_mobile_enforcement_is_a_feed_line(recounting):
    center, schedule, gateway = recounting("command_center", "mobile_enforcement", today=dt.date(2026, 12, 1))
    create_office(center)
    register_officer(center, "MH01-01")
    cases = me_grpc.CaseServiceStub(center["mobile_enforcement"].channel)
    received_on = center.clock.today
    received = Timestamp()
    received.FromDatetime(dt.datetime.combine(received_on, dt.time(9), SHANGHAI))
    lead = cases.OpenLead(me_pb.OpenLeadRequest(request_id=str(uuid.uuid4()), lead=me_pb.Case(
        office_id="MH01", party=me_pb.Party(name="莘庄无名摊贩", address="莘庄镇莘松路1号"),
        source=me_pb.LEAD_SOURCE_REFERRAL, source_ref="R-9", description="涉嫌销售过期食品",
        received_time=received)))
    # Extended once, the filing decision's 15 + 15 working days from today reach into 2027.
    extended = cases.ExtendDeadline(me_pb.ExtendDeadlineRequest(id=lead.id, approved_by="局负责人", reason="需检测"))
    due_before = contracts.day_of(extended.filing_decision_due)
    assert extended.filing_decision_due_provisional and due_before.year == 2027
    center.settle()
    before = feed(gateway)

    published = publish_2027(schedule)
    run_timer(center, "mobile_enforcement", "provisional_recount")
    center.settle()
    due_after = recounted_by_hand(published, received_on, due_before)
    assert feed(gateway) == [*before, ("MH01", "mobile_enforcement",
                                       f"工作日历更新，一起案件立案决定期限重算 "
                                       f"{due_before.isoformat()} → {due_after.isoformat()}")]
    got = cases.GetCase(me_pb.GetCaseRequest(id=lead.id))
    assert (contracts.day_of(got.filing_decision_due), got.filing_decision_due_provisional) == (due_after, False)


def test_a_task_due_date_recounted_by_command_center_is_a_feed_line(recounting):
    center, schedule, gateway = recounting("command_center", "complaints", today=dt.date(2026, 12, 1))
    create_office(center, *COMPLAINTS_OFFICE)
    complaint = file_complaint(center)
    # Wednesday 30 December 2026: the sweep finds the acceptance overdue, and the supervision task it
    # raises is due in working days that reach into 2027.
    center.clock.today = dt.date(2026, 12, 30)
    assert contracts.day_of(complaint.acceptance_due) < center.clock.today
    run_timer(center, "complaints", "sweep_complaint_deadlines")
    center.settle()
    tasks = cc_grpc.TaskServiceStub(center["command_center"].channel)
    [task] = tasks.ListTasks(cc_pb.ListTasksRequest(filter='source = "complaints.overdue"')).tasks
    due_before = contracts.day_of(task.due_date)
    assert task.due_date_provisional and due_before.year == 2027
    before = feed(gateway)

    published = publish_2027(schedule)
    run_timer(center, "command_center", "recount_provisional_tasks")
    center.settle()
    raised_on = center.clock.today
    due_after = recounted_by_hand(published, raised_on, due_before)
    assert feed(gateway) == [*before, ("MH02", "command_center",
                                       f"工作日历更新，一项督办任务办理期限重算 "
                                       f"{due_before.isoformat()} → {due_after.isoformat()}")]
    got = tasks.GetTask(cc_pb.GetTaskRequest(id=task.id))
    assert (contracts.day_of(got.due_date), got.due_date_provisional) == (due_after, False)
