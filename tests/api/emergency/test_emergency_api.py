"""emergency through a real gRPC server, on SQLite and on PostgreSQL, with the events of a hosted
command_center (offices and officers made through its API) applied by its consumer."""

from __future__ import annotations

import datetime as dt

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.field_mask_pb2 import FieldMask
from google.type import date_pb2

from services.common.auth import issue_token
from services.common.clock import shanghai_date
from services.emergency.domain.rules import RuleBook
from supervision.emergency.v1 import emergency_pb2 as pb
from supervision.emergency.v1 import events_pb2
from tests.api.emergency.support import (
    HOUR,
    CommandCenter,
    EmergencyClient,
    action,
    events,
    expect_error,
    incident,
    now,
    rows,
    ts,
)
from tests.conftest import make_settings
from tests.support import host


def report(client: EmergencyClient, request_id: str = "", **fields) -> pb.Incident:
    return client.incidents.ReportIncident(pb.ReportIncidentRequest(request_id=request_id, incident=incident(**fields)))


# ---------------------------------------------------------------- reporting and grading


def test_report_grades_the_incident_and_instantiates_its_plan(emergency):
    created = report(emergency, ill_count=23, circumstances=["serious_harm"])
    assert (created.level, created.criteria_level, created.state) == (pb.LEVEL_IV, pb.LEVEL_IV,
                                                                      pb.INCIDENT_STATE_ACTIVE)
    assert [r.criterion for r in created.grading_reasons] == ["FS-IV-harm", "FS-IV-ill"]
    learned = created.learned_at.ToDatetime(dt.UTC)
    assert created.report_due.ToDatetime(dt.UTC) == learned + 2 * HOUR
    assert {a.code: a.due_time.ToDatetime(dt.UTC) - learned for a in created.actions} == {
        "REPORT": 2 * HOUR, "ONSITE": 2 * HOUR, "CONTROL_GOODS": 6 * HOUR, "SAMPLE_AND_TEST": 24 * HOUR}
    assert action(created, "REPORT").kind == pb.ACTION_KIND_NOTIFICATION
    assert [e.kind for e in created.timeline] == [pb.TIMELINE_ENTRY_KIND_REPORTED, pb.TIMELINE_ENTRY_KIND_ACTION_ADDED]
    [reported] = events(emergency, events_pb2.IncidentReported)
    message = reported.message
    assert message.incident_id == created.id == reported.aggregate_id
    assert (message.office_id, message.type, message.level, message.state, message.title) == (
        "MH01", "FOOD_SAFETY", "IV", "ACTIVE", created.title)
    assert message.version == created.version
    assert (message.learned_at, message.occurred_at, message.report_due) == (
        created.learned_at, created.occurred_at, created.report_due)
    assert [(r.level, r.criterion, r.text) for r in message.grading_reasons] == [
        ("IV", r.criterion, r.text) for r in created.grading_reasons]
    # The rule set in force on the (Shanghai) day the office learned of it.
    assert message.rule_set == created.rule_set == RuleBook.load().in_force(shanghai_date(learned)).id
    equipment = report(emergency, incident_type=pb.INCIDENT_TYPE_SPECIAL_EQUIPMENT, trapped_count=3,
                       trapped_hours=2.0)
    assert [r.criterion for r in equipment.grading_reasons] == ["SE-IV-elevator"]
    assert equipment.report_due.ToDatetime(dt.UTC) - equipment.learned_at.ToDatetime(dt.UTC) == HOUR
    assert emergency.incidents.GetIncident(pb.GetIncidentRequest(id=created.id)) == created


def test_a_repeated_request_id_returns_the_first_incident(emergency):
    request = pb.ReportIncidentRequest(request_id="r-1", incident=incident(ill_count=5))
    first = emergency.incidents.ReportIncident(request)
    again = emergency.incidents.ReportIncident(request)  # a retry sends the same request again
    assert again == first
    assert rows(emergency)["incidents"] == 1 and len(events(emergency, events_pb2.IncidentReported)) == 1


def test_bad_reports_are_refused_and_change_nothing(emergency):
    before = rows(emergency)
    learned = now() - HOUR
    bad = [
        (incident(ill_count=-1, death_count=-2), grpc.StatusCode.INVALID_ARGUMENT,
         {"incident.ill_count", "incident.death_count"}),
        (incident(occurred_at=ts(learned + HOUR), learned_at=ts(learned)), grpc.StatusCode.INVALID_ARGUMENT,
         {"incident.learned_at"}),
        (incident(learned_at=ts(now() + 3 * HOUR), occurred_at=ts(learned)), grpc.StatusCode.INVALID_ARGUMENT,
         {"incident.learned_at"}),
        (incident(incident_type=pb.INCIDENT_TYPE_UNSPECIFIED), grpc.StatusCode.INVALID_ARGUMENT, {"incident.type"}),
        (incident(incident_type=42), grpc.StatusCode.INVALID_ARGUMENT, {"incident.type"}),
        (incident(circumstances=["crane_overturned"]), grpc.StatusCode.INVALID_ARGUMENT,
         {"incident.circumstances[0]"}),
        (incident(trapped_hours=float("inf")), grpc.StatusCode.INVALID_ARGUMENT, {"incident.trapped_hours"}),
        (incident(title="", learned_at=None), grpc.StatusCode.INVALID_ARGUMENT,
         {"incident.title", "incident.learned_at"}),
        (incident(occurred_at=timestamp_pb2.Timestamp(seconds=10**15)), grpc.StatusCode.INVALID_ARGUMENT,
         {"incident.occurred_at"}),
        (incident(office_id="MH99"), grpc.StatusCode.NOT_FOUND, set()),
    ]
    for message, code, fields in bad:
        found = expect_error(lambda m=message: emergency.incidents.ReportIncident(
            pb.ReportIncidentRequest(incident=m)), code)
        assert set(found) == fields, message
    expect_error(lambda: emergency.incidents.ReportIncident(pb.ReportIncidentRequest(
        request_id="x" * 129, incident=incident())), grpc.StatusCode.INVALID_ARGUMENT)
    assert rows(emergency) == before


def test_new_counts_regrade_and_add_the_higher_levels_actions(emergency):
    created = report(emergency, ill_count=99)
    updated = emergency.incidents.UpdateCounts(pb.UpdateCountsRequest(
        id=created.id, incident=pb.Incident(ill_count=100),
            update_mask=FieldMask(paths=["ill_count"]), note="疾控通报新增1例",
        expected_version=created.version))
    assert (updated.level, [r.criterion for r in updated.grading_reasons]) == (pb.LEVEL_III, ["FS-III-ill"])
    added = [a for a in updated.actions if a.required_by == pb.LEVEL_III]
    assert sorted(a.code for a in added) == ["INFORM_PUBLIC", "REPORT_UPWARD"]
    assert all(a.due_time.ToDatetime(dt.UTC) > now() for a in added)
    [changed] = events(emergency, events_pb2.IncidentLevelChanged)
    assert (changed.message.incident_id, changed.message.version) == (created.id, updated.version)
    assert (changed.message.previous_level, changed.message.level) == ("IV", "III")
    assert [r.criterion for r in changed.message.grading_reasons] == ["FS-III-ill"]
    kinds = [e.kind for e in updated.timeline]
    assert kinds[-3:] == [pb.TIMELINE_ENTRY_KIND_COUNTS_UPDATED, pb.TIMELINE_ENTRY_KIND_LEVEL_CHANGED,
                          pb.TIMELINE_ENTRY_KIND_ACTION_ADDED]

    before = rows(emergency)
    expect_error(lambda: emergency.incidents.UpdateCounts(pb.UpdateCountsRequest(
        id=created.id, incident=pb.Incident(ill_count=120), update_mask=FieldMask(paths=["ill_count"]),
        expected_version=created.version)), grpc.StatusCode.ABORTED)
    # The mask is checked first, as a whole request's shape: a path that cannot be updated refuses the call
    # before any count is read.
    found = expect_error(lambda: emergency.incidents.UpdateCounts(pb.UpdateCountsRequest(
        id=created.id, incident=pb.Incident(death_count=-1), update_mask=FieldMask(paths=["death_count", "title"]))),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert set(found) == {"update_mask"}
    found = expect_error(lambda: emergency.incidents.UpdateCounts(pb.UpdateCountsRequest(
        id=created.id, incident=pb.Incident(death_count=-1), update_mask=FieldMask(paths=["death_count"]))),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert set(found) == {"incident.death_count"}
    expect_error(lambda: emergency.incidents.UpdateCounts(pb.UpdateCountsRequest(id="nope")),
                 grpc.StatusCode.NOT_FOUND)
    assert rows(emergency) == before


def test_an_officer_raises_the_level_but_never_below_the_criteria(emergency):
    created = report(emergency, death_count=1)
    assert created.level == pb.LEVEL_III
    found = expect_error(lambda: emergency.incidents.EscalateLevel(pb.EscalateLevelRequest(
        id=created.id, level=pb.LEVEL_IV, reason="降级")), grpc.StatusCode.FAILED_PRECONDITION)
    assert "criteria give III" in found["level"]
    for request, field in ((pb.EscalateLevelRequest(id=created.id, level=pb.LEVEL_II), "reason"),
                           (pb.EscalateLevelRequest(id=created.id, reason="提级"), "level"),
                           (pb.EscalateLevelRequest(id=created.id, level=9, reason="提级"), "level")):
        assert field in expect_error(lambda r=request: emergency.incidents.EscalateLevel(r),
                                     grpc.StatusCode.INVALID_ARGUMENT)
    escalated = emergency.incidents.EscalateLevel(pb.EscalateLevelRequest(id=created.id, level=pb.LEVEL_II,
                                                                          reason="涉及学校，社会关注度高"))
    assert (escalated.level, escalated.criteria_level) == (pb.LEVEL_II, pb.LEVEL_III)
    deciding = escalated.grading_reasons[0]
    assert (deciding.criterion, deciding.level, deciding.text) == ("ESCALATION", pb.LEVEL_II, "涉及学校，社会关注度高")
    [changed] = events(emergency, events_pb2.IncidentLevelChanged)
    assert (changed.message.previous_level, changed.message.level) == ("III", "II")
    assert [(r.level, r.criterion) for r in changed.message.grading_reasons] == [("II", "ESCALATION"),
                                                                                ("III", "FS-III-death")]


# ---------------------------------------------------------------- dispatch, completion, closure


def test_dispatch_uses_officers_from_command_centers_events(emergency):
    created = report(emergency, ill_count=5)
    onsite = action(created, "ONSITE").id
    assign = pb.AssignActionRequest(incident_id=created.id, action_id=onsite, officer_id="MH01-01")
    assert action(emergency.incidents.AssignAction(assign), "ONSITE").assignee_id == "MH01-01"
    other = pb.AssignActionRequest(incident_id=created.id, action_id=onsite, officer_id="MH02-01")
    assert "MH02" in expect_error(lambda: emergency.incidents.AssignAction(other),
                                  grpc.StatusCode.FAILED_PRECONDITION)["officer_id"]
    # MH02-01 moves to MH01: command_center's OfficerUpdated lets emergency dispatch them there.
    emergency.directory.move_officer("MH02-01", "MH01")
    assert action(emergency.incidents.AssignAction(other), "ONSITE").assignee_id == "MH02-01"
    # An officer registered at MH02 and moved to MH01, whose registration arrives after the move:
    # the older version changes nothing.
    emergency.directory.officer("MH02-02", "MH02", "张磊", forward=False)
    emergency.directory.move_officer("MH02-02", "MH01", forward=False)
    registered, moved = [w for w in emergency.directory.pending() if w["type"].endswith((".OfficerRegistered",
                                                                                         ".OfficerUpdated"))]
    emergency.directory.forward([moved, registered])
    late = pb.AssignActionRequest(incident_id=created.id, action_id=onsite, officer_id="MH02-02")
    assert action(emergency.incidents.AssignAction(late), "ONSITE").assignee_id == "MH02-02"
    for request, code in ((pb.AssignActionRequest(incident_id=created.id, action_id=onsite, officer_id="X"),
                           grpc.StatusCode.NOT_FOUND),
                          (pb.AssignActionRequest(incident_id=created.id, action_id=onsite),
                           grpc.StatusCode.INVALID_ARGUMENT),
                          (pb.AssignActionRequest(incident_id=created.id, action_id="nope", officer_id="MH01-01"),
                           grpc.StatusCode.NOT_FOUND)):
        expect_error(lambda r=request: emergency.incidents.AssignAction(r), code)


def test_an_incident_is_stable_when_every_action_is_done_and_closes_with_its_review(emergency):
    created = report(emergency, ill_count=5)
    review = pb.Review(cause="留样检出诺如病毒", measures="停业整顿", lessons="加强晨检")
    expect_error(lambda: emergency.incidents.CloseIncident(pb.CloseIncidentRequest(id=created.id, review=review)),
                 grpc.StatusCode.FAILED_PRECONDITION)
    learned = created.learned_at.ToDatetime(dt.UTC)
    current = created
    for planned in created.actions:
        current = emergency.incidents.CompleteAction(pb.CompleteActionRequest(
            incident_id=created.id, action_id=planned.id, note="完成", done_time=ts(learned + HOUR / 2)))
    assert current.state == pb.INCIDENT_STATE_STABLE and not any(a.overdue for a in current.actions)
    noted = emergency.incidents.AddTimelineNote(pb.AddTimelineNoteRequest(incident_id=created.id, note="家长情绪稳定"))
    assert noted.timeline[-1].text == "家长情绪稳定"
    found = expect_error(lambda: emergency.incidents.CloseIncident(pb.CloseIncidentRequest(
        id=created.id, review=pb.Review(cause="原因"))), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(found) == {"review.measures", "review.lessons"}
    closed = emergency.incidents.CloseIncident(pb.CloseIncidentRequest(id=created.id, review=review))
    assert closed.state == pb.INCIDENT_STATE_CLOSED and closed.review == review and closed.HasField("close_time")
    [event] = events(emergency, events_pb2.IncidentClosed)
    assert (event.message.incident_id, event.message.state, event.message.level) == (created.id, "CLOSED", "IV")
    assert (event.message.closed_at, event.message.review_cause) == (closed.close_time, review.cause)
    before = rows(emergency)
    expect_error(lambda: emergency.incidents.CompleteAction(pb.CompleteActionRequest(
        incident_id=created.id, action_id=created.actions[0].id)), grpc.StatusCode.FAILED_PRECONDITION)
    expect_error(lambda: emergency.incidents.AddTimelineNote(pb.AddTimelineNoteRequest(
        incident_id=created.id, note="再补充")), grpc.StatusCode.FAILED_PRECONDITION)
    assert rows(emergency) == before


def test_bad_completions_and_notes_are_invalid_argument(emergency):
    created = report(emergency, ill_count=5)
    report_action = action(created, "REPORT").id
    for request, field in (
            (pb.CompleteActionRequest(incident_id=created.id, action_id=report_action, done_time=ts(now() + HOUR)),
             "done_time"),
            (pb.CompleteActionRequest(incident_id=created.id, action_id=report_action,
                                      done_time=ts(now() - 10 * HOUR)), "done_time"),
            (pb.CompleteActionRequest(incident_id=created.id, action_id=report_action, note="长" * 4001), "note")):
        assert field in expect_error(lambda r=request: emergency.incidents.CompleteAction(r),
                                     grpc.StatusCode.INVALID_ARGUMENT)
    assert "note" in expect_error(lambda: emergency.incidents.AddTimelineNote(pb.AddTimelineNoteRequest(
        incident_id=created.id, note=" ")), grpc.StatusCode.INVALID_ARGUMENT)
    expect_error(lambda: emergency.incidents.GetIncident(pb.GetIncidentRequest(id="nope")), grpc.StatusCode.NOT_FOUND)
    assert all(a.state == pb.ACTION_STATE_OPEN for a in emergency.incidents.GetIncident(
        pb.GetIncidentRequest(id=created.id)).actions)


# ---------------------------------------------------------------- the sweep, lists, indicators


def test_the_sweep_publishes_overdue_events_once_and_moves_the_indicators(emergency):
    late = report(emergency, learned_ago=3 * HOUR, ill_count=5)
    emergency.incidents.CompleteAction(pb.CompleteActionRequest(
        incident_id=late.id, action_id=action(late, "ONSITE").id,
        done_time=ts(late.learned_at.ToDatetime(dt.UTC) + HOUR)))
    sweep = emergency.running.runtime.timers[0]
    assert sweep.run() == 1
    assert sweep.run() == 0
    [notice] = events(emergency, events_pb2.NotificationOverdue)
    report_action = action(late, "REPORT")
    assert (notice.message.incident_id, notice.message.action_id, notice.message.action_code) == (
        late.id, report_action.id, "REPORT")
    assert (notice.message.action_kind, notice.message.due_at) == ("NOTIFICATION", report_action.due_time)
    assert events(emergency, events_pb2.ActionOverdue) == []  # ONSITE was done in time
    assert emergency.indicator("MH01", "emergency.report_within_limit") == (0, 1)
    assert emergency.indicator("MH01", "emergency.onsite_within_target") == (1, 1)
    assert emergency.indicator("MH01", "emergency.actions_on_time") == (1, 2)
    emergency.incidents.CompleteAction(pb.CompleteActionRequest(incident_id=late.id,
                                                                action_id=action(late, "REPORT").id))
    assert emergency.indicator("MH01", "emergency.report_within_limit") == (0, 1)  # done, but late


def test_list_incidents_pages_and_filters(emergency):
    food = report(emergency, ill_count=5)
    serious = report(emergency, ill_count=150)
    elsewhere = report(emergency, office_id="MH02", incident_type=pb.INCIDENT_TYPE_MASS_CONSUMER_DISPUTE,
                       affected_count=40)
    seen, token = [], ""
    while True:
        page = emergency.incidents.ListIncidents(pb.ListIncidentsRequest(page_size=2, page_token=token))
        seen += [i.id for i in page.incidents]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted([food.id, serious.id, elsewhere.id])
    assert page.incidents[0].timeline == [] and page.incidents[0].actions

    def ids(text: str) -> list[str]:
        return [i.id for i in emergency.incidents.ListIncidents(pb.ListIncidentsRequest(filter=text)).incidents]

    assert ids('office_id = "MH02"') == [elsewhere.id]
    assert ids("level = LEVEL_III") == [serious.id]
    assert ids("type = MASS_CONSUMER_DISPUTE AND state = ACTIVE") == [elsewhere.id]
    for text in ("colour = red", "level = V", "state = INCIDENT_STATE_UNSPECIFIED", "level =="):
        assert "filter" in expect_error(lambda t=text: ids(t), grpc.StatusCode.INVALID_ARGUMENT)
    expect_error(lambda: emergency.incidents.ListIncidents(pb.ListIncidentsRequest(page_token="zz")),
                 grpc.StatusCode.INVALID_ARGUMENT)


def date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def test_drills_count_against_the_yearly_target(emergency):
    today = emergency.running.clock.today
    assert emergency.indicator("MH01", "emergency.drills_per_year") == (0, 2)
    drill = pb.Drill(office_id="MH01", held_on=date(today), title="电梯困人应急救援演练", participant_count=12,
                     incident_type=pb.INCIDENT_TYPE_SPECIAL_EQUIPMENT)
    first = emergency.incidents.RecordDrill(pb.RecordDrillRequest(request_id="d-1", drill=drill))
    assert emergency.incidents.RecordDrill(pb.RecordDrillRequest(request_id="d-1", drill=drill)) == first
    last_year = pb.Drill(office_id="MH01", held_on=date(dt.date(today.year - 1, 12, 31)), title="去年的演练",
                         participant_count=8)
    emergency.incidents.RecordDrill(pb.RecordDrillRequest(drill=last_year))
    assert emergency.indicator("MH01", "emergency.drills_per_year") == (1, 2)
    for _ in range(2):
        emergency.incidents.RecordDrill(pb.RecordDrillRequest(drill=drill))
    assert emergency.indicator("MH01", "emergency.drills_per_year") == (2, 2)  # beyond the target: capped
    listed = emergency.incidents.ListDrills(pb.ListDrillsRequest(filter=f'office_id = "MH01" AND year = {today.year}'))
    assert len(listed.drills) == 3

    before = rows(emergency)
    for bad, field in ((pb.Drill(office_id="MH01", held_on=date(today + dt.timedelta(days=1)), title="t",
                                 participant_count=3), "drill.held_on"),
                       (pb.Drill(office_id="MH01", held_on=date(today), title="", participant_count=0),
                        "drill.participant_count"),
                       (pb.Drill(office_id="MH01", held_on=date_pb2.Date(year=2026, month=2, day=30), title="t",
                                 participant_count=3), "drill.held_on")):
        assert field in expect_error(lambda d=bad: emergency.incidents.RecordDrill(pb.RecordDrillRequest(drill=d)),
                                     grpc.StatusCode.INVALID_ARGUMENT)
    expect_error(lambda: emergency.incidents.RecordDrill(pb.RecordDrillRequest(drill=pb.Drill(
        office_id="MH77", held_on=date(today), title="t", participant_count=3))), grpc.StatusCode.NOT_FOUND)
    assert "filter" in expect_error(lambda: emergency.incidents.ListDrills(pb.ListDrillsRequest(
        filter="year = last")), grpc.StatusCode.INVALID_ARGUMENT)
    assert rows(emergency) == before


def test_grading_rules_describe_the_rule_set_in_force(emergency):
    food = emergency.incidents.GetGradingRules(pb.GetGradingRulesRequest(
        type=pb.INCIDENT_TYPE_FOOD_SAFETY, date=date(dt.date(2026, 11, 2))))
    assert (food.rule_set, food.local_practice, food.default_level) == ("2020-01-01", False, pb.LEVEL_IV)
    report_due = {d.level: d.due_minutes for d in next(a for a in food.plan if a.code == "REPORT").due}
    assert report_due == {pb.LEVEL_I: 120, pb.LEVEL_II: 120, pb.LEVEL_III: 120, pb.LEVEL_IV: 120}
    assert "serious_harm" in [c.code for c in food.circumstances]
    dispute = emergency.incidents.GetGradingRules(pb.GetGradingRulesRequest(
        type=pb.INCIDENT_TYPE_MASS_CONSUMER_DISPUTE))
    assert dispute.local_practice
    for request, field in ((pb.GetGradingRulesRequest(), "type"),
                           (pb.GetGradingRulesRequest(type=1, date=date(dt.date(2019, 1, 1))), "date"),
                           (pb.GetGradingRulesRequest(type=1, date=date_pb2.Date(year=2026, month=13, day=1)),
                            "date")):
        assert field in expect_error(lambda r=request: emergency.incidents.GetGradingRules(r),
                                     grpc.StatusCode.INVALID_ARGUMENT)


# ---------------------------------------------------------------- office scoping (AUTH_MODE=jwt)

SECRET = "test-secret-of-at-least-32-bytes!!"


def test_an_office_user_sees_and_changes_only_its_own_incidents(tmp_path):
    running = host("emergency", f"sqlite:///{tmp_path / 'emergency.db'}",
                   make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET))
    center = host("command_center", f"sqlite:///{tmp_path / 'command_center.db'}", make_settings(), running.clock)
    try:
        client = EmergencyClient(running)
        directory = CommandCenter(center, running)
        for office_id in ("MH01", "MH02"):
            directory.office(office_id)

        def as_(roles, office_id=""):
            return (("authorization", f"Bearer {issue_token(SECRET, subject='u1', roles=roles, office_id=office_id)}"),)

        mine = client.incidents.ReportIncident(pb.ReportIncidentRequest(incident=incident(ill_count=3)),
                                               metadata=as_(["officer"], "MH01"))
        expect_error(lambda: client.incidents.ReportIncident(pb.ReportIncidentRequest(
            incident=incident(office_id="MH02")), metadata=as_(["officer"], "MH01")),
            grpc.StatusCode.PERMISSION_DENIED)
        other = as_(["office_head"], "MH02")
        expect_error(lambda: client.incidents.GetIncident(pb.GetIncidentRequest(id=mine.id), metadata=other),
                     grpc.StatusCode.PERMISSION_DENIED)
        expect_error(lambda: client.incidents.AddTimelineNote(pb.AddTimelineNoteRequest(
            incident_id=mine.id, note="x"), metadata=other), grpc.StatusCode.PERMISSION_DENIED)
        assert list(client.incidents.ListIncidents(pb.ListIncidentsRequest(), metadata=other).incidents) == []
        # Below level IV the office scope is the same: another office neither lists nor raises it.
        below = client.incidents.ReportIncident(pb.ReportIncidentRequest(incident=incident(
            incident_type=pb.INCIDENT_TYPE_SPECIAL_EQUIPMENT, trapped_count=1, trapped_hours=1)),
            metadata=as_(["officer"], "MH01"))
        assert below.outcome == pb.INCIDENT_OUTCOME_NOT_AN_ACCIDENT
        assert list(client.incidents.ListIncidents(pb.ListIncidentsRequest(filter="outcome = NOT_AN_ACCIDENT"),
                                                   metadata=other).incidents) == []
        expect_error(lambda: client.incidents.EscalateLevel(pb.EscalateLevelRequest(
            id=below.id, level=pb.LEVEL_IV, reason="x"), metadata=other), grpc.StatusCode.PERMISSION_DENIED)
        # The auditor role in the same token reads the district but widens no write scope.
        mixed = as_(["office_head", "auditor"], "MH02")
        before = client.incidents.GetIncident(pb.GetIncidentRequest(id=mine.id), metadata=mixed)
        expect_error(lambda: client.incidents.AddTimelineNote(pb.AddTimelineNoteRequest(
            incident_id=mine.id, note="x"), metadata=mixed), grpc.StatusCode.PERMISSION_DENIED)
        expect_error(lambda: client.incidents.ReportIncident(pb.ReportIncidentRequest(
            incident=incident(office_id="MH01")), metadata=mixed), grpc.StatusCode.PERMISSION_DENIED)
        leader = as_(["bureau_leader"])
        assert client.incidents.GetIncident(pb.GetIncidentRequest(id=mine.id), metadata=leader) == before
        auditor = client.incidents.ListIncidents(pb.ListIncidentsRequest(), metadata=as_(["auditor"]))
        assert sorted(i.id for i in auditor.incidents) == sorted([mine.id, below.id])
        expect_error(lambda: client.incidents.EscalateLevel(pb.EscalateLevelRequest(
            id=mine.id, level=pb.LEVEL_I, reason="x"), metadata=as_(["auditor"])), grpc.StatusCode.PERMISSION_DENIED)
        expect_error(lambda: client.incidents.GetIncident(pb.GetIncidentRequest(id=mine.id)),
                     grpc.StatusCode.UNAUTHENTICATED)
    finally:
        center.close()
        running.close()
