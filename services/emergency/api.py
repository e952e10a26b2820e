"""emergency's gRPC servicer: each method calls one use case and maps through messages.py."""

from __future__ import annotations

from services.common.context import current_caller
from services.common.paging import parse_filter, parse_page
from services.emergency import messages
from services.emergency.domain.drills import Drills
from services.emergency.domain.incidents import Incidents
from supervision.emergency.v1 import emergency_pb2_grpc as pb_grpc


class IncidentApi(pb_grpc.IncidentServiceServicer):
    def __init__(self, incidents: Incidents, drills: Drills):
        self.incidents = incidents
        self.drills = drills

    def ReportIncident(self, request, context):
        view = self.incidents.report_incident(current_caller(), request.request_id,
                                              messages.incident_input(request.incident))
        return messages.incident_to_proto(view)

    def GetIncident(self, request, context):
        return messages.incident_to_proto(self.incidents.get_incident(current_caller(), request.id))

    def ListIncidents(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "type": str, "level": str, "state": str,
                                              "outcome": str})
        incident_type, level, state, outcome = messages.incident_filters(terms)
        result = self.incidents.list_incidents(current_caller(), page, terms.get("office_id"), incident_type, level,
                                               state, outcome)
        return messages.list_incidents_response(result)

    def UpdateCounts(self, request, context):
        mask = messages.counts_mask(request.update_mask)
        view = self.incidents.update_counts(current_caller(), request.id, messages.counts(request.incident),
                                            list(request.incident.circumstances), mask,
                                            request.note, request.expected_version)
        return messages.incident_to_proto(view)

    def EscalateLevel(self, request, context):
        level = messages.level_name(request.level)
        return messages.incident_to_proto(self.incidents.escalate_level(current_caller(), request.id, level,
                                                                        request.reason))

    def AssignAction(self, request, context):
        return messages.incident_to_proto(self.incidents.assign_action(current_caller(), request.incident_id,
                                                                       request.action_id, request.officer_id))

    def CompleteAction(self, request, context):
        done_at = messages.done_time(request)
        return messages.incident_to_proto(self.incidents.complete_action(current_caller(), request.incident_id,
                                                                         request.action_id, request.note, done_at))

    def AddTimelineNote(self, request, context):
        return messages.incident_to_proto(self.incidents.add_note(current_caller(), request.incident_id,
                                                                  request.note))

    def CloseIncident(self, request, context):
        review = messages.review_input(request.review)
        return messages.incident_to_proto(self.incidents.close_incident(current_caller(), request.id, review))

    def GetGradingRules(self, request, context):
        incident_type = messages.type_name(request.type, "type")
        rule_set, rules = self.incidents.grading_rules(incident_type, messages.rules_day(request))
        return messages.rules_to_proto(rule_set, rules)

    def RecordDrill(self, request, context):
        drill = self.drills.record_drill(current_caller(), request.request_id, messages.drill_input(request.drill))
        return messages.drill_to_proto(drill)

    def ListDrills(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "year": str})
        year = messages.year(terms["year"]) if "year" in terms else None
        result = self.drills.list_drills(current_caller(), page, terms.get("office_id"), year)
        return messages.list_drills_response(result)
