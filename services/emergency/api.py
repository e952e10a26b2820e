"""emergency's gRPC servicer: proto <-> domain, nothing more."""

from __future__ import annotations

import datetime as dt

from services.common.context import current_caller
from services.common.convert import (
    date_from_proto,
    date_to_proto,
    enum_filter,
    enum_name,
    timestamp_from_proto,
    update_paths,
)
from services.common.errors import InvalidArgument
from services.common.paging import parse_filter, parse_page
from services.emergency.domain.drills import DrillInput
from services.emergency.domain.emergency import Emergency, IncidentView, report_due
from services.emergency.domain.incidents import UPDATABLE_FIELDS, IncidentInput, ReviewInput
from services.emergency.domain.rules import COUNT_FIELDS, LEVELS, RuleSet, TypeRules
from services.emergency.models import Drill
from supervision.emergency.v1 import emergency_pb2 as pb
from supervision.emergency.v1 import emergency_pb2_grpc as pb_grpc

TYPE = "INCIDENT_TYPE_"
LEVEL = "LEVEL_"
STATE = "INCIDENT_STATE_"
KIND = "ACTION_KIND_"
ACTION_STATE = "ACTION_STATE_"
ENTRY = "TIMELINE_ENTRY_KIND_"
MAX_YEAR = 9999


def _set_time(target, instant: dt.datetime | None) -> None:
    if instant is not None:
        target.FromDatetime(instant)


def _counts(message: pb.Incident) -> dict[str, float]:
    return {name: getattr(message, name) for name in COUNT_FIELDS}


def incident_to_proto(view: IncidentView) -> pb.Incident:
    incident = view.incident
    message = pb.Incident(
        id=incident.id, type=pb.IncidentType.Value(TYPE + incident.type), office_id=incident.office_id,
        title=incident.title, description=incident.description, entity_name=incident.entity_name,
        address=incident.address, circumstances=incident.circumstances,
        level=pb.Level.Value(LEVEL + incident.level), criteria_level=pb.Level.Value(LEVEL + incident.criteria_level),
        grading_reasons=[pb.GradingReason(level=pb.Level.Value(LEVEL + r["level"]), criterion=r["criterion"],
                                          text=r["text"]) for r in incident.grading_reasons],
        rule_set=incident.rule_set, state=pb.IncidentState.Value(STATE + incident.state),
        review=pb.Review(cause=incident.review_cause, measures=incident.review_measures,
                         lessons=incident.review_lessons),
        reported_by=incident.reported_by, version=incident.version,
        **{name: getattr(incident, name) for name in COUNT_FIELDS})
    _set_time(message.occurred_at, incident.occurred_at)
    _set_time(message.learned_at, incident.learned_at)
    _set_time(message.report_due, report_due(view.actions))
    _set_time(message.create_time, incident.created_at)
    _set_time(message.update_time, incident.updated_at)
    _set_time(message.close_time, incident.closed_at)
    for action in view.actions:
        added = message.actions.add(id=action.id, code=action.code, title=action.title,
                                    kind=pb.ActionKind.Value(KIND + action.kind),
                                    state=pb.ActionState.Value(ACTION_STATE + action.state), overdue=action.overdue,
                                    assignee_id=action.assignee_id, done_by=action.done_by, note=action.note,
                                    required_by=pb.Level.Value(LEVEL + action.required_by))
        _set_time(added.due_time, action.due_at)
        _set_time(added.done_time, action.done_at)
    for entry in view.timeline:
        added = message.timeline.add(kind=pb.TimelineEntryKind.Value(ENTRY + entry.kind), actor=entry.actor,
                                     text=entry.text)
        _set_time(added.time, entry.recorded_at)
    return message


def drill_to_proto(drill: Drill) -> pb.Drill:
    message = pb.Drill(id=drill.id, office_id=drill.office_id, held_on=date_to_proto(drill.held_on),
                       title=drill.title,
                       incident_type=pb.IncidentType.Value(TYPE + drill.incident_type) if drill.incident_type else 0,
                       participant_count=drill.participant_count, scenario=drill.scenario, findings=drill.findings,
                       recorded_by=drill.recorded_by)
    _set_time(message.create_time, drill.created_at)
    return message


def rules_to_proto(rule_set: RuleSet, rules: TypeRules) -> pb.GradingRules:
    return pb.GradingRules(
        type=pb.IncidentType.Value(TYPE + rules.type), name=rules.name, rule_set=rule_set.id, basis=rules.basis,
        local_practice=rules.local_practice,
        circumstances=[pb.Circumstance(code=c.code, label=c.label) for c in rules.circumstances.values()],
        criteria=[pb.Criterion(id=c.id, level=pb.Level.Value(LEVEL + c.level), text=c.text) for c in rules.criteria],
        default_level=pb.Level.Value(LEVEL + rules.default_level),
        plan=[pb.PlannedAction(code=a.code, title=a.title, kind=pb.ActionKind.Value(KIND + a.kind),
                               due=[pb.PlannedDue(level=pb.Level.Value(LEVEL + level),
                                                  due_minutes=int(a.due[level].total_seconds() // 60))
                                    for level in LEVELS if level in a.due])
              for a in rules.plan])


def _incident_input(message: pb.Incident) -> IncidentInput:
    return IncidentInput(
        type=enum_name(pb.IncidentType, message.type, "incident.type", TYPE, required=False),
        office_id=message.office_id, title=message.title, description=message.description,
        entity_name=message.entity_name, address=message.address,
        occurred_at=timestamp_from_proto(message, "occurred_at", "incident.occurred_at"),
        learned_at=timestamp_from_proto(message, "learned_at", "incident.learned_at"),
        counts=_counts(message), circumstances=list(message.circumstances))


def _year(raw: object) -> int:
    text = str(raw)
    if not text.isdigit() or not 1 <= int(text) <= MAX_YEAR:
        raise InvalidArgument.of("filter", f"year must be a year such as 2026, not {text!r}")
    return int(text)


class IncidentApi(pb_grpc.IncidentServiceServicer):
    def __init__(self, emergency: Emergency):
        self.emergency = emergency

    def ReportIncident(self, request, context):
        view = self.emergency.report_incident(current_caller(), request.request_id, _incident_input(request.incident))
        return incident_to_proto(view)

    def GetIncident(self, request, context):
        return incident_to_proto(self.emergency.get_incident(current_caller(), request.id))

    def ListIncidents(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "type": str, "level": str, "state": str})
        incident_type = enum_filter(pb.IncidentType, str(terms["type"]), "type", TYPE) if "type" in terms else None
        level = enum_filter(pb.Level, str(terms["level"]), "level", LEVEL) if "level" in terms else None
        state = enum_filter(pb.IncidentState, str(terms["state"]), "state", STATE) if "state" in terms else None
        result = self.emergency.list_incidents(current_caller(), page, terms.get("office_id"), incident_type, level,
                                               state)
        return pb.ListIncidentsResponse(incidents=[incident_to_proto(v) for v in result.items],
                                        next_page_token=result.next_page_token)

    def UpdateCounts(self, request, context):
        mask = update_paths(request.update_mask, UPDATABLE_FIELDS)
        view = self.emergency.update_counts(current_caller(), request.id, _counts(request.incident),
                                            list(request.incident.circumstances), mask,
                                            request.note, request.expected_version)
        return incident_to_proto(view)

    def EscalateLevel(self, request, context):
        level = enum_name(pb.Level, request.level, "level", LEVEL, required=False)
        return incident_to_proto(self.emergency.escalate_level(current_caller(), request.id, level, request.reason))

    def AssignAction(self, request, context):
        return incident_to_proto(self.emergency.assign_action(current_caller(), request.incident_id,
                                                              request.action_id, request.officer_id))

    def CompleteAction(self, request, context):
        done_at = timestamp_from_proto(request, "done_time", "done_time")
        return incident_to_proto(self.emergency.complete_action(current_caller(), request.incident_id,
                                                                request.action_id, request.note, done_at))

    def AddTimelineNote(self, request, context):
        return incident_to_proto(self.emergency.add_note(current_caller(), request.incident_id, request.note))

    def CloseIncident(self, request, context):
        review = ReviewInput(cause=request.review.cause, measures=request.review.measures,
                             lessons=request.review.lessons)
        return incident_to_proto(self.emergency.close_incident(current_caller(), request.id, review))

    def GetGradingRules(self, request, context):
        incident_type = enum_name(pb.IncidentType, request.type, "type", TYPE, required=False)
        rule_set, rules = self.emergency.grading_rules(incident_type, date_from_proto(request.date, "date"))
        return rules_to_proto(rule_set, rules)

    def RecordDrill(self, request, context):
        drill = request.drill
        data = DrillInput(office_id=drill.office_id, held_on=date_from_proto(drill.held_on, "drill.held_on"),
                          title=drill.title,
                          incident_type=enum_name(pb.IncidentType, drill.incident_type, "drill.incident_type", TYPE,
                                                  required=False),
                          participant_count=drill.participant_count, scenario=drill.scenario,
                          findings=drill.findings)
        return drill_to_proto(self.emergency.record_drill(current_caller(), request.request_id, data))

    def ListDrills(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "year": str})
        year = _year(terms["year"]) if "year" in terms else None
        result = self.emergency.list_drills(current_caller(), page, terms.get("office_id"), year)
        return pb.ListDrillsResponse(drills=[drill_to_proto(d) for d in result.items],
                                     next_page_token=result.next_page_token)
