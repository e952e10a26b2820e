"""complaints' provisional due dates counted again by its sweep, through the real gRPC service on
SQLite and PostgreSQL, once the operator's calendar file gains 2027 while the service runs."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.calendar_reload import reload_all
from services.common.contracts import day_of
from services.common.working_days import WorkingDayCalendar
from supervision.common.v1.events_pb2 import DeadlineRecomputed
from supervision.complaints.v1 import complaints_pb2 as pb
from tests.api.complaints.support import TODAY, ComplaintsClient
from tests.calendar_files import WITH_2027, calendar_without_2027
from tests.conftest import make_settings
from tests.support import host


@pytest.fixture
def schedule(tmp_path: Path) -> Path:
    return calendar_without_2027(tmp_path)


@pytest.fixture
def client(store_url: str, schedule: Path) -> Iterator[ComplaintsClient]:
    running = host("complaints", store_url, make_settings(WORKING_CALENDAR_FILE=str(schedule)))
    client = ComplaintsClient(running)
    client.announce_office("MH02", ["七宝镇"])
    yield client
    client.close()


def mediation(complaint: pb.Complaint) -> pb.Deadline:
    [deadline] = [d for d in complaint.deadlines if d.kind == pb.DEADLINE_KIND_MEDIATION]
    return deadline


def sweep(client: ComplaintsClient) -> None:
    [timer] = [t for t in client.running.runtime.timers if t.name == "sweep_complaint_deadlines"]
    timer.run()


def test_the_mediation_clock_is_recounted_and_published_once(client, schedule):
    item = client.create()
    accepted = client.stub.AcceptComplaint(pb.AcceptComplaintRequest(id=item.id, note="予以受理"))
    # 45 working days from Nov 2: Jan 4, counted on weekends alone past Dec 31 (Jan 1 a working Friday).
    assert dt.date(2026, 11, 2) == TODAY
    assert (day_of(mediation(accepted).due_date), mediation(accepted).provisional) == (dt.date(2027, 1, 4), True)

    sweep(client)  # the file did not change
    assert client.events(DeadlineRecomputed) == []

    schedule.write_text(WITH_2027, encoding="utf-8")
    os.utime(schedule)
    reload_all()  # what SIGHUP does
    sweep(client)
    recounted = client.get(item.id)
    assert WorkingDayCalendar.load(schedule).add_working_days(TODAY, 45).date == dt.date(2027, 1, 5)
    assert (day_of(mediation(recounted).due_date), mediation(recounted).provisional) == (dt.date(2027, 1, 5), False)
    [event] = client.events(DeadlineRecomputed)
    assert (event.subject_type, event.subject_id, event.office_id, event.clock) == (
        "complaint", item.id, "MH02", "mediation")
    assert (day_of(event.previous_due_date), event.previous_provisional, day_of(event.due_date), event.provisional) == (
        dt.date(2027, 1, 4), True, dt.date(2027, 1, 5), False)
    assert event.rule_set == mediation(recounted).rule_set

    sweep(client)
    assert len(client.events(DeadlineRecomputed)) == 1  # counted once
