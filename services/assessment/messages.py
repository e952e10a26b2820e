"""assessment's protobuf messages <-> domain values, for api.py: requests to the use cases' inputs,
records and views to messages."""

from __future__ import annotations

import datetime as dt

from services.assessment.domain import improvement, periods, workload
from services.assessment.domain.catalogue import Catalogue
from services.assessment.domain.evidence import EvidenceView
from services.assessment.domain.improvement import UPDATABLE_FIELDS as PLAN_FIELDS
from services.assessment.domain.schemes import SchemeDraft, SchemeRecord, scheme_message
from services.assessment.domain.scorecards import ScoreView
from services.assessment.domain.scores import ADJUSTED, INDEX
from services.assessment.domain.staff import AssessmentView, Proposals
from services.assessment.domain.stage_ladder import Stage, StageLadder
from services.assessment.domain.stages import StageJudgement
from services.assessment.models import ImprovementPlan, Period
from services.common import scoring
from services.common.convert import date_from_proto, date_to_proto, enum_filter, enum_name, update_paths
from services.common.paging import ListResult, Page, parse_filter, parse_page
from services.common.scoring_messages import DIRECTION, RULE
from supervision.assessment.v1 import assessment_pb2 as pb

STATUS = {scoring.FULL: pb.SCORE_STATUS_FULL, scoring.PRO_RATA: pb.SCORE_STATUS_PRO_RATA,
          scoring.ZERO: pb.SCORE_STATUS_ZERO, scoring.MISSING: pb.SCORE_STATUS_MISSING}
PERIOD_KIND = {periods.MONTH: pb.PERIOD_KIND_MONTH, periods.QUARTER: pb.PERIOD_KIND_QUARTER,
               periods.YEAR: pb.PERIOD_KIND_YEAR}
GRADE = "GRADE_"
EVIDENCE_KIND = "EVIDENCE_KIND_"
IMPROVEMENT_STATE = "IMPROVEMENT_STATE_"


def _text(terms: dict[str, object], name: str) -> str | None:
    """A text filter term, or None when the filter does not name it."""
    value = terms.get(name)
    return None if value is None else str(value)


def _timestamp(message, field: str, value: dt.datetime | None) -> None:
    if value is not None:
        getattr(message, field).FromDatetime(value)


# ---------------------------------------------------------------- scheme


def scheme_query(request: pb.GetSchemeRequest) -> tuple[int, dt.date | None]:
    """GetScheme's version (0: the one in force) and the day asked about."""
    return request.version, date_from_proto(request.as_of, "as_of")


def scheme_to_proto(record: SchemeRecord, catalogue: Catalogue) -> pb.Scheme:
    return scheme_message(record, catalogue)


def scheme_versions_query(request: pb.ListSchemeVersionsRequest) -> tuple[Page, str | None]:
    """ListSchemeVersions' page and its created_by filter."""
    page = parse_page(request)
    terms = parse_filter(request.filter, {"created_by": str})
    return page, _text(terms, "created_by")


def scheme_versions_response(result: ListResult, catalogue: Catalogue) -> pb.ListSchemeVersionsResponse:
    return pb.ListSchemeVersionsResponse(schemes=[scheme_to_proto(r, catalogue) for r in result.items],
                                         next_page_token=result.next_page_token)


def scheme_draft(message: pb.Scheme) -> SchemeDraft:
    """The caller's scheme as the domain checks it; an unspecified direction stays empty and is
    refused by the validation with the indicator's field path."""
    directions = {value: name for name, value in DIRECTION.items()}
    rules = {value: name for name, value in RULE.items()}
    scheme = scoring.Scheme(
        version=0, effective_from="",
        dimensions=tuple(scoring.Dimension(d.key.strip(), d.name.strip() or d.key.strip(), d.weight)
                         for d in message.dimensions),
        indicators=tuple(scoring.IndicatorRule(
            key=r.key.strip(), dimension=r.dimension.strip(), weight=r.weight, target=r.target, floor=r.floor,
            direction=directions.get(r.direction, ""), rule=rules.get(r.rule or pb.SCORING_RULE_THRESHOLD_PRO_RATA, ""))
            for r in message.indicators),
        workload=scoring.WorkloadFormula(weights=dict(message.workload.weights),
                                         sensitivity=message.workload.sensitivity,
                                         minimum=message.workload.minimum, maximum=message.workload.maximum))
    return SchemeDraft(scheme, date_from_proto(message.effective_from, "scheme.effective_from"), message.note,
                       stage_ladder(message.stages) if message.HasField("stages") else None)


def stage_ladder(message: pb.StageLadder) -> StageLadder:
    """The caller's stages as the domain checks them; an unspecified period kind stays empty and is
    refused by the validation."""
    kinds = {value: name for name, value in PERIOD_KIND.items()}
    return StageLadder(kinds.get(message.period_kind, ""), tuple(
        Stage(key=s.key.strip(), name=s.name.strip(), min_index=s.min_index, min_dimension=s.min_dimension,
              consecutive_periods=s.consecutive_periods, min_dimensions=dict(s.min_dimensions))
        for s in message.stages))


# ---------------------------------------------------------------- scores


def score_to_proto(view: ScoreView, catalogue: Catalogue) -> pb.OfficeScore:
    rules = {r.key: r for r in view.scheme.indicators}
    message = pb.OfficeScore(office_id=view.office_id, period=view.period, scheme_version=view.scheme.version,
                             coefficient=view.coefficient, rank=view.rank, index_rank=view.index_rank,
                             workload=view.workload)
    if view.score.index is not None:
        message.index = view.score.index
    if view.adjusted is not None:
        message.adjusted_index = view.adjusted
    for d in view.score.dimensions:
        dimension = message.dimensions.add(key=d.key, name=d.name, weight=d.weight, points=d.points,
                                           possible=d.possible)
        if d.score is not None:
            dimension.score = d.score
    for i in view.score.indicators:
        rule = rules.get(i.key)
        indicator = message.indicators.add(
            key=i.key, name=catalogue.name_of(i.key), dimension=i.dimension, numerator=i.numerator,
            denominator=i.denominator, target=i.target, floor=rule.floor if rule else 0.0,
            direction=DIRECTION.get(rule.direction, 0) if rule else 0, weight=i.weight, points=i.points,
            points_lost=i.lost, status=STATUS[i.status], explanation=i.explanation)
        if i.value is not None:
            indicator.value = i.value
        _timestamp(indicator, "as_of", view.as_of.get(i.key))
    for status in view.sources:
        message.sources.add(source=status.source, available=status.available, error=status.error)
    weights = view.scheme.workload.weights
    for name in workload.WORKLOAD_INPUTS:
        if name in view.workload:
            message.workload_inputs.add(name=name, value=view.workload[name], weight=weights.get(name, 0.0),
                                        source=catalogue.workload_inputs.get(name, name))
    message.workload_explanation = workload.explain(view.workload, weights, catalogue.workload_inputs)
    _timestamp(message, "compute_time", view.computed_at)
    return message


def period_to_proto(period: Period) -> pb.Period:
    message = pb.Period(key=period.key, kind=PERIOD_KIND[period.kind], start_date=date_to_proto(period.start_date),
                        end_date=date_to_proto(period.end_date), scheme_version=period.scheme_version,
                        closed_by=period.closed_by, office_count=period.office_count,
                        improvement_plans_opened=period.plans_opened,
                        improvement_plans_verified=period.plans_verified,
                        improvement_plans_not_effective=period.plans_not_effective)
    if period.district_index is not None:
        message.district_index = period.district_index
    _timestamp(message, "close_time", period.closed_at)
    return message


def periods_query(request: pb.ListPeriodsRequest) -> tuple[Page, str | None]:
    """ListPeriods' page and its kind filter (MONTH, QUARTER, YEAR)."""
    page = parse_page(request)
    terms = parse_filter(request.filter, {"kind": str})
    kind = enum_filter(pb.PeriodKind, str(terms["kind"]), "kind", "PERIOD_KIND_") if "kind" in terms else None
    return page, kind


def periods_response(result: ListResult) -> pb.ListPeriodsResponse:
    return pb.ListPeriodsResponse(periods=[period_to_proto(p) for p in result.items],
                                  next_page_token=result.next_page_token)


def rankings_query(request: pb.ListRankingsRequest) -> tuple[str, Page, str | None]:
    """ListRankings' basis (the adjusted index unless asked otherwise), page and office filter."""
    basis = enum_name(pb.RankingBasis, request.basis, "basis", "RANKING_BASIS_", required=False) or ADJUSTED
    page = parse_page(request)
    terms = parse_filter(request.filter, {"office_id": str})
    return basis, page, _text(terms, "office_id")


def rankings_response(period: Period, result: ListResult, basis: str) -> pb.ListRankingsResponse:
    return pb.ListRankingsResponse(
        rankings=[ranking_to_proto(row, name, basis == INDEX) for row, name in result.items],
        next_page_token=result.next_page_token, scheme_version=period.scheme_version)


def office_stages_response(scheme_version: int, judgements: list[StageJudgement]) -> pb.ListOfficeStagesResponse:
    response = pb.ListOfficeStagesResponse(scheme_version=scheme_version)
    for judgement in judgements:
        office = response.offices.add(office_id=judgement.office_id, office_name=judgement.office_name,
                                      periods=list(judgement.periods))
        if judgement.stage is not None:
            office.stage, office.stage_name = judgement.stage.key, judgement.stage.name
        if judgement.next_stage is not None:
            office.next_stage, office.next_stage_name = judgement.next_stage.key, judgement.next_stage.name
        for lack in judgement.lacks:
            shortfall = office.lacks.add(target=lack.target, dimension=lack.dimension, required=lack.required,
                                         shortfall=lack.shortfall, period=lack.period, description=lack.description)
            if lack.actual is not None:
                shortfall.actual = lack.actual
    return response


def ranking_to_proto(row, office_name: str | None, by_index: bool) -> pb.Ranking:
    message = pb.Ranking(rank=row.index_rank if by_index else row.rank, office_id=row.office_id,
                         office_name=office_name or "", coefficient=row.coefficient)
    if row.index is not None:
        message.index = row.index
    if row.adjusted is not None:
        message.adjusted_index = row.adjusted
    return message


# ---------------------------------------------------------------- improvement


def plan_to_proto(plan: ImprovementPlan, catalogue: Catalogue) -> pb.ImprovementPlan:
    message = pb.ImprovementPlan(
        id=plan.id, office_id=plan.office_id, period=plan.period_key, indicator_key=plan.indicator_key,
        indicator_name=catalogue.name_of(plan.indicator_key), value=plan.value, target=plan.target,
        actions=plan.actions, owner=plan.owner, due_date=date_to_proto(plan.due_date),
        state=pb.ImprovementState.Value(IMPROVEMENT_STATE + plan.state), overdue=plan.overdue,
        completion_note=plan.completion_note, verified_in_period=plan.verified_in, version=plan.version)
    if plan.verified_value is not None:
        message.verified_value = plan.verified_value
    _timestamp(message, "complete_time", plan.completed_at)
    _timestamp(message, "create_time", plan.created_at)
    _timestamp(message, "update_time", plan.updated_at)
    return message


def plans_query(request: pb.ListImprovementPlansRequest
                ) -> tuple[Page, str | None, str | None, str | None, str | None, bool | None]:
    """ListImprovementPlans' page and filters: office, period, state, indicator, overdue."""
    page = parse_page(request)
    terms = parse_filter(request.filter, {"office_id": str, "period": str, "state": str, "indicator_key": str,
                                          "overdue": bool})
    state = (enum_filter(pb.ImprovementState, str(terms["state"]), "state", IMPROVEMENT_STATE)
             if "state" in terms else None)
    overdue = terms.get("overdue")
    return (page, _text(terms, "office_id"), _text(terms, "period"), state, _text(terms, "indicator_key"),
            overdue if isinstance(overdue, bool) else None)


def plans_response(result: ListResult, catalogue: Catalogue) -> pb.ListImprovementPlansResponse:
    return pb.ListImprovementPlansResponse(plans=[plan_to_proto(p, catalogue) for p in result.items],
                                           next_page_token=result.next_page_token)


def plan_update(request: pb.UpdateImprovementPlanRequest) -> tuple[improvement.PlanChange, list[str]]:
    """UpdateImprovementPlan's change and the fields it changes (checked before the store is read)."""
    mask = update_paths(request.update_mask, PLAN_FIELDS)
    return plan_change(request.plan, mask), mask


def plan_change(message: pb.ImprovementPlan, mask: list[str]) -> improvement.PlanChange:
    due = date_from_proto(message.due_date, "plan.due_date") if not mask or "due_date" in mask else None
    return improvement.PlanChange(id=message.id, actions=message.actions, owner=message.owner, due_date=due)


# ---------------------------------------------------------------- staff


def assessment_to_proto(view: AssessmentView) -> pb.OfficerAssessment:
    row = view.assessment
    message = pb.OfficerAssessment(
        officer_id=row.officer_id, officer_name=view.officer_name, office_id=row.office_id, quarter=row.quarter,
        points=row.points, evidence_count=row.evidence_count, late_count=row.late_count,
        proposed_grade=pb.Grade.Value(GRADE + row.proposed_grade),
        proposal_explanation=row.proposal_explanation,
        final_grade=pb.Grade.Value(GRADE + row.final_grade) if row.final_grade else pb.GRADE_UNSPECIFIED,
        final_reason=row.final_reason, graded_by=row.graded_by, rule_set=row.rule_set, version=row.version)
    _timestamp(message, "grade_time", row.graded_at)
    return message


def proposals_to_proto(proposals: Proposals) -> pb.ProposeGradesResponse:
    return pb.ProposeGradesResponse(assessments=[assessment_to_proto(v) for v in proposals.assessments],
                                    good_quota=proposals.good_quota)


def assessments_query(request: pb.ListOfficerAssessmentsRequest
                      ) -> tuple[Page, str | None, str | None, str | None, str | None]:
    """ListOfficerAssessments' page and filters: office, quarter, proposed grade, final grade."""
    page = parse_page(request)
    terms = parse_filter(request.filter, {"office_id": str, "quarter": str, "proposed_grade": str,
                                          "final_grade": str})
    grades = {name: enum_filter(pb.Grade, str(terms[name]), name, GRADE) if name in terms else None
              for name in ("proposed_grade", "final_grade")}
    return (page, _text(terms, "office_id"), _text(terms, "quarter"), grades["proposed_grade"],
            grades["final_grade"])


def assessments_response(result: ListResult) -> pb.ListOfficerAssessmentsResponse:
    return pb.ListOfficerAssessmentsResponse(assessments=[assessment_to_proto(v) for v in result.items],
                                             next_page_token=result.next_page_token)


def grade_of(request: pb.FinalizeGradeRequest) -> str:
    """The grade the head gives (GOOD, FAIRLY_GOOD, ...); an unspecified one is refused."""
    return enum_name(pb.Grade, request.grade, "grade", GRADE) or ""


def evidence_query(request: pb.ListEvidenceRequest
                   ) -> tuple[Page, str | None, str | None, str | None, str | None]:
    """ListEvidence's page and filters: officer, office, quarter, kind."""
    page = parse_page(request)
    terms = parse_filter(request.filter, {"officer_id": str, "office_id": str, "quarter": str, "kind": str})
    kind = enum_filter(pb.EvidenceKind, str(terms["kind"]), "kind", EVIDENCE_KIND) if "kind" in terms else None
    return page, _text(terms, "officer_id"), _text(terms, "office_id"), _text(terms, "quarter"), kind


def evidence_response(result: ListResult) -> pb.ListEvidenceResponse:
    return pb.ListEvidenceResponse(evidence=[evidence_to_proto(v) for v in result.items],
                                   next_page_token=result.next_page_token)


def evidence_to_proto(view: EvidenceView) -> pb.Evidence:
    row = view.evidence
    message = pb.Evidence(id=row.id, kind=pb.EvidenceKind.Value(EVIDENCE_KIND + row.kind), office_id=row.office_id,
                          officer_ids=view.officer_ids, occurred_on=date_to_proto(row.occurred_on),
                          reference=row.reference, title=row.title, source=row.source)
    if row.on_time is not None:
        message.on_time = row.on_time
    return message
