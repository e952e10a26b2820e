"""mobile_enforcement's gRPC servicers: proto <-> domain, nothing more (conversions in messages.py)."""

from __future__ import annotations

from services.common.context import current_caller
from services.common.convert import date_from_proto, enum_filter, enum_name, update_paths
from services.common.errors import InvalidArgument
from services.common.paging import parse_filter, parse_page
from services.mobile_enforcement import messages as m
from services.mobile_enforcement.domain.audit import AuditTrails
from services.mobile_enforcement.domain.case_rules import PenaltyInput
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.entities import UPDATABLE_FIELDS, Entities, EntityInput
from services.mobile_enforcement.domain.entity_import import EntityImport
from services.mobile_enforcement.domain.inspections import Inspections, ScheduleInput
from services.mobile_enforcement.domain.spot_checks import PlanInput, SpotChecks
from services.mobile_enforcement.domain.workspace import Workspace
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc


def _filter_enum(terms: dict, field: str, enum_type, prefix: str) -> str | None:
    return enum_filter(enum_type, str(terms[field]), field, prefix) if field in terms else None


class EntityApi(pb_grpc.EntityServiceServicer):
    def __init__(self, entities: Entities, importer: EntityImport):
        self.entities = entities
        self.importer = importer

    @staticmethod
    def _input(message: pb.Entity) -> EntityInput:
        return EntityInput(uscc=message.uscc, name=message.name,
                           category=m.name_of(pb.EntityCategory, message.category, m.CATEGORY),
                           address=message.address, street=message.street,
                           risk_level=m.name_of(pb.RiskLevel, message.risk_level, m.RISK),
                           key_supervision=message.key_supervision)

    def RegisterEntity(self, request, context):
        entity = self.entities.register(current_caller(), request.request_id, self._input(request.entity))
        return m.entity_to_proto(entity)

    def GetEntity(self, request, context):
        return m.entity_to_proto(self.entities.get(current_caller(), request.uscc))

    def UpdateEntity(self, request, context):
        mask = update_paths(request.update_mask, UPDATABLE_FIELDS)
        entity = self.entities.update(current_caller(), self._input(request.entity), mask, request.expected_version)
        return m.entity_to_proto(entity)

    def ListEntities(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "category": str, "risk_level": str, "street": str,
                                              "key_supervision": bool})
        result = self.entities.list(current_caller(), page, terms.get("office_id"),
                                    _filter_enum(terms, "category", pb.EntityCategory, m.CATEGORY),
                                    _filter_enum(terms, "risk_level", pb.RiskLevel, m.RISK), terms.get("street"),
                                    terms.get("key_supervision"))
        return pb.ListEntitiesResponse(entities=[m.entity_to_proto(e) for e in result.items],
                                       next_page_token=result.next_page_token)

    def ImportEntities(self, request, context):
        result = self.importer.run(current_caller(), request.request_id, request.content)
        return pb.ImportEntitiesResponse(
            imported_count=result.imported_count,
            rejected_rows=[pb.RowError(line=r.line, field=r.field, description=r.description)
                           for r in result.rejected_rows])


class ChecklistApi(pb_grpc.ChecklistServiceServicer):
    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def GetChecklist(self, request, context):
        category = enum_name(pb.EntityCategory, request.category, "category", m.CATEGORY)
        if request.version < 0:
            raise InvalidArgument.of("version", "must not be negative")
        if request.version:
            return m.checklist_to_proto(self.workspace.catalog.version(category, request.version))
        day = date_from_proto(request.on, "on") or self.workspace.today()
        return m.checklist_to_proto(self.workspace.catalog.in_force(category, day))

    def ListChecklists(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"category": str})
        checklists, token = self.workspace.catalog.page(
            page, _filter_enum(terms, "category", pb.EntityCategory, m.CATEGORY))
        return pb.ListChecklistsResponse(checklists=[m.checklist_to_proto(c) for c in checklists],
                                         next_page_token=token)


class SpotCheckApi(pb_grpc.SpotCheckServiceServicer):
    def __init__(self, spot_checks: SpotChecks):
        self.spot_checks = spot_checks

    def DrawPlan(self, request, context):
        plan = request.plan
        data = PlanInput(
            office_id=plan.office_id, name=plan.name,
            categories=[m.name_of(pb.EntityCategory, c, m.CATEGORY) for c in plan.categories],
            ratio_basis_points=plan.ratio_basis_points,
            tier_ratios=[(m.name_of(pb.RiskLevel, t.risk_level, m.RISK), t.ratio_basis_points)
                         for t in plan.tier_ratios],
            inspectors_per_target=plan.inspectors_per_target, seed=plan.seed,
            due_date=date_from_proto(plan.due_date, "plan.due_date"))
        return m.plan_to_proto(self.spot_checks.draw_plan(current_caller(), request.request_id, data))

    def GetPlan(self, request, context):
        return m.plan_to_proto(self.spot_checks.get_plan(current_caller(), request.id))

    def ListPlans(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str})
        result = self.spot_checks.list_plans(current_caller(), page, terms.get("office_id"))
        return pb.ListPlansResponse(plans=[m.plan_to_proto(v) for v in result.items],
                                    next_page_token=result.next_page_token)

    def ListPlanTargets(self, request, context):
        page = parse_page(request)
        result = self.spot_checks.list_targets(current_caller(), request.plan_id, page)
        return pb.ListPlanTargetsResponse(targets=[m.target_to_proto(i) for i in result.items],
                                          next_page_token=result.next_page_token)

    def VerifyPlan(self, request, context):
        v = self.spot_checks.verify(current_caller(), request.id)
        return pb.PlanVerification(plan_id=v.plan_id, matches=v.matches,
                                   entity_snapshot_intact=v.entity_snapshot_intact,
                                   officer_snapshot_intact=v.officer_snapshot_intact,
                                   targets_checked=v.targets_checked, mismatch=v.mismatch)

    def ExportPlanSnapshot(self, request, context):
        kind = enum_name(pb.SnapshotKind, request.kind, "kind", m.SNAPSHOT)
        for chunk in self.spot_checks.export_snapshot(current_caller(), request.plan_id, kind):
            yield pb.SnapshotChunk(data=chunk)

    def DeclareConflict(self, request, context):
        conflict = request.conflict
        declared = self.spot_checks.declare_conflict(current_caller(), request.request_id, conflict.officer_id,
                                                     conflict.entity_id, conflict.reason)
        return m.conflict_to_proto(declared)

    def ListConflicts(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"officer_id": str, "entity_id": str})
        result = self.spot_checks.list_conflicts(current_caller(), page, terms.get("officer_id"),
                                                 terms.get("entity_id"))
        return pb.ListConflictsResponse(conflicts=[m.conflict_to_proto(c) for c in result.items],
                                        next_page_token=result.next_page_token)


class InspectionApi(pb_grpc.InspectionServiceServicer):
    def __init__(self, inspections: Inspections):
        self.inspections = inspections

    def ScheduleInspection(self, request, context):
        given = request.inspection
        data = ScheduleInput(entity_id=given.entity_id, kind=m.name_of(pb.InspectionKind, given.kind, m.KIND),
                             source_ref=given.source_ref,
                             due_date=date_from_proto(given.due_date, "inspection.due_date"))
        return m.inspection_to_proto(self.inspections.schedule(current_caller(), request.request_id, data))

    def GetInspection(self, request, context):
        return m.inspection_to_proto(self.inspections.get(current_caller(), request.id))

    def ListInspections(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "entity_id": str, "plan_id": str, "kind": str,
                                              "state": str})
        result = self.inspections.list(current_caller(), page, terms.get("office_id"), terms.get("entity_id"),
                                       terms.get("plan_id"), _filter_enum(terms, "kind", pb.InspectionKind, m.KIND),
                                       _filter_enum(terms, "state", pb.InspectionState, m.STATE))
        return pb.ListInspectionsResponse(inspections=[m.inspection_to_proto(v) for v in result.items],
                                          next_page_token=result.next_page_token)

    def StartInspection(self, request, context):
        view = self.inspections.start(current_caller(), request.id, list(request.officer_ids),
                                      m.location_from_proto(request))
        return m.inspection_to_proto(view)

    def RecordFindings(self, request, context):
        view = self.inspections.record_findings(current_caller(), request.id, m.findings_from_proto(request.findings))
        return m.inspection_to_proto(view)

    def CompleteInspection(self, request, context):
        outcome = m.name_of(pb.InspectionOutcome, request.outcome, m.INSPECTION_OUTCOME) if request.outcome else None
        view = self.inspections.complete(current_caller(), request.id, outcome, request.summary,
                                         date_from_proto(request.rectification_due, "rectification_due"))
        return m.inspection_to_proto(view)

    def ConfirmRectification(self, request, context):
        return m.inspection_to_proto(self.inspections.confirm_rectification(current_caller(), request.id,
                                                                            request.note))

    def PublishInspectionResult(self, request, context):
        return m.inspection_to_proto(self.inspections.publish(current_caller(), request.id))


class CaseApi(pb_grpc.CaseServiceServicer):
    def __init__(self, cases: Cases):
        self.cases = cases

    def OpenLead(self, request, context):
        return m.case_to_proto(self.cases.open_lead(current_caller(), request.request_id,
                                                    m.lead_from_proto(request.lead)))

    def GetCase(self, request, context):
        return m.case_to_proto(self.cases.get(current_caller(), request.id))

    def ListCases(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "state": str, "source": str, "entity_id": str})
        result = self.cases.list(current_caller(), page, terms.get("office_id"),
                                 _filter_enum(terms, "state", pb.CaseState, m.CASE_STATE),
                                 _filter_enum(terms, "source", pb.LeadSource, m.SOURCE), terms.get("entity_id"))
        return pb.ListCasesResponse(cases=[m.case_to_proto(c) for c in result.items],
                                    next_page_token=result.next_page_token)

    def FileCase(self, request, context):
        return m.case_to_proto(self.cases.file(current_caller(), request.id, list(request.officer_ids)))

    def DeclineLead(self, request, context):
        return m.case_to_proto(self.cases.decline(current_caller(), request.id, request.reason))

    def ExtendDeadline(self, request, context):
        case = self.cases.extend(current_caller(), request.id, request.approved_by, request.reason,
                                 request.collective_decision_ref, date_from_proto(request.new_due, "new_due"))
        return m.case_to_proto(case)

    def PauseClock(self, request, context):
        reason = m.name_of(pb.PauseReason, request.reason, m.PAUSE)
        return m.case_to_proto(self.cases.pause(current_caller(), request.id, reason, request.note))

    def ResumeClock(self, request, context):
        return m.case_to_proto(self.cases.resume(current_caller(), request.id))

    def DecideCase(self, request, context):
        given = request.penalty
        penalty = PenaltyInput(kind=m.name_of(pb.PenaltyKind, given.kind, m.PENALTY),
                               party_kind=m.name_of(pb.PartyKind, given.party_kind, m.PARTY) or None,
                               fine_yuan=m.yuan_from_money(given.fine, "penalty.fine"), simplified=given.simplified)
        return m.case_to_proto(self.cases.decide(current_caller(), request.id, penalty, request.note))

    def PublishDecision(self, request, context):
        return m.case_to_proto(self.cases.publish(current_caller(), request.id))

    def CloseCase(self, request, context):
        return m.case_to_proto(self.cases.close(current_caller(), request.id, request.note))


class AuditTrailApi(pb_grpc.AuditTrailServiceServicer):
    def __init__(self, trails: AuditTrails):
        self.trails = trails

    def VerifyAuditTrail(self, request, context):
        return m.verification_to_proto(self.trails.verify(current_caller(), request.subject))
