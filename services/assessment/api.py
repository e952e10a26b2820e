"""assessment's gRPC servicers: proto <-> domain, nothing more."""

from __future__ import annotations

from services.assessment import messages
from services.assessment.domain.assessment import Assessment
from services.assessment.domain.improvement import UPDATABLE_FIELDS as PLAN_FIELDS
from services.assessment.domain.scores import ADJUSTED, INDEX
from services.common.context import current_caller
from services.common.convert import date_from_proto, enum_filter, enum_name, update_paths
from services.common.paging import parse_filter, parse_page
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc


def _authorization(context) -> str:
    """The caller's bearer token, passed on to the indicator sources so they apply its rights."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            return value if isinstance(value, str) else value.decode("latin-1")
    return ""


class SchemeApi(pb_grpc.SchemeServiceServicer):
    def __init__(self, assessment: Assessment):
        self.schemes = assessment.schemes
        self.catalogue = assessment.context.catalogue

    def GetScheme(self, request, context):
        record = self.schemes.get_scheme(request.version, date_from_proto(request.as_of, "as_of"))
        return messages.scheme_to_proto(record, self.catalogue)

    def UpdateScheme(self, request, context):
        record = self.schemes.update_scheme(current_caller(), request.request_id, messages.scheme_draft(request.scheme),
                                            request.expected_version)
        return messages.scheme_to_proto(record, self.catalogue)

    def ListSchemeVersions(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"created_by": str})
        result = self.schemes.list_versions(page, terms.get("created_by"))
        return pb.ListSchemeVersionsResponse(
            schemes=[messages.scheme_to_proto(r, self.catalogue) for r in result.items],
            next_page_token=result.next_page_token)


class ScoreApi(pb_grpc.ScoreServiceServicer):
    def __init__(self, assessment: Assessment):
        self.scores = assessment.scores
        self.catalogue = assessment.context.catalogue

    def GetLiveScore(self, request, context):
        view = self.scores.live_score(current_caller(), request.office_id, _authorization(context))
        return messages.score_to_proto(view, self.catalogue)

    def ClosePeriod(self, request, context):
        return messages.period_to_proto(self.scores.close_period(current_caller(), request.request_id, request.period))

    def GetPeriod(self, request, context):
        return messages.period_to_proto(self.scores.get_period(request.period))

    def ListPeriods(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"kind": str})
        kind = enum_filter(pb.PeriodKind, str(terms["kind"]), "kind", "PERIOD_KIND_") if "kind" in terms else None
        result = self.scores.list_periods(page, kind)
        return pb.ListPeriodsResponse(periods=[messages.period_to_proto(p) for p in result.items],
                                      next_page_token=result.next_page_token)

    def GetPeriodScore(self, request, context):
        view = self.scores.period_score(current_caller(), request.period, request.office_id)
        return messages.score_to_proto(view, self.catalogue)

    def ListRankings(self, request, context):
        basis = enum_name(pb.RankingBasis, request.basis, "basis", "RANKING_BASIS_", required=False) or ADJUSTED
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str})
        period, result = self.scores.rankings(current_caller(), request.period, basis, page, terms.get("office_id"))
        return pb.ListRankingsResponse(
            rankings=[messages.ranking_to_proto(row, name, basis == INDEX) for row, name in result.items],
            next_page_token=result.next_page_token, scheme_version=period.scheme_version)


class ImprovementApi(pb_grpc.ImprovementServiceServicer):
    def __init__(self, assessment: Assessment):
        self.plans = assessment.plans
        self.catalogue = assessment.context.catalogue

    def GetImprovementPlan(self, request, context):
        return messages.plan_to_proto(self.plans.get_plan(current_caller(), request.id), self.catalogue)

    def ListImprovementPlans(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "period": str, "state": str, "indicator_key": str,
                                              "overdue": bool})
        state = (enum_filter(pb.ImprovementState, str(terms["state"]), "state", messages.IMPROVEMENT_STATE)
                 if "state" in terms else None)
        result = self.plans.list_plans(current_caller(), page, terms.get("office_id"), terms.get("period"), state,
                                       terms.get("indicator_key"), terms.get("overdue"))
        return pb.ListImprovementPlansResponse(plans=[messages.plan_to_proto(p, self.catalogue) for p in result.items],
                                               next_page_token=result.next_page_token)

    def UpdateImprovementPlan(self, request, context):
        mask = update_paths(request.update_mask, PLAN_FIELDS)
        plan = self.plans.update_plan(current_caller(), messages.plan_change(request.plan, mask), mask,
                                      request.expected_version)
        return messages.plan_to_proto(plan, self.catalogue)

    def CompleteImprovementPlan(self, request, context):
        plan = self.plans.complete_plan(current_caller(), request.id, request.note, request.expected_version)
        return messages.plan_to_proto(plan, self.catalogue)


class StaffAssessmentApi(pb_grpc.StaffAssessmentServiceServicer):
    def __init__(self, assessment: Assessment):
        self.staff = assessment.staff

    def ProposeGrades(self, request, context):
        proposals = self.staff.propose_grades(current_caller(), request.request_id, request.office_id, request.quarter)
        return pb.ProposeGradesResponse(assessments=[messages.assessment_to_proto(v) for v in proposals.assessments],
                                        good_quota=proposals.good_quota)

    def GetOfficerAssessment(self, request, context):
        view = self.staff.get_assessment(current_caller(), request.officer_id, request.quarter)
        return messages.assessment_to_proto(view)

    def ListOfficerAssessments(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "quarter": str, "proposed_grade": str,
                                              "final_grade": str})
        grades = {name: enum_filter(pb.Grade, str(terms[name]), name, messages.GRADE) if name in terms else None
                  for name in ("proposed_grade", "final_grade")}
        result = self.staff.list_assessments(current_caller(), page, terms.get("office_id"), terms.get("quarter"),
                                             grades["proposed_grade"], grades["final_grade"])
        return pb.ListOfficerAssessmentsResponse(
            assessments=[messages.assessment_to_proto(v) for v in result.items], next_page_token=result.next_page_token)

    def FinalizeGrade(self, request, context):
        grade = enum_name(pb.Grade, request.grade, "grade", messages.GRADE)
        view = self.staff.finalize_grade(current_caller(), request.officer_id, request.quarter, grade, request.reason,
                                         request.expected_version)
        return messages.assessment_to_proto(view)

    def ListEvidence(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"officer_id": str, "office_id": str, "quarter": str, "kind": str})
        kind = (enum_filter(pb.EvidenceKind, str(terms["kind"]), "kind", messages.EVIDENCE_KIND)
                if "kind" in terms else None)
        result = self.staff.list_evidence(current_caller(), page, terms.get("officer_id"), terms.get("office_id"),
                                          terms.get("quarter"), kind)
        return pb.ListEvidenceResponse(evidence=[messages.evidence_to_proto(v) for v in result.items],
                                       next_page_token=result.next_page_token)
