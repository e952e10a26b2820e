"""Evidence read from the publishers' typed events, and the workload inputs of a period."""

from __future__ import annotations

import datetime as dt

import pytest

from services.assessment.domain import evidence, history, periods, workload
from services.common.contracts import date_of, timestamp_of
from services.common.errors import InvalidArgument
from services.common.indicators import Reading, reading_message
from supervision.command_center.v1 import events_pb2 as cc_pb
from supervision.common.v1.events_pb2 import IndicatorsChanged, StatutoryClock
from supervision.complaints.v1 import events_pb2 as complaints_pb
from supervision.mobile_enforcement.v1 import events_pb2 as me_pb

DAY = dt.date(2026, 8, 10)
EVENT_DAY = dt.date(2026, 8, 12)


def clock(name: str, met: bool) -> StatutoryClock:
    return StatutoryClock(clock=name, due_date=date_of(DAY), met=met)


def inspection(**fields) -> me_pb.InspectionCompleted:
    values = dict(inspection_id="I-1", version=3, office_id="MH01", entity_id="91310112MA1GB0KX3F", kind="SPOT_CHECK",
                  category="PHARMACY", officer_ids=["MH01-01", "MH01-02"], completed_on=date_of(DAY),
                  clocks=[clock("due_date", True)])
    return me_pb.InspectionCompleted(**{**values, **fields})


def case(**fields) -> me_pb.CaseClosed:
    values = dict(case_id="K-1", version=9, office_id="MH01", entity_id="E-7", party_name="某某超市有限公司",
                  officer_ids=["MH01-03", "MH01-04"], closed_on=date_of(DAY),
                  clocks=[clock("filing", True), clock("closing", False)])
    return me_pb.CaseClosed(**{**values, **fields})


def test_a_two_officer_inspection_counts_for_both_officers_on_time():
    item = evidence.from_message("mobile_enforcement", inspection(), EVENT_DAY)
    assert (item.id, item.kind, item.office_id, item.occurred_on) == (
        "mobile_enforcement/INSPECTION/I-1", evidence.INSPECTION, "MH01", DAY)
    assert (item.officer_ids, item.on_time) == (("MH01-01", "MH01-02"), True)
    assert (item.entity_id, item.title) == ("91310112MA1GB0KX3F", "SPOT_CHECK PHARMACY")


def test_work_is_on_time_only_when_every_clock_was_met_and_unjudged_without_clocks():
    closed = evidence.from_message("mobile_enforcement", case(), EVENT_DAY)
    assert (closed.reference, closed.on_time, closed.officer_ids, closed.title) == (
        "K-1", False, ("MH01-03", "MH01-04"), "某某超市有限公司")
    assert evidence.from_message("mobile_enforcement", case(clocks=[clock("filing", True)]), EVENT_DAY).on_time is True
    assert evidence.from_message("mobile_enforcement", inspection(clocks=[]), EVENT_DAY).on_time is None
    task = cc_pb.TaskCompleted(task_id="t-1", office_id="MH01", title="督办：电梯维保专项检查", officer_ids=["MH01-05"],
                               completed_on=date_of(DAY), clocks=[clock("due_date", False)])
    item = evidence.from_message("command_center", task, EVENT_DAY)
    assert (item.id, item.on_time, item.title, item.officer_ids) == (
        "command_center/TASK/t-1", False, "督办：电梯维保专项检查", ("MH01-05",))


def test_complaints_judges_its_own_timeliness():
    resolved = complaints_pb.ComplaintResolved(
        complaint_id="C-9", office_id="MH02", kind="COMPLAINT", state="RESOLVED", outcome="RESOLVED",
        handled_by="MH02-05", on_time=False, officer_ids=["MH02-05"], resolved_on=date_of(DAY),
        clocks=[clock("acceptance", True)])
    item = evidence.from_message("complaints", resolved, EVENT_DAY)
    assert (item.reference, item.office_id, item.officer_ids, item.on_time, item.title) == (
        "C-9", "MH02", ("MH02-05",), False, "COMPLAINT RESOLVED")
    resolved.on_time, resolved.officer_ids[:] = True, []
    del resolved.clocks[:]
    item = evidence.from_message("complaints", resolved, EVENT_DAY)
    assert (item.on_time, item.officer_ids) == (True, ())  # the system ended it: no officer's credit


def test_the_day_of_the_work_falls_back_to_the_events_day_only_when_unset():
    item = evidence.from_message("mobile_enforcement", inspection(completed_on=None), EVENT_DAY)
    assert item.occurred_on == EVENT_DAY
    repeated = evidence.from_message("mobile_enforcement", inspection(officer_ids=["A", "A", "", "B"]), EVENT_DAY)
    assert repeated.officer_ids == ("A", "B")


@pytest.mark.parametrize(("message", "field"), [
    (inspection(inspection_id=""), "inspection_id"),
    (case(case_id="K" * 65), "case_id"),
    (case(office_id=""), "office_id"),
    (inspection(officer_ids=["X" * 33]), "officer_ids"),
    (inspection(officer_ids=[f"O{n}" for n in range(evidence.MAX_OFFICERS + 1)]), "officer_ids"),
    (cc_pb.TaskCompleted(office_id="MH01"), "task_id"),
    (complaints_pb.ComplaintResolved(complaint_id="C-1"), "office_id"),
])
def test_an_event_without_its_record_or_office_or_with_ids_too_long_is_refused(message, field):
    with pytest.raises(InvalidArgument) as raised:
        evidence.from_message("mobile_enforcement", message, EVENT_DAY)
    assert [v.field for v in raised.value.violations] == [field]


def test_an_event_that_is_no_work_is_not_evidence():
    with pytest.raises(TypeError, match="no evidence"):
        evidence.from_message("command_center", cc_pb.TaskAssigned(task_id="t-1"), EVENT_DAY)


# ---------------------------------------------------------------- in the store


def population(office_id: str, version: int, at: dt.datetime, entities: int) -> IndicatorsChanged:
    """mobile_enforcement's IndicatorsChanged with the office's supervised population."""
    readings = [Reading(office_id, workload.ENTITIES_SUPERVISED, entities, 1),
                Reading(office_id, "mobile_enforcement.case_closing_on_time", 1, 2)]
    return IndicatorsChanged(office_id=office_id, version=version, as_of=timestamp_of(at),
                             indicators=[reading_message(r) for r in readings])


def test_evidence_is_kept_once_for_each_officer_and_counted_in_the_workload(store):
    october = periods.parse("2026-10")
    day = dt.date(2026, 10, 9)
    with store.transaction() as session:
        for number in range(3):
            item = evidence.from_message("mobile_enforcement", inspection(
                inspection_id=f"I-{number}", entity_id="E-1", completed_on=date_of(day)), EVENT_DAY)
            assert evidence.record(session, item) is True
        assert evidence.record(session, evidence.from_message(
            "mobile_enforcement", inspection(inspection_id="I-0", completed_on=date_of(day)), EVENT_DAY)) is False
        evidence.record(session, evidence.from_message("mobile_enforcement", case(closed_on=date_of(day)), EVENT_DAY))
        evidence.record(session, evidence.from_message(  # September's work is not October's
            "mobile_enforcement", case(case_id="K-2", closed_on=date_of(dt.date(2026, 9, 30))), EVENT_DAY))
        in_october = dt.datetime(2026, 10, 20, tzinfo=dt.UTC)
        history.record(session, "mobile_enforcement", population("MH01", 1, in_october, 240), in_october)
        after = october.cutoff + dt.timedelta(hours=1)
        history.record(session, "mobile_enforcement", population("MH01", 2, after, 999), after)
    with store.read() as session:
        for officer_id in ("MH01-01", "MH01-02"):
            found = evidence.of_officer(session, officer_id, october.start, october.end)
            assert [(e.reference, e.on_time) for e in found] == [("I-0", True), ("I-1", True), ("I-2", True)]
        values = history.values_at(session, october.cutoff, ["MH01", "MH02"])
        inputs = workload.inputs(session, october.start, october.end, ["MH01", "MH02"], values)
    # The supervised population as it stood at the cutoff, not the entities inspected (one).
    assert inputs == {"MH01": {"entities": 240.0, "inspections": 3.0, "complaints": 0.0, "cases": 1.0},
                      "MH02": {"entities": 0.0, "inspections": 0.0, "complaints": 0.0, "cases": 0.0}}


def test_the_workload_explanation_names_each_input_its_value_and_its_source():
    sources = {"entities": "监管主体数（移动执法：辖区名录库在册主体）",
               "inspections": "检查数（移动执法：完成的检查）", "complaints": "投诉举报办结数", "cases": "办案数"}
    text = workload.explain({"entities": 240.0, "inspections": 3.0, "complaints": 0.0, "cases": 1.0},
                            {"entities": 0.5, "inspections": 1.0, "cases": 4.0}, sources)
    assert text == ("workload 127 = entities 240 × 0.5 [监管主体数（移动执法：辖区名录库在册主体）] + "
                    "inspections 3 × 1 [检查数（移动执法：完成的检查）] + complaints 0 × 0 [投诉举报办结数] + "
                    "cases 1 × 4 [办案数]")
    assert workload.explain({}, {}, sources) == ""
