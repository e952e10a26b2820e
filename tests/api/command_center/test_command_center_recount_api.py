"""Supervision tasks due on a provisional date counted again, through the real gRPC service on SQLite
and PostgreSQL, once the operator's calendar file gains 2027 while the service runs (no restart).
The task is raised by a CaseOverdue that mobile_enforcement's own event-building code makes."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.command_center.domain.rules import load_policy
from services.common import contracts
from services.common.calendar_reload import reload_all
from services.common.clock import SHANGHAI
from services.common.events import Envelope
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.domain import published
from services.mobile_enforcement.models import Case
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.common.v1.events_pb2 import DeadlineRecomputed
from tests.api.command_center.support import office, outbox_events
from tests.calendar_files import WITH_2027, calendar_without_2027
from tests.conftest import make_settings
from tests.support import Clock, RunningService, host

# Wednesday 30 December 2026: the policy's working days for an overdue case reach into 2027.
TODAY = dt.date(2026, 12, 30)


@pytest.fixture
def schedule(tmp_path: Path) -> Path:
    return calendar_without_2027(tmp_path)


@pytest.fixture
def running(store_url: str, schedule: Path) -> Iterator[RunningService]:
    hosted = host("command_center", store_url, make_settings(WORKING_CALENDAR_FILE=str(schedule)), Clock(TODAY))
    pb_grpc.OfficeServiceStub(hosted.channel).CreateOffice(pb.CreateOfficeRequest(office=office()))
    yield hosted
    hosted.close()


def case_overdue(running: RunningService) -> None:
    """mobile_enforcement's CaseOverdue for a lead past its filing decision, in the envelope its
    EventWriter gives it, through the bus."""
    case = Case(id=str(uuid.uuid4()), version=3, office_id="MH01", state="LEAD", party_name="莘庄无名摊贩",
                entity_id=None, filing_decision_due=TODAY - dt.timedelta(days=1))
    message = published.filing_overdue(case)
    envelope = Envelope(id=str(uuid.uuid4()), source="mobile_enforcement", type=contracts.type_name(message),
                        subject=f"case/{case.id}", time=dt.datetime.combine(TODAY, dt.time(9), SHANGHAI),
                        office_id=case.office_id, aggregate_id=case.id, aggregate_version=case.version,
                        data=contracts.encode(message))
    running.bus.publish(envelope.to_wire())
    running.settle()


def recount(running: RunningService) -> None:
    [timer] = [t for t in running.runtime.timers if t.name == "recount_provisional_tasks"]
    timer.run()


def test_a_task_due_on_a_provisional_date_is_recounted_and_published_once(running, schedule):
    case_overdue(running)
    tasks = pb_grpc.TaskServiceStub(running.channel)
    [task] = tasks.ListTasks(pb.ListTasksRequest()).tasks
    days = load_policy().overdue_case.due_in_working_days
    before = WorkingDayCalendar.load().add_working_days(TODAY, days)
    # Counted on weekends alone past Dec 31 (Jan 1 a working Friday).
    assert before.provisional and before.date.year == 2027
    assert (contracts.day_of(task.due_date), task.due_date_provisional) == (before.date, True)
    [(_, assigned)] = outbox_events(running, cc_events.TaskAssigned)
    assert (contracts.day_of(assigned.due_date), assigned.due_date_provisional) == (before.date, True)

    recount(running)  # the file did not change
    assert outbox_events(running, DeadlineRecomputed) == []

    schedule.write_text(WITH_2027, encoding="utf-8")
    os.utime(schedule)
    reload_all()  # what SIGHUP does
    recount(running)
    after = WorkingDayCalendar.load(schedule).add_working_days(TODAY, days).date
    assert after == WorkingDayCalendar.load().add_working_days(before.date, 1).date  # Jan 1 skipped
    got = tasks.GetTask(pb.GetTaskRequest(id=task.id))
    assert (contracts.day_of(got.due_date), got.due_date_provisional, got.version) == (after, False, task.version + 1)
    [(envelope, event)] = outbox_events(running, DeadlineRecomputed)
    assert (envelope["source"], envelope["subject"], envelope["office_id"], envelope["aggregate_version"]) == (
        "command_center", f"task/{task.id}", "MH01", got.version)
    assert (event.subject_type, event.clock, contracts.day_of(event.previous_due_date), event.previous_provisional,
            contracts.day_of(event.due_date), event.provisional) == ("task", "due_date", before.date, True, after,
                                                                     False)

    recount(running)
    assert len(outbox_events(running, DeadlineRecomputed)) == 1  # counted once
