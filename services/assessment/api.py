"""assessment's gRPC servicers: each method calls one use case and maps through messages.py."""

from __future__ import annotations

from services.assessment import messages
from services.assessment.domain.catalogue import Catalogue
from services.assessment.domain.improvement import ImprovementPlans
from services.assessment.domain.schemes import Schemes
from services.assessment.domain.scores import Scores
from services.assessment.domain.staff import StaffAssessments
from services.assessment.domain.stages import Stages
from services.common.context import current_caller
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc


def _authorization(context) -> str:
    """The caller's bearer token, passed on to the indicator sources so they apply its rights."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            return value if isinstance(value, str) else value.decode("latin-1")
    return ""


class SchemeApi(pb_grpc.SchemeServiceServicer):
    def __init__(self, schemes: Schemes, catalogue: Catalogue):
        self.schemes = schemes
        self.catalogue = catalogue

    def GetScheme(self, request, context):
        record = self.schemes.get_scheme(*messages.scheme_query(request))
        return messages.scheme_to_proto(record, self.catalogue)

    def UpdateScheme(self, request, context):
        record = self.schemes.update_scheme(current_caller(), request.request_id, messages.scheme_draft(request.scheme),
                                            request.expected_version)
        return messages.scheme_to_proto(record, self.catalogue)

    def ListSchemeVersions(self, request, context):
        result = self.schemes.list_versions(*messages.scheme_versions_query(request))
        return messages.scheme_versions_response(result, self.catalogue)


class ScoreApi(pb_grpc.ScoreServiceServicer):
    def __init__(self, scores: Scores, catalogue: Catalogue, stages: Stages):
        self.scores = scores
        self.catalogue = catalogue
        self.stages = stages

    def GetLiveScore(self, request, context):
        view = self.scores.live_score(current_caller(), request.office_id, _authorization(context))
        return messages.score_to_proto(view, self.catalogue)

    def ClosePeriod(self, request, context):
        return messages.period_to_proto(self.scores.close_period(current_caller(), request.request_id, request.period))

    def GetPeriod(self, request, context):
        return messages.period_to_proto(self.scores.get_period(request.period))

    def ListPeriods(self, request, context):
        return messages.periods_response(self.scores.list_periods(*messages.periods_query(request)))

    def GetPeriodScore(self, request, context):
        view = self.scores.period_score(current_caller(), request.period, request.office_id)
        return messages.score_to_proto(view, self.catalogue)

    def ListRankings(self, request, context):
        basis, page, office_id = messages.rankings_query(request)
        period, result = self.scores.rankings(current_caller(), request.period, basis, page, office_id)
        return messages.rankings_response(period, result, basis)

    def ListOfficeStages(self, request, context):
        return messages.office_stages_response(*self.stages.list_stages(current_caller(), request.office_id))


class ImprovementApi(pb_grpc.ImprovementServiceServicer):
    def __init__(self, plans: ImprovementPlans, catalogue: Catalogue):
        self.plans = plans
        self.catalogue = catalogue

    def GetImprovementPlan(self, request, context):
        return messages.plan_to_proto(self.plans.get_plan(current_caller(), request.id), self.catalogue)

    def ListImprovementPlans(self, request, context):
        result = self.plans.list_plans(current_caller(), *messages.plans_query(request))
        return messages.plans_response(result, self.catalogue)

    def UpdateImprovementPlan(self, request, context):
        change, mask = messages.plan_update(request)
        plan = self.plans.update_plan(current_caller(), change, mask, request.expected_version)
        return messages.plan_to_proto(plan, self.catalogue)

    def CompleteImprovementPlan(self, request, context):
        plan = self.plans.complete_plan(current_caller(), request.id, request.note, request.expected_version)
        return messages.plan_to_proto(plan, self.catalogue)


class StaffAssessmentApi(pb_grpc.StaffAssessmentServiceServicer):
    def __init__(self, staff: StaffAssessments):
        self.staff = staff

    def ProposeGrades(self, request, context):
        proposals = self.staff.propose_grades(current_caller(), request.request_id, request.office_id, request.quarter)
        return messages.proposals_to_proto(proposals)

    def GetOfficerAssessment(self, request, context):
        view = self.staff.get_assessment(current_caller(), request.officer_id, request.quarter)
        return messages.assessment_to_proto(view)

    def ListOfficerAssessments(self, request, context):
        result = self.staff.list_assessments(current_caller(), *messages.assessments_query(request))
        return messages.assessments_response(result)

    def FinalizeGrade(self, request, context):
        grade = messages.grade_of(request)
        view = self.staff.finalize_grade(current_caller(), request.officer_id, request.quarter, grade, request.reason,
                                         request.expected_version)
        return messages.assessment_to_proto(view)

    def ListEvidence(self, request, context):
        result = self.staff.list_evidence(current_caller(), *messages.evidence_query(request))
        return messages.evidence_response(result)
