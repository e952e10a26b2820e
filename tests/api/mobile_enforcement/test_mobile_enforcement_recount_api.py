"""Provisional due dates of penalty cases and inspections counted again, through the real gRPC service
on SQLite and PostgreSQL, once the operator's calendar file gains 2027 while the service runs (no
restart)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.common.calendar_reload import reload_all
from services.common.clock import SHANGHAI
from services.common.contracts import day_of
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.domain.rules import RuleBook
from supervision.common.v1.events_pb2 import DeadlineRecomputed
from supervision.mobile_enforcement.v1 import events_pb2 as events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    OFFICES,
    Client,
    InstantClock,
    connect,
    decided_case,
    filed_case,
    fine,
    host_mobile_enforcement,
)
from tests.calendar_files import WITH_2027, calendar_without_2027

# Tuesday 1 December 2026, 10:00 in Shanghai.
RECEIVED = dt.datetime(2026, 12, 1, 10, tzinfo=SHANGHAI)
WEEKENDS_ONLY = WorkingDayCalendar.load()


@pytest.fixture
def schedule(tmp_path: Path) -> Path:
    return calendar_without_2027(tmp_path)


@pytest.fixture
def client(store_url: str, tmp_path: Path, schedule: Path):
    running = host_mobile_enforcement(store_url, InstantClock(RECEIVED.astimezone(dt.UTC)),
                                      WORKING_CALENDAR_FILE=str(schedule))
    client = connect(running, tmp_path)
    for office_id, street in OFFICES.items():
        client.office(office_id, [street])
    yield client
    client.close()


def recount(client: Client) -> None:
    [timer] = [t for t in client.running.runtime.timers if t.name == "provisional_recount"]
    timer.run()


def test_an_extended_filing_decision_is_recounted_and_published_once(client, schedule):
    received = Timestamp()
    received.FromDatetime(RECEIVED)
    lead = client.cases.OpenLead(pb.OpenLeadRequest(request_id=str(uuid.uuid4()), lead=pb.Case(
        office_id="MH01", party=pb.Party(name="莘庄无名摊贩", address="莘庄镇莘松路1号"),
        source=pb.LEAD_SOURCE_REFERRAL, source_ref="R-1", description="涉嫌销售过期食品", received_time=received)))
    extended = client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(id=lead.id, approved_by="局负责人",
                                                                    reason="需检测"))
    # 15 + 15 working days from Dec 1: Dec 2..31 hold 22 working days, the other 8 fall in January,
    # counted on weekends alone (Jan 1 a Friday like any other): Jan 12.
    assert (day_of(extended.filing_decision_due), extended.filing_decision_due_provisional) == (
        dt.date(2027, 1, 12), True)
    assert WEEKENDS_ONLY.add_working_days(RECEIVED.date(), 30).date == dt.date(2027, 1, 12)

    recount(client)  # the file did not change
    assert client.events(DeadlineRecomputed) == []

    schedule.write_text(WITH_2027, encoding="utf-8")
    os.utime(schedule)
    reload_all()  # what SIGHUP does
    recount(client)
    got = client.cases.GetCase(pb.GetCaseRequest(id=lead.id))
    # Jan 1 now a holiday: the 8th January working day is Jan 13.
    assert (day_of(got.filing_decision_due), got.filing_decision_due_provisional) == (dt.date(2027, 1, 13), False)
    assert WorkingDayCalendar.load(schedule).add_working_days(RECEIVED.date(), 30).date == dt.date(2027, 1, 13)
    [event] = client.events(DeadlineRecomputed)
    assert (event.source, event.envelope.subject, event.office_id) == ("mobile_enforcement", f"case/{lead.id}", "MH01")
    message = event.message
    assert (message.clock, day_of(message.previous_due_date), message.previous_provisional,
            day_of(message.due_date), message.provisional) == ("filing", dt.date(2027, 1, 12), True,
                                                               dt.date(2027, 1, 13), False)
    assert event.aggregate_version == got.version

    recount(client)
    assert len(client.events(DeadlineRecomputed)) == 1  # counted once


def test_publication_dates_of_an_inspection_and_a_decision_are_provisional_and_recounted(client, schedule):
    # Tuesday 15 December 2026: 20 working days from it end in January 2027.
    client.running.clock.instant = dt.datetime(2026, 12, 15, 10, tzinfo=SHANGHAI).astimezone(dt.UTC)
    today = client.running.clock.today
    for number in range(1, 5):
        client.officer(f"MH01-{number:03d}")
    entity = client.entity(1)
    started = client.started(entity.uscc)
    client.answer_all(started)
    inspection = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, outcome=pb.INSPECTION_OUTCOME_COMPLIANT, summary="未发现问题"))
    decided = decided_case(client, filed_case(client, entity.uscc, "R-2").id, fine(2000))
    rules = RuleBook.load().in_force(today)
    limit = rules.inspection_publication_working_days
    assert rules.penalty_publication_working_days == limit  # one count for both records
    before = WEEKENDS_ONLY.add_working_days(today, limit)
    assert before.provisional and before.date.year == 2027
    for record in (inspection, decided):
        assert (day_of(record.publication_due), record.publication_due_provisional) == (before.date, True)
    [completed] = client.events(events.InspectionCompleted)
    assert (day_of(completed.message.publication_due), completed.message.publication_due_provisional) == (
        before.date, True)

    schedule.write_text(WITH_2027, encoding="utf-8")
    os.utime(schedule)
    reload_all()
    recount(client)
    after = WorkingDayCalendar.load(schedule).add_working_days(today, limit).date
    assert after == WEEKENDS_ONLY.add_working_days(before.date, 1).date  # Jan 1 now a holiday
    got_inspection = client.inspections.GetInspection(pb.GetInspectionRequest(id=inspection.id))
    got_case = client.cases.GetCase(pb.GetCaseRequest(id=decided.id))
    for record in (got_inspection, got_case):
        assert (day_of(record.publication_due), record.publication_due_provisional) == (after, False)
    moved = {(e.envelope.subject, e.message.clock, day_of(e.message.previous_due_date), day_of(e.message.due_date),
              e.message.provisional, e.aggregate_version) for e in client.events(DeadlineRecomputed)}
    assert moved == {(f"inspection/{inspection.id}", "publication", before.date, after, False, got_inspection.version),
                     (f"case/{decided.id}", "publication", before.date, after, False, got_case.version)}

    recount(client)
    assert len(client.events(DeadlineRecomputed)) == 2  # counted once each
