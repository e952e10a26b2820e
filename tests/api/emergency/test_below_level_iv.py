"""Incidents below level IV through the API: their own outcome and handling instead of a default
level IV, shown as such on the incident, in the grading rules and in the events; later reports or an
officer move them to a level, and a new fact may change their handling."""

from __future__ import annotations

import datetime as dt

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from google.type import date_pb2

from services.common.clock import shanghai_date
from services.emergency.domain.rules import BELOW_IV, RuleBook
from supervision.emergency.v1 import emergency_pb2 as pb
from supervision.emergency.v1 import events_pb2
from tests.api.emergency.support import HOUR, EmergencyClient, action, events, expect_error, incident, now, rows, ts

EQUIPMENT = pb.INCIDENT_TYPE_SPECIAL_EQUIPMENT


def report(client: EmergencyClient, **fields) -> pb.Incident:
    return client.incidents.ReportIncident(pb.ReportIncidentRequest(incident=incident(**fields)))


def handling_plan(created: pb.Incident, type_name: str) -> dict[str, dt.timedelta]:
    """The due times the rule set in force on the day of learning gives the incident's handling."""
    rules = RuleBook.load().in_force(shanghai_date(created.learned_at.ToDatetime(dt.UTC))).types[type_name]
    [handling] = [h for h in rules.below_level_iv.handlings if h.id == created.handling]
    return {a.code: a.due[BELOW_IV] for a in handling.plan}


def dues(created: pb.Incident) -> dict[str, dt.timedelta]:
    learned = created.learned_at.ToDatetime(dt.UTC)
    return {a.code: a.due_time.ToDatetime(dt.UTC) - learned for a in created.actions}


def test_incidents_meeting_no_criterion_get_their_outcome_and_handling_not_level_iv(emergency):
    food = report(emergency, title="熟食抽检检出致病菌", circumstances=["cause_clear"])
    assert (food.level, food.criteria_level, food.outcome) == (
        pb.LEVEL_UNSPECIFIED, pb.LEVEL_UNSPECIFIED, pb.INCIDENT_OUTCOME_BELOW_LEVEL_IV)
    assert food.handling == "FS-BELOW-IV-cause-clear"
    [reason] = food.grading_reasons
    assert (reason.level, reason.criterion) == (pb.LEVEL_UNSPECIFIED, food.handling)
    assert "卫生健康委" in reason.text and "疾控中心" in reason.text
    assert dues(food) == handling_plan(food, "FOOD_SAFETY")
    assert {a.required_by for a in food.actions} == {pb.LEVEL_UNSPECIFIED}
    assert food.report_due == action(food, "NOTIFY_HEALTH").due_time
    assert "不定级" in food.timeline[0].text

    lift = report(emergency, incident_type=EQUIPMENT, title="电梯短时困人", trapped_count=2, trapped_hours=1.5)
    assert (lift.level, lift.outcome, lift.handling) == (
        pb.LEVEL_UNSPECIFIED, pb.INCIDENT_OUTCOME_NOT_AN_ACCIDENT, "SE-NOT-ACCIDENT")
    assert dues(lift) == handling_plan(lift, "SPECIAL_EQUIPMENT")
    assert not lift.HasField("report_due")  # not an accident: nothing to report upward

    reported = {e.message.incident_id: e.message for e in events(emergency, events_pb2.IncidentReported)}
    assert [(reported[i.id].level, reported[i.id].outcome, reported[i.id].handling) for i in (food, lift)] == [
        ("", "BELOW_LEVEL_IV", food.handling), ("", "NOT_AN_ACCIDENT", lift.handling)]
    assert [r.criterion for r in reported[food.id].grading_reasons] == [food.handling]

    graded = report(emergency, ill_count=3)
    listed = emergency.incidents.ListIncidents(pb.ListIncidentsRequest(filter="outcome = NOT_AN_ACCIDENT"))
    assert [i.id for i in listed.incidents] == [lift.id]
    listed = emergency.incidents.ListIncidents(pb.ListIncidentsRequest(filter="outcome = GRADED"))
    assert [i.id for i in listed.incidents] == [graded.id]

    learned_on = shanghai_date(food.learned_at.ToDatetime(dt.UTC))
    rules = emergency.incidents.GetGradingRules(pb.GetGradingRulesRequest(
        type=pb.INCIDENT_TYPE_FOOD_SAFETY, date=date_pb2.Date(year=learned_on.year, month=learned_on.month,
                                                              day=learned_on.day)))
    assert rules.rule_set == food.rule_set
    assert rules.default_level == pb.LEVEL_UNSPECIFIED
    assert rules.below_level_iv.outcome == pb.INCIDENT_OUTCOME_BELOW_LEVEL_IV
    assert [(h.id, list(h.circumstances)) for h in rules.below_level_iv.handlings] == [
        ("FS-BELOW-IV-cause-clear", ["cause_clear"]), ("FS-BELOW-IV-cause-unclear", [])]
    assert {r.count: list(r.implies) for r in rules.reach} == {
        "provinces_reached": ["cities_reached"], "cities_reached": ["counties_reached"]}


def test_later_facts_and_officers_move_an_incident_between_its_handling_and_a_level(emergency):
    lift = report(emergency, incident_type=EQUIPMENT, title="电梯困人", trapped_count=1, trapped_hours=1.5)
    # Still trapped at 2 hours: an accident of level IV, which is reported upward like every level.
    updated = emergency.incidents.UpdateCounts(pb.UpdateCountsRequest(
        id=lift.id, incident=pb.Incident(trapped_hours=2), update_mask=FieldMask(paths=["trapped_hours"]),
        note="救援未果，困人已满2小时", expected_version=lift.version))
    assert (updated.level, updated.outcome, updated.handling) == (pb.LEVEL_IV, pb.INCIDENT_OUTCOME_GRADED, "")
    assert {a.code for a in updated.actions if a.required_by == pb.LEVEL_IV} >= {"REPORT", "REPORT_UPWARD"}
    assert action(updated, "REPORT_UPWARD").kind == pb.ACTION_KIND_NOTIFICATION
    # Due from the re-grade: the deadline could not have run before the incident was an accident.
    regraded_at = updated.update_time.ToDatetime(dt.UTC)
    assert action(updated, "REPORT_UPWARD").due_time.ToDatetime(dt.UTC) == regraded_at + 2 * HOUR
    [changed] = events(emergency, events_pb2.IncidentLevelChanged)
    assert (changed.message.previous_level, changed.message.level, changed.message.outcome) == ("", "IV", "GRADED")
    # It happened exactly the unit's hour before the regulator learned of it: reported in time.
    assert not updated.unit_report_late and not changed.message.unit_report_late

    # A cause found later changes the handling below level IV: its actions are added, the level is not.
    food = report(emergency, title="凉拌菜检出致病菌")
    assert food.handling == "FS-BELOW-IV-cause-unclear"
    clear = emergency.incidents.UpdateCounts(pb.UpdateCountsRequest(
        id=food.id, incident=pb.Incident(circumstances=["cause_clear"]),
        update_mask=FieldMask(paths=["circumstances"])))
    assert (clear.level, clear.handling) == (pb.LEVEL_UNSPECIFIED, "FS-BELOW-IV-cause-clear")
    assert [a.code for a in clear.actions] == ["REPORT", "ROUTINE_FOLLOW_UP", "NOTIFY_HEALTH", "JOINT_HANDLING"]
    assert len(events(emergency, events_pb2.IncidentLevelChanged)) == 1  # the lift's only

    # An officer may judge one an accident after all; never below what the criteria give.
    raised = emergency.incidents.EscalateLevel(pb.EscalateLevelRequest(id=food.id, level=pb.LEVEL_IV,
                                                                       reason="涉及学校供餐，按一般事故处置"))
    assert (raised.level, raised.criteria_level, raised.outcome) == (
        pb.LEVEL_IV, pb.LEVEL_UNSPECIFIED, pb.INCIDENT_OUTCOME_GRADED)
    assert "ONSITE" in {a.code for a in raised.actions}


def test_a_later_report_correcting_the_counts_takes_an_incident_below_level_iv(emergency):
    graded = report(emergency, ill_count=3)
    corrected = emergency.incidents.UpdateCounts(pb.UpdateCountsRequest(
        id=graded.id, incident=pb.Incident(ill_count=0), update_mask=FieldMask(paths=["ill_count"]),
        note="经核实为误报，无人发病"))
    assert (corrected.level, corrected.outcome, corrected.handling) == (
        pb.LEVEL_UNSPECIFIED, pb.INCIDENT_OUTCOME_BELOW_LEVEL_IV, "FS-BELOW-IV-cause-unclear")
    # The level IV actions already under way stay; the handling adds what it needs beyond them.
    assert [a.code for a in corrected.actions] == [a.code for a in graded.actions] + ["ROUTINE_FOLLOW_UP"]
    [changed] = events(emergency, events_pb2.IncidentLevelChanged)
    assert (changed.message.previous_level, changed.message.level, changed.message.outcome) == (
        "IV", "", "BELOW_LEVEL_IV")


def test_an_accident_the_unit_reported_late_is_recorded_as_such(emergency):
    late = report(emergency, incident_type=EQUIPMENT, title="塔吊倾覆", circumstances=["crane_overturned"],
                  occurred_at=ts(now() - 3 * HOUR))
    assert late.level == pb.LEVEL_III and late.unit_report_late
    assert "事故单位迟报" in late.timeline[1].text
    food = report(emergency, ill_count=3, occurred_at=ts(now() - 30 * HOUR))
    assert not food.unit_report_late  # food safety sets the unit no such limit
    reported = {e.message.incident_id: e.message.unit_report_late
                for e in events(emergency, events_pb2.IncidentReported)}
    assert reported == {late.id: True, food.id: False}


def test_bad_input_about_outcomes_is_refused_and_changes_nothing(emergency):
    lift = report(emergency, incident_type=EQUIPMENT, trapped_count=1, trapped_hours=1)
    before = rows(emergency)
    for bad in ("outcome = FINE", "outcome = UNSPECIFIED"):
        assert "filter" in expect_error(lambda f=bad: emergency.incidents.ListIncidents(
            pb.ListIncidentsRequest(filter=f)), grpc.StatusCode.INVALID_ARGUMENT)
    # "cause_clear" is a circumstance of food safety, not of special equipment.
    assert "incident.circumstances[0]" in expect_error(lambda: report(
        emergency, incident_type=EQUIPMENT, circumstances=["cause_clear"]), grpc.StatusCode.INVALID_ARGUMENT)
    assert "level" in expect_error(lambda: emergency.incidents.EscalateLevel(pb.EscalateLevelRequest(
        id=lift.id, reason="提级")), grpc.StatusCode.INVALID_ARGUMENT)
    assert rows(emergency) == before
