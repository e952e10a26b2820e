"""emergency's messages: proto requests -> domain inputs, domain records -> proto."""

from __future__ import annotations

import datetime as dt

from google.protobuf.field_mask_pb2 import FieldMask

from services.common.convert import (
    date_from_proto,
    date_to_proto,
    enum_filter,
    enum_name,
    timestamp_from_proto,
    update_paths,
)
from services.common.errors import InvalidArgument
from services.common.paging import ListResult
from services.emergency.domain.drills import DrillInput
from services.emergency.domain.incidents import UPDATABLE_FIELDS, IncidentView, ReviewInput, report_due
from services.emergency.domain.intake import IncidentInput
from services.emergency.domain.rules import BELOW_IV, COUNT_FIELDS, LEVELS, PlannedAction, RuleSet, TypeRules
from services.emergency.models import Drill
from supervision.emergency.v1 import emergency_pb2 as pb

TYPE = "INCIDENT_TYPE_"
LEVEL = "LEVEL_"
STATE = "INCIDENT_STATE_"
KIND = "ACTION_KIND_"
ACTION_STATE = "ACTION_STATE_"
ENTRY = "TIMELINE_ENTRY_KIND_"
OUTCOME = "INCIDENT_OUTCOME_"
MAX_YEAR = 9999


def level_value(level: str | None) -> int:
    """A domain level (I-IV) as the Level enum; unset below level IV."""
    return pb.Level.Value(LEVEL + level) if level else pb.LEVEL_UNSPECIFIED


def _set_time(target, instant: dt.datetime | None) -> None:
    if instant is not None:
        target.FromDatetime(instant)


def counts(message: pb.Incident) -> dict[str, float]:
    return {name: getattr(message, name) for name in COUNT_FIELDS}


def incident_to_proto(view: IncidentView) -> pb.Incident:
    incident = view.incident
    message = pb.Incident(
        id=incident.id, type=pb.IncidentType.Value(TYPE + incident.type), office_id=incident.office_id,
        title=incident.title, description=incident.description, entity_name=incident.entity_name,
        address=incident.address, circumstances=incident.circumstances,
        level=level_value(incident.level), criteria_level=level_value(incident.criteria_level),
        grading_reasons=[pb.GradingReason(level=level_value(r["level"]), criterion=r["criterion"],
                                          text=r["text"]) for r in incident.grading_reasons],
        outcome=pb.IncidentOutcome.Value(OUTCOME + incident.outcome), handling=incident.handling,
        unit_report_late=incident.unit_report_late,
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
                                    required_by=level_value(action.required_by))
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


def _planned_to_proto(action: PlannedAction, levels: tuple[str, ...]) -> pb.PlannedAction:
    return pb.PlannedAction(code=action.code, title=action.title, kind=pb.ActionKind.Value(KIND + action.kind),
                            due=[pb.PlannedDue(level=level_value(level),
                                               due_minutes=int(action.due[level].total_seconds() // 60))
                                 for level in levels if level in action.due])


def rules_to_proto(rule_set: RuleSet, rules: TypeRules) -> pb.GradingRules:
    message = pb.GradingRules(
        type=pb.IncidentType.Value(TYPE + rules.type), name=rules.name, rule_set=rule_set.id, basis=rules.basis,
        local_practice=rules.local_practice,
        circumstances=[pb.Circumstance(code=c.code, label=c.label) for c in rules.circumstances.values()],
        criteria=[pb.Criterion(id=c.id, level=level_value(c.level), text=c.text) for c in rules.criteria],
        default_level=level_value(rules.default_level),
        plan=[_planned_to_proto(a, LEVELS) for a in rules.plan],
        reach=[pb.ReachRule(count=count, implies=implied) for count, implied in rules.reach.items()])
    below = rules.below_level_iv
    if below is not None:
        message.below_level_iv.CopyFrom(pb.BelowLevelIv(
            outcome=pb.IncidentOutcome.Value(OUTCOME + below.outcome), label=below.label, basis=below.basis,
            handlings=[pb.BelowLevelIvHandling(id=h.id, text=h.text, circumstances=sorted(h.circumstances),
                                               plan=[_planned_to_proto(a, (BELOW_IV,)) for a in h.plan])
                       for h in below.handlings]))
    return message


def incident_input(message: pb.Incident) -> IncidentInput:
    return IncidentInput(
        type=enum_name(pb.IncidentType, message.type, "incident.type", TYPE, required=False),
        office_id=message.office_id, title=message.title, description=message.description,
        entity_name=message.entity_name, address=message.address,
        occurred_at=timestamp_from_proto(message, "occurred_at", "incident.occurred_at"),
        learned_at=timestamp_from_proto(message, "learned_at", "incident.learned_at"),
        counts=counts(message), circumstances=list(message.circumstances))


def year(raw: object) -> int:
    text = str(raw)
    if not text.isdigit() or not 1 <= int(text) <= MAX_YEAR:
        raise InvalidArgument.of("filter", f"year must be a year such as 2026, not {text!r}")
    return int(text)


def review_input(message: pb.Review) -> ReviewInput:
    return ReviewInput(cause=message.cause, measures=message.measures, lessons=message.lessons)


def drill_input(message: pb.Drill) -> DrillInput:
    return DrillInput(office_id=message.office_id, held_on=date_from_proto(message.held_on, "drill.held_on"),
                      title=message.title,
                      incident_type=enum_name(pb.IncidentType, message.incident_type, "drill.incident_type", TYPE,
                                              required=False),
                      participant_count=message.participant_count, scenario=message.scenario,
                      findings=message.findings)


def type_name(value: int, field: str) -> str | None:
    """The incident type a request names, None when unset."""
    return enum_name(pb.IncidentType, value, field, TYPE, required=False)


def level_name(value: int) -> str | None:
    """The level (I-IV) a request names, None when unset."""
    return enum_name(pb.Level, value, "level", LEVEL, required=False)


def incident_filters(terms: dict[str, object]) -> tuple[str | None, str | None, str | None, str | None]:
    """The type, level, state and outcome terms of a ListIncidents filter as the domain names them."""
    incident_type = enum_filter(pb.IncidentType, str(terms["type"]), "type", TYPE) if "type" in terms else None
    level = enum_filter(pb.Level, str(terms["level"]), "level", LEVEL) if "level" in terms else None
    state = enum_filter(pb.IncidentState, str(terms["state"]), "state", STATE) if "state" in terms else None
    outcome = (enum_filter(pb.IncidentOutcome, str(terms["outcome"]), "outcome", OUTCOME)
               if "outcome" in terms else None)
    return incident_type, level, state, outcome


def counts_mask(mask: FieldMask) -> list[str]:
    """An UpdateCounts's mask as the incident fields it names."""
    return update_paths(mask, UPDATABLE_FIELDS)


def done_time(request: pb.CompleteActionRequest) -> dt.datetime | None:
    """When the action was actually done, None when the request leaves it to now."""
    return timestamp_from_proto(request, "done_time", "done_time")


def rules_day(request: pb.GetGradingRulesRequest) -> dt.date | None:
    """The day whose rule set is asked for, None for today."""
    return date_from_proto(request.date, "date")


def list_incidents_response(result: ListResult[IncidentView]) -> pb.ListIncidentsResponse:
    return pb.ListIncidentsResponse(incidents=[incident_to_proto(v) for v in result.items],
                                    next_page_token=result.next_page_token)


def list_drills_response(result: ListResult[Drill]) -> pb.ListDrillsResponse:
    return pb.ListDrillsResponse(drills=[drill_to_proto(d) for d in result.items],
                                 next_page_token=result.next_page_token)
