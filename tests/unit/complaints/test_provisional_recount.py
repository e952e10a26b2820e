"""complaints' provisional due dates counted again when the operator's calendar file gains the
year, without a restart: the sweep moves them and publishes DeadlineRecomputed for each."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from services.common.calendar_reload import LiveCalendar
from services.common.contracts import day_of
from services.common.working_days import WorkingDayCalendar
from services.complaints.domain.provisional import PublishedClocks
from services.complaints.domain.rules import RuleBook
from services.complaints.models import Complaint
from supervision.common.v1.events_pb2 import DeadlineRecomputed
from tests.unit.complaints.test_use_cases import World

WITHOUT_2027 = "years:\n  2030:\n    holidays: [2030-01-01]\n    workdays: []\n"
WITH_2027 = WITHOUT_2027 + "  2027:\n    holidays: [2027-01-01]\n    workdays: []\n"


def write(path: Path, text: str, mtime_ns: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_the_sweep_recounts_on_the_reloaded_calendar_and_publishes_each_move(store, tmp_path):
    schedule = tmp_path / "calendar.yaml"
    write(schedule, WITHOUT_2027, 1_000_000_000)
    calendar = LiveCalendar(schedule, poll_seconds=0)
    world = World(store, calendar=calendar)
    world.workspace.clocks = PublishedClocks(RuleBook.load(), calendar)
    world.learn("MH02", ["七宝镇"])
    world.today = dt.date(2026, 12, 28)
    complaint_id = world.create()
    acceptance = world.deadlines(complaint_id)["acceptance"]
    rule_set = RuleBook.load().in_force(world.today, "received_at")
    limit = rule_set.limit("acceptance", extended=False)
    weekends_only = WorkingDayCalendar.load().add_working_days(world.today, limit).date
    assert (acceptance.due_date, acceptance.provisional) == (weekends_only, True)

    world.sweep.run()  # the calendar has not changed: nothing moves, nothing is published
    assert world.published(DeadlineRecomputed) == []

    write(schedule, WITH_2027, 2_000_000_000)
    world.sweep.run()
    published = WorkingDayCalendar.load(schedule).add_working_days(world.today, limit)
    assert published.date == weekends_only + dt.timedelta(days=1) and not published.provisional  # Jan 1 is off
    after = world.deadlines(complaint_id)["acceptance"]
    assert (after.due_date, after.provisional) == (published.date, False)
    [event] = world.published(DeadlineRecomputed)
    assert (event.subject_type, event.subject_id, event.reference, event.office_id, event.clock, event.rule_set) == (
        "complaint", complaint_id, complaint_id, "MH02", "acceptance", rule_set.id)
    assert (day_of(event.previous_due_date), event.previous_provisional) == (weekends_only, True)
    assert (day_of(event.due_date), event.provisional) == (published.date, False)
    with store.read() as session:
        assert session.get(Complaint, complaint_id).version == 2

    world.sweep.run()  # counted once: the next run finds nothing provisional
    assert len(world.published(DeadlineRecomputed)) == 1
