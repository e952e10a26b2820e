"""mobile_enforcement's gRPC servicers, thin: each method calls one use case with the caller, and maps
the request and the answer through messages.py."""

from __future__ import annotations

from decimal import Decimal

from services.common.context import current_caller
from services.mobile_enforcement import case_messages as cm
from services.mobile_enforcement import field_messages as fm
from services.mobile_enforcement import messages as m
from services.mobile_enforcement.domain.assignments import Assignments
from services.mobile_enforcement.domain.audit import AuditTrails
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.checklists import Checklists
from services.mobile_enforcement.domain.documents import Documents
from services.mobile_enforcement.domain.entities import Entities
from services.mobile_enforcement.domain.entity_import import EntityImport
from services.mobile_enforcement.domain.inspections import Inspections
from services.mobile_enforcement.domain.signing import Signing
from services.mobile_enforcement.domain.spot_checks import SpotChecks
from services.mobile_enforcement.models import Case
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc


class EntityApi(pb_grpc.EntityServiceServicer):
    def __init__(self, entities: Entities, importer: EntityImport):
        self.entities = entities
        self.importer = importer

    def RegisterEntity(self, request, context):
        entity = self.entities.register(current_caller(), request.request_id, m.entity_input(request.entity))
        return m.entity_to_proto(entity)

    def GetEntity(self, request, context):
        return m.entity_to_proto(self.entities.get(current_caller(), request.uscc))

    def UpdateEntity(self, request, context):
        mask = m.entity_mask(request)
        entity = self.entities.update(current_caller(), m.entity_input(request.entity), mask, request.expected_version)
        return m.entity_to_proto(entity)

    def ListEntities(self, request, context):
        page, where = m.entity_listing(request)
        return m.entities_page(self.entities.list(current_caller(), page, where))

    def ImportEntities(self, request, context):
        return m.import_result_to_proto(self.importer.run(current_caller(), request.request_id, request.content,
                                                            import_valid_rows=request.import_valid_rows))


class ChecklistApi(pb_grpc.ChecklistServiceServicer):
    def __init__(self, checklists: Checklists):
        self.checklists = checklists

    def GetChecklist(self, request, context):
        category, version, on = m.checklist_wanted(request)
        return m.checklist_to_proto(self.checklists.get(category, version, on))

    def ListChecklists(self, request, context):
        page, category = m.checklist_listing(request)
        return m.checklists_page(self.checklists.list(page, category))


class SpotCheckApi(pb_grpc.SpotCheckServiceServicer):
    def __init__(self, spot_checks: SpotChecks):
        self.spot_checks = spot_checks

    def DrawPlan(self, request, context):
        return m.plan_to_proto(self.spot_checks.draw_plan(current_caller(), request.request_id,
                                                          m.plan_input(request.plan)))

    def GetPlan(self, request, context):
        return m.plan_to_proto(self.spot_checks.get_plan(current_caller(), request.id))

    def ListPlans(self, request, context):
        page, office_id = m.plan_listing(request)
        return m.plans_page(self.spot_checks.list_plans(current_caller(), page, office_id))

    def ListPlanTargets(self, request, context):
        page = m.target_listing(request)
        return m.targets_page(self.spot_checks.list_targets(current_caller(), request.plan_id, page))

    def VerifyPlan(self, request, context):
        return m.plan_verification_to_proto(self.spot_checks.verify(current_caller(), request.id))

    def ExportPlanSnapshot(self, request, context):
        kind = m.snapshot_kind(request)
        for chunk in self.spot_checks.export_snapshot(current_caller(), request.plan_id, kind):
            yield m.snapshot_chunk(chunk)

    def DeclareConflict(self, request, context):
        conflict = request.conflict
        declared = self.spot_checks.declare_conflict(current_caller(), request.request_id, conflict.officer_id,
                                                     conflict.entity_id, conflict.reason)
        return m.conflict_to_proto(declared)

    def ListConflicts(self, request, context):
        page, where = m.conflict_listing(request)
        return m.conflicts_page(self.spot_checks.list_conflicts(current_caller(), page, where))


class InspectionApi(pb_grpc.InspectionServiceServicer):
    def __init__(self, inspections: Inspections, assignments: Assignments, max_evidence_bytes: int):
        self.inspections = inspections
        self.assignments = assignments
        self.max_evidence_bytes = max_evidence_bytes

    def ScheduleInspection(self, request, context):
        return m.inspection_to_proto(self.inspections.schedule(current_caller(), request.request_id,
                                                               m.schedule_input(request.inspection)))

    def GetInspection(self, request, context):
        return m.inspection_to_proto(self.inspections.get(current_caller(), request.id))

    def ListInspections(self, request, context):
        page, where = m.inspection_listing(request)
        return m.inspections_page(self.inspections.list(current_caller(), page, where))

    def StartInspection(self, request, context):
        view = self.inspections.start(current_caller(), request.id, list(request.officer_ids),
                                      m.location_from_proto(request), request.request_id, request.expected_version)
        return m.inspection_to_proto(view)

    def RecordFindings(self, request, context):
        view = self.inspections.record_findings(current_caller(), request.id, m.findings_from_proto(request.findings),
                                                request.request_id, request.expected_version)
        return m.inspection_to_proto(view)

    def CompleteInspection(self, request, context):
        view = self.inspections.complete(current_caller(), request.id, m.inspection_outcome(request), request.summary,
                                         m.rectification_due(request), request.request_id, request.expected_version)
        return m.inspection_to_proto(view)

    def AttachEvidence(self, request, context):
        view = self.inspections.attach_evidence(current_caller(), request.request_id, request.inspection_id,
                                                m.evidence_input(request), self.max_evidence_bytes)
        return m.inspection_to_proto(view)

    def ListAssignments(self, request, context):
        page = fm.assignment_listing(request)
        return fm.assignments_page(self.assignments.list(current_caller(), page, request.office_id,
                                                         request.officer_id))

    def ConfirmRectification(self, request, context):
        return m.inspection_to_proto(self.inspections.confirm_rectification(current_caller(), request.id,
                                                                            request.note))

    def PublishInspectionResult(self, request, context):
        return m.inspection_to_proto(self.inspections.publish(current_caller(), request.id))


class CaseApi(pb_grpc.CaseServiceServicer):
    def __init__(self, cases: Cases):
        self.cases = cases

    def _case(self, case: Case) -> pb.Case:
        return cm.case_to_proto(case, self._surcharge(case))

    def _surcharge(self, case: Case) -> Decimal:
        # Read at the answer's own day: GetCase on a later day shows what is owed that day.
        return self.cases.surcharge_owed(case, self.cases.workspace.today())

    def OpenLead(self, request, context):
        return self._case(self.cases.open_lead(current_caller(), request.request_id, cm.lead_from_proto(request.lead)))

    def GetCase(self, request, context):
        return self._case(self.cases.get(current_caller(), request.id))

    def ListCases(self, request, context):
        page, where = cm.case_listing(request)
        return cm.cases_page(self.cases.list(current_caller(), page, where), self._surcharge)

    def FileCase(self, request, context):
        return self._case(self.cases.file(current_caller(), request.id, list(request.officer_ids)))

    def DeclineLead(self, request, context):
        return self._case(self.cases.decline(current_caller(), request.id, request.reason))

    def ExtendDeadline(self, request, context):
        case = self.cases.extend(current_caller(), request.id, request.approved_by, request.reason,
                                 request.collective_decision_ref, cm.extended_due(request))
        return self._case(case)

    def PauseClock(self, request, context):
        return self._case(self.cases.pause(current_caller(), request.id, cm.pause_reason(request), request.note))

    def ResumeClock(self, request, context):
        return self._case(self.cases.resume(current_caller(), request.id))

    def ConcludeInvestigation(self, request, context):
        findings = cm.investigation_input(request)
        return self._case(self.cases.conclude_investigation(current_caller(), request.id, findings))

    def SubmitForLegalReview(self, request, context):
        return self._case(self.cases.submit_for_legal_review(current_caller(), request.id))

    def RecordLegalReview(self, request, context):
        return self._case(self.cases.record_legal_review(current_caller(), request.id, request.reviewer_id,
                                                         request.approved, request.opinion))

    def RecordCollectiveDiscussion(self, request, context):
        return self._case(self.cases.record_collective_discussion(current_caller(), request.id, request.record))

    def IssueAdvanceNotice(self, request, context):
        return self._case(self.cases.issue_advance_notice(current_caller(), request.id))

    def RecordStatement(self, request, context):
        return self._case(self.cases.record_statement(current_caller(), request.id, request.statement,
                                                      request.waived))

    def RequestHearing(self, request, context):
        return self._case(self.cases.request_hearing(current_caller(), request.id))

    def ScheduleHearing(self, request, context):
        hearing_at = cm.hearing_time(request)
        return self._case(self.cases.schedule_hearing(current_caller(), request.id, request.host_id, hearing_at,
                                                      request.place))

    def RecordHearing(self, request, context):
        return self._case(self.cases.record_hearing(current_caller(), request.id, request.record))

    def DecideCase(self, request, context):
        penalty = cm.penalty_input(request.penalty)
        return self._case(self.cases.decide(current_caller(), request.id, penalty, request.note))

    def RecordDelivery(self, request, context):
        return self._case(self.cases.record_delivery(current_caller(), request.id, cm.delivery_method(request)))

    def RecordExecution(self, request, context):
        amount = cm.amount_paid(request)
        return self._case(self.cases.record_execution(current_caller(), request.id, amount, request.note))

    def PublishDecision(self, request, context):
        return self._case(self.cases.publish(current_caller(), request.id))

    def CloseCase(self, request, context):
        return self._case(self.cases.close(current_caller(), request.id, request.note))


class AuditTrailApi(pb_grpc.AuditTrailServiceServicer):
    def __init__(self, trails: AuditTrails):
        self.trails = trails

    def VerifyAuditTrail(self, request, context):
        return m.verification_to_proto(self.trails.verify(current_caller(), request.subject))


# ---- documents


class DocumentApi(pb_grpc.DocumentServiceServicer):
    def __init__(self, documents: Documents, signing: Signing):
        self.documents = documents
        self.signing = signing

    def IssueDocument(self, request, context):
        document = self.documents.issue(current_caller(), request.request_id, request.subject,
                                        m.document_kind(request))
        return m.document_to_proto(document)

    def GetDocument(self, request, context):
        return m.document_to_proto(self.documents.get(current_caller(), request.id))

    def GetDocumentContent(self, request, context):
        return m.document_content_to_proto(self.documents.content(current_caller(), request.id))

    def ListDocuments(self, request, context):
        page, where = m.document_listing(request)
        return m.documents_page(self.documents.list(current_caller(), page, where))

    def SignDocument(self, request, context):
        return m.document_to_proto(self.signing.sign(current_caller(), request.request_id, fm.signature_input(request)))
