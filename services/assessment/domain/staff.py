"""Officers' routine assessment (平时考核) by quarter: grades proposed from the evidence by the
rules and the quota, the office head's final grade (with a reason when it differs from the
proposal or goes beyond the quota), and the evidence each officer can see behind a grade."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.assessment.domain import evidence, grading, periods
from services.assessment.domain.workspace import Workspace
from services.assessment.models import Evidence, EvidenceOfficer, Office, Officer, OfficerAssessment, RequestKey
from services.common.access import office_scope, require_read, require_write
from services.common.context import BUREAU_LEADER, OFFICE_HEAD, SYSTEM, Caller
from services.common.db import utcnow
from services.common.errors import (
    Aborted,
    FailedPrecondition,
    FieldViolation,
    NotFound,
    PermissionDenied,
    Violations,
)
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from supervision.assessment.v1 import events_pb2

MAX_REASON = 1000
GRADERS = (OFFICE_HEAD, BUREAU_LEADER, SYSTEM)


@dataclass(frozen=True)
class AssessmentView:
    """An officer's quarterly assessment with the officer's name, as people read it."""

    assessment: OfficerAssessment
    officer_name: str


@dataclass(frozen=True)
class Proposals:
    """The grades proposed for an office's officers, and how many may be graded GOOD (好)."""

    assessments: list[AssessmentView]
    good_quota: int


class StaffAssessments:
    """Officers' routine assessment (平时考核): grades proposed from the evidence, finalised by the office head."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    # ------------------------------------------------------------------ proposing

    def propose_grades(self, caller: Caller, request_id: str, office_id: str, quarter_key: str) -> Proposals:
        """Proposes each officer's grade for a quarter that has ended, by the rules and the GOOD quota;
        a grade the head has already finalised stays."""
        violations = Violations()
        if not office_id:
            violations.add("office_id", "required")
        violations.raise_if_any("invalid request")
        _require_grader(caller, office_id)
        quarter = periods.parse_quarter(quarter_key)

        def propose(session: Session) -> str:
            today = self.workspace.today()
            if today <= quarter.end:
                raise FailedPrecondition(f"quarter {quarter.key} has not ended", [FieldViolation(
                    "quarter", f"{quarter.key} ends on {quarter.end}; today is {today} (Asia/Shanghai)")])
            if session.get(Office, office_id) is None:
                raise NotFound(f"office {office_id!r} not found")
            officers = list(session.scalars(select(Officer.id).where(Officer.office_id == office_id)
                                            .order_by(Officer.id)))
            if not officers:
                raise FailedPrecondition(f"office {office_id} has no officers to assess")
            effective_from, rules = self.workspace.grading.version(quarter.end)
            items = {officer_id: [grading.Item(e.kind, e.on_time)
                                  for e in evidence.of_officer(session, officer_id, quarter.start, quarter.end)]
                     for officer_id in officers}
            existing = {a.officer_id: a for a in session.scalars(select(OfficerAssessment).where(
                OfficerAssessment.office_id == office_id, OfficerAssessment.quarter == quarter.key))}
            now = utcnow()
            for proposal in grading.propose(items, rules):
                row = existing.get(proposal.officer_id)
                if row is not None and row.final_grade:
                    continue  # the head has decided; the proposal stays what the decision answered
                if row is None:
                    row = OfficerAssessment(officer_id=proposal.officer_id, quarter=quarter.key, office_id=office_id,
                                            final_grade=None, final_reason="", graded_by="", graded_at=None,
                                            created_at=now, version=0)
                    session.add(row)
                row.points, row.evidence_count, row.late_count = proposal.points, proposal.count, proposal.late
                row.proposed_grade, row.proposal_explanation = proposal.grade, proposal.explanation
                row.rule_set, row.updated_at = effective_from.isoformat(), now
                row.version += 1
            return f"{office_id}/{quarter.key}"

        def load(session: Session, key: str) -> Proposals:
            office, quarter_of_key = key.split("/")
            views = _views(session, select(OfficerAssessment).where(
                OfficerAssessment.office_id == office, OfficerAssessment.quarter == quarter_of_key)
                .order_by(OfficerAssessment.officer_id))
            rules = self.workspace.grading.in_force(periods.parse_quarter(quarter_of_key).end)
            return Proposals(views, rules.quota(len(views)))

        return run_once(self.workspace.store, RequestKey, request_id, "ProposeGrades", propose, load)

    # ------------------------------------------------------------------ the head's grade

    def finalize_grade(self, caller: Caller, officer_id: str, quarter_key: str, grade: str, reason: str,
                       expected_version: int) -> AssessmentView:
        """The head's final grade; a reason is required when it differs from the proposal or exceeds the quota."""
        quarter = periods.parse_quarter(quarter_key)
        with self.workspace.store.transaction() as session:
            row = session.get(OfficerAssessment, (officer_id, quarter.key)) if officer_id else None
            if row is None:
                raise NotFound(f"officer {officer_id!r} has no proposed grade for {quarter.key}; propose grades first")
            _require_grader(caller, row.office_id)
            violations = Violations()
            if grade not in grading.LABELS:
                violations.add("grade", f"one of {', '.join(grading.LABELS)}")
            if len(reason) > MAX_REASON:
                violations.add("reason", f"at most {MAX_REASON} characters")
            if grade in grading.LABELS and not reason.strip():
                if grade != row.proposed_grade:
                    violations.add("reason", f"required: the grade {grading.LABELS[grade]} differs from the proposed "
                                             f"{grading.LABELS[row.proposed_grade]}")
                elif grade == grading.GOOD:
                    self._check_quota(session, row, violations)
            violations.raise_if_any("invalid grade")
            if expected_version and expected_version != row.version:
                raise Aborted(f"the assessment is at version {row.version}, not {expected_version}; re-read and retry")
            row.final_grade, row.final_reason = grade, reason.strip()
            row.graded_by, row.graded_at = caller.subject, utcnow()
            row.updated_at, row.version = row.graded_at, row.version + 1
            self.workspace.events.record(
                session, events_pb2.OfficerGraded(
                    officer_id=officer_id, version=row.version, office_id=row.office_id, quarter=quarter.key,
                    proposed_grade=row.proposed_grade, final_grade=grade, differs=grade != row.proposed_grade,
                    points=row.points),
                aggregate_type="officer_assessment", aggregate_id=f"{officer_id}/{quarter.key}", version=row.version,
                office_id=row.office_id)
            self.workspace.touched(session, [row.office_id])
            return AssessmentView(row, _officer_name(session, officer_id))

    def _check_quota(self, session: Session, row: OfficerAssessment, violations: Violations) -> None:
        rules = self.workspace.grading.in_force(periods.parse_quarter(row.quarter).end)
        assessed = session.scalar(select(func.count()).select_from(OfficerAssessment).where(
            OfficerAssessment.office_id == row.office_id, OfficerAssessment.quarter == row.quarter)) or 0
        good = session.scalar(select(func.count()).select_from(OfficerAssessment).where(
            OfficerAssessment.office_id == row.office_id, OfficerAssessment.quarter == row.quarter,
            OfficerAssessment.final_grade == grading.GOOD, OfficerAssessment.officer_id != row.officer_id)) or 0
        quota = rules.quota(assessed)
        if good + 1 > quota:
            violations.add("reason", f"required: {good} officers of office {row.office_id} already hold "
                                     f"{grading.LABELS[grading.GOOD]}, the quota is {quota} of {assessed}")

    # ------------------------------------------------------------------ reading

    def get_assessment(self, caller: Caller, officer_id: str, quarter_key: str) -> AssessmentView:
        """An officer's assessment of a quarter; an officer sees only their own."""
        quarter = periods.parse_quarter(quarter_key)
        with self.workspace.store.read() as session:
            row = session.get(OfficerAssessment, (officer_id, quarter.key)) if officer_id else None
            if row is None:
                raise NotFound(f"officer {officer_id!r} has no assessment for {quarter.key}")
            _require_sees_officer(caller, row.office_id, officer_id)
            return AssessmentView(row, _officer_name(session, officer_id))

    def list_assessments(self, caller: Caller, page: Page, office_id: str | None, quarter: str | None,
                         proposed: str | None, final: str | None) -> ListResult[AssessmentView]:
        """The assessments the caller may see, filtered by office, quarter, proposed or final grade."""
        scope = office_scope(caller, office_id)
        key = OfficerAssessment.quarter + "/" + OfficerAssessment.officer_id
        query = select(OfficerAssessment).where(key > page.after).order_by(key).limit(page.size)
        if scope:
            query = query.where(OfficerAssessment.office_id == scope)
        if _sees_self_only(caller):
            query = query.where(OfficerAssessment.officer_id == caller.subject)
        if quarter:
            query = query.where(OfficerAssessment.quarter == periods.parse_quarter(quarter, "filter").key)
        if proposed:
            query = query.where(OfficerAssessment.proposed_grade == proposed)
        if final:
            query = query.where(OfficerAssessment.final_grade == final)
        with self.workspace.store.read() as session:
            views = _views(session, query)
        last = f"{views[-1].assessment.quarter}/{views[-1].assessment.officer_id}" if views else None
        return ListResult(views, next_token(last, len(views), page))

    def list_evidence(self, caller: Caller, page: Page, officer_id: str | None, office_id: str | None,
                      quarter: str | None, kind: str | None) -> ListResult[evidence.EvidenceView]:
        """The evidence of work behind grades that the caller may see; an officer sees only their own."""
        scope = office_scope(caller, office_id)
        if _sees_self_only(caller):
            if officer_id and officer_id != caller.subject:
                raise PermissionDenied(f"{caller.subject} may see only their own evidence")
            officer_id = caller.subject
        query = select(Evidence).where(Evidence.id > page.after).order_by(Evidence.id).limit(page.size)
        if officer_id:
            query = query.where(Evidence.id.in_(select(EvidenceOfficer.evidence_id)
                                                .where(EvidenceOfficer.officer_id == officer_id)))
        if scope:
            query = query.where(Evidence.office_id == scope)
        if quarter:
            period = periods.parse_quarter(quarter, "filter")
            query = query.where(Evidence.occurred_on >= period.start, Evidence.occurred_on <= period.end)
        if kind:
            query = query.where(Evidence.kind == kind)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
            officers = evidence.officers_of(session, [row.id for row in rows])
        views = [evidence.EvidenceView(row, officers[row.id]) for row in rows]
        return ListResult(views, next_token(rows[-1].id if rows else None, len(rows), page))


def _require_grader(caller: Caller, office_id: str) -> None:
    require_write(caller, office_id or None)
    if not caller.has_any(*GRADERS):
        raise PermissionDenied(f"{caller.subject} is not the office head: only the head grades officers")


def _sees_self_only(caller: Caller) -> bool:
    """An officer sees their own assessment and evidence; heads and district roles see more."""
    return not caller.district_wide and not caller.has_any(OFFICE_HEAD)


def _require_sees_officer(caller: Caller, office_id: str, officer_id: str) -> None:
    require_read(caller, office_id)
    if _sees_self_only(caller) and caller.subject != officer_id:
        raise PermissionDenied(f"{caller.subject} may see only their own assessment")


def _officer_name(session: Session, officer_id: str) -> str:
    officer = session.get(Officer, officer_id)
    return officer.name if officer else ""


def _views(session: Session, query: Select[OfficerAssessment]) -> list[AssessmentView]:
    rows = list(session.scalars(query))
    names = {officer_id: name for officer_id, name in session.execute(
        select(Officer.id, Officer.name).where(Officer.id.in_([r.officer_id for r in rows])))}
    return [AssessmentView(row, names.get(row.officer_id, "")) for row in rows]
