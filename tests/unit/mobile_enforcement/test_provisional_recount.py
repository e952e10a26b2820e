"""Penalty cases' provisional due dates counted again once the operator's calendar file gains 2027,
without a restart: the recount timer stores each new date, writes it into the trail and publishes
DeadlineRecomputed; clocks that did not move, and a second run, publish nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from services.common import contracts
from services.common.calendar_reload import LiveCalendar
from services.common.contracts import day_of
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.domain.provisional import ProvisionalRecount
from services.mobile_enforcement.models import AuditRecord
from supervision.common.v1.events_pb2 import DeadlineRecomputed
from tests.unit.mobile_enforcement.case_support import OFFICER, RULES, Desk, penalty, sanction

LARGE_FINE = penalty(sanction("FINE", "150000"))  # needs a legal review

WITHOUT_2027 = "years:\n  2030:\n    holidays: [2030-01-01]\n    workdays: []\n"
# New Year's Day a holiday: every weekends-only count past it ends one working day later.
WITH_2027 = WITHOUT_2027 + "  2027:\n    holidays: [2027-01-01]\n    workdays: []\n"
WEEKENDS_ONLY = WorkingDayCalendar.load()


def write(path: Path, text: str, mtime_ns: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def schedule(tmp_path) -> Path:
    path = tmp_path / "calendar.yaml"
    write(path, WITHOUT_2027, 1_000_000_000)
    return path


@pytest.fixture
def desk(tmp_path, schedule):
    desk = Desk(tmp_path)
    desk.workspace.calendar = LiveCalendar(schedule, poll_seconds=0)
    yield desk
    desk.close()


def recomputed(desk: Desk) -> list[DeadlineRecomputed]:
    name = contracts.type_name(DeadlineRecomputed)
    return [contracts.decode(DeadlineRecomputed, name, row.envelope["data"]) for row in desk.events(name)]


def test_filing_statement_and_untouched_clocks_are_recounted_once(desk, schedule):
    rules = RULES.in_force(dt.date(2026, 12, 1))
    # A lead received Dec 1, stopped Dec 2 for testing, resumed Dec 14, then extended.
    desk.clock.to(dt.date(2026, 12, 1))
    stopped = desk.lead("stopped-and-extended")
    desk.clock.to(dt.date(2026, 12, 2))
    desk.cases.pause(OFFICER, stopped.id, "TESTING", "送检")
    desk.clock.to(dt.date(2026, 12, 14))
    desk.cases.resume(OFFICER, stopped.id)
    desk.cases.extend(OFFICER, stopped.id, "局负责人", "案情复杂", "", None)
    stop_days = 8  # Dec 3, 4, 7, 8, 9, 10, 11, 14
    # A lead received Dec 15 (15 working days: into January) and one received Nov 2 (due in November).
    desk.clock.to(dt.date(2026, 12, 15))
    plain = desk.lead("plain")
    desk.clock.to(dt.date(2026, 11, 2))
    settled = desk.lead("settled")
    # A case notified Dec 29: its statement period runs into January.
    desk.clock.to(dt.date(2026, 12, 29))
    notified = desk.notified(penalty(sanction("WARNING")))
    statement_limit = RULES.in_force(dt.date(2026, 12, 29)).statement_working_days

    filing_limit = rules.filing_decision_working_days + rules.filing_extension_working_days + stop_days
    before = {
        stopped.id: WEEKENDS_ONLY.add_working_days(dt.date(2026, 12, 1), filing_limit),
        plain.id: WEEKENDS_ONLY.add_working_days(dt.date(2026, 12, 15), rules.filing_decision_working_days),
        notified.id: WEEKENDS_ONLY.add_working_days(dt.date(2026, 12, 29), statement_limit),
    }
    assert all(due.provisional for due in before.values())
    assert (desk.get(stopped.id).filing_decision_due, desk.get(stopped.id).filing_due_provisional) == (
        before[stopped.id].date, True)
    assert desk.get(notified.id).statement_due == before[notified.id].date
    assert not desk.get(settled.id).filing_due_provisional

    recount = ProvisionalRecount(desk.workspace)
    assert recount.run() == [] and recomputed(desk) == []  # the calendar did not change

    write(schedule, WITH_2027, 2_000_000_000)
    moved = recount.run()
    published = WorkingDayCalendar.load(schedule)
    after = {
        stopped.id: published.add_working_days(dt.date(2026, 12, 1), filing_limit),
        plain.id: published.add_working_days(dt.date(2026, 12, 15), rules.filing_decision_working_days),
        notified.id: published.add_working_days(dt.date(2026, 12, 29), statement_limit),
    }
    for case_id, due in after.items():
        assert due.date == WEEKENDS_ONLY.add_working_days(before[case_id].date, 1).date and not due.provisional
    assert sorted((r.subject_id, r.clock) for r in moved) == sorted(
        [(stopped.id, "filing"), (plain.id, "filing"), (notified.id, "statement")])

    assert (desk.get(stopped.id).filing_decision_due, desk.get(stopped.id).filing_due_provisional) == (
        after[stopped.id].date, False)
    assert (desk.get(plain.id).filing_decision_due, desk.get(plain.id).filing_due_provisional) == (
        after[plain.id].date, False)
    assert (desk.get(notified.id).statement_due, desk.get(notified.id).statement_due_provisional) == (
        after[notified.id].date, False)

    events = {event.subject_id: event for event in recomputed(desk)}
    assert set(events) == set(after)
    for case_id, event in events.items():
        assert (day_of(event.previous_due_date), event.previous_provisional) == (before[case_id].date, True)
        assert (day_of(event.due_date), event.provisional) == (after[case_id].date, False)
        assert (event.subject_type, event.office_id, event.rule_set) == ("case", "MH01", rules.id)
    with desk.store.read() as session:
        last = json.loads(session.scalars(select(AuditRecord.record)
                                          .where(AuditRecord.chain_key == f"case/{plain.id}")
                                          .order_by(AuditRecord.sequence.desc())).first())
    assert (last["action"], last["due"], last["previous_due"]) == (
        "due date recounted", after[plain.id].date.isoformat(), before[plain.id].date.isoformat())

    assert recount.run() == [] and len(recomputed(desk)) == 3  # nothing provisional is left


def test_a_legal_review_is_recounted_from_its_submission_under_its_rule_set(desk, schedule):
    desk.clock.to(dt.date(2026, 12, 18))
    case = desk.concluded(LARGE_FINE)
    desk.clock.to(dt.date(2026, 12, 21))
    submitted = desk.cases.submit_for_legal_review(OFFICER, case.id)
    limit = RULES.in_force(dt.date(2026, 12, 21)).legal_review_working_days
    before = WEEKENDS_ONLY.add_working_days(dt.date(2026, 12, 21), limit)
    assert before.provisional and (submitted.legal_review_due, submitted.legal_review_due_provisional) == (
        before.date, True)
    desk.clock.to(dt.date(2026, 12, 23))  # counted from the submission day, not the recount's
    write(schedule, WITH_2027, 2_000_000_000)
    [moved] = ProvisionalRecount(desk.workspace).run()
    after = WorkingDayCalendar.load(schedule).add_working_days(dt.date(2026, 12, 21), limit)
    assert (moved.clock, moved.current) == ("legal_review", after)
    assert (desk.get(case.id).legal_review_due, desk.get(case.id).legal_review_due_provisional) == (after.date, False)


def test_a_stopped_lead_waits_for_its_resume(desk, schedule):
    desk.clock.to(dt.date(2026, 12, 15))
    lead = desk.lead("stopped")
    desk.clock.to(dt.date(2026, 12, 16))
    desk.cases.pause(OFFICER, lead.id, "TESTING", "")
    write(schedule, WITH_2027, 2_000_000_000)
    assert ProvisionalRecount(desk.workspace).run() == []
    assert desk.get(lead.id).filing_due_provisional  # the resume counts it on the calendar in use
