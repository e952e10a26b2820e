"""assessment through a real gRPC server: officers' evidence, proposed grades and the head's grade."""

from __future__ import annotations

import grpc
import pytest

from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import events_pb2
from tests.api.assessment.support import (
    expect_error,
    quarter_of_work,
)


def propose(client, request_id: str = "") -> pb.ProposeGradesResponse:
    return client.staff.ProposeGrades(pb.ProposeGradesRequest(request_id=request_id, office_id="MH01",
                                                              quarter="2026-Q3"))


def test_grades_are_proposed_from_the_evidence_by_the_rules_and_the_quota(client):
    quarter_of_work(client)
    proposed = propose(client, "p1")
    assert proposed.good_quota == 2
    grades = {a.officer_id: (a.points, a.evidence_count, a.late_count, a.proposed_grade)
              for a in proposed.assessments}
    assert grades == {
        "MH01-01": (32, 8, 0, pb.GRADE_GOOD), "MH01-02": (33, 11, 0, pb.GRADE_GOOD),
        "MH01-03": (32, 16, 0, pb.GRADE_FAIRLY_GOOD), "MH01-04": (5, 2, 1, pb.GRADE_AVERAGE),
        "MH01-05": (0, 0, 0, pb.GRADE_AVERAGE)}
    third = next(a for a in proposed.assessments if a.officer_id == "MH01-03")
    assert "quota (2 of 5)" in third.proposal_explanation and third.rule_set == "2026-01-01"
    assert propose(client, "p1") == proposed
    evidence = client.staff.ListEvidence(pb.ListEvidenceRequest(
        filter='officer_id = "MH01-04" AND quarter = "2026-Q3"'))
    assert sorted((e.reference, e.on_time) for e in evidence.evidence) == [("c4-1", True), ("c4-2", False)]
    assert evidence.evidence[0].kind == pb.EVIDENCE_KIND_CASE and evidence.evidence[0].source == "mobile_enforcement"
    cases = client.staff.ListEvidence(pb.ListEvidenceRequest(filter="kind = CASE", page_size=100))
    assert len(cases.evidence) == 11 and list(cases.evidence[0].officer_ids) == ["MH01-01", "X"]


def finalize(client, officer_id: str, grade: int, reason: str = "", version: int = 0) -> pb.OfficerAssessment:
    return client.staff.FinalizeGrade(pb.FinalizeGradeRequest(officer_id=officer_id, quarter="2026-Q3", grade=grade,
                                                              reason=reason, expected_version=version))


def test_the_heads_grade_needs_a_reason_when_it_differs_or_exceeds_the_quota(client):
    quarter_of_work(client)
    propose(client)
    assert client.readings("MH01")["assessment.staff_assessed"] == (0, 5)
    kept = finalize(client, "MH01-01", pb.GRADE_GOOD)
    assert (kept.final_grade, kept.graded_by, kept.final_reason) == (pb.GRADE_GOOD, "system", "")
    finalize(client, "MH01-02", pb.GRADE_GOOD)
    before = client.counts()
    differs = expect_error(lambda: finalize(client, "MH01-04", pb.GRADE_POOR), grpc.StatusCode.INVALID_ARGUMENT)
    assert "differs" in differs["reason"]
    over_quota = expect_error(lambda: finalize(client, "MH01-03", pb.GRADE_GOOD), grpc.StatusCode.INVALID_ARGUMENT)
    assert "reason" in over_quota
    assert client.counts() == before
    with_reason = finalize(client, "MH01-03", pb.GRADE_GOOD, "牵头完成专项整治")
    assert (with_reason.final_grade, with_reason.final_reason) == (pb.GRADE_GOOD, "牵头完成专项整治")
    graded = client.events(events_pb2.OfficerGraded)
    assert [e.message.differs for e in graded] == [False, False, True]
    assert (graded[2].message.officer_id, graded[2].message.quarter, graded[2].message.final_grade,
            graded[2].message.proposed_grade, graded[2].aggregate_id) == (
        "MH01-03", "2026-Q3", "GOOD", "FAIRLY_GOOD", "MH01-03/2026-Q3")
    assert client.readings("MH01")["assessment.staff_assessed"] == (3, 5)
    assessments = client.staff.ListOfficerAssessments(pb.ListOfficerAssessmentsRequest(
        filter='quarter = "2026-Q3" AND final_grade = GOOD'))
    assert [a.officer_id for a in assessments.assessments] == ["MH01-01", "MH01-02", "MH01-03"]
    # Proposing again keeps the grades given; the others' proposals are recomputed.
    again = {a.officer_id: a for a in propose(client).assessments}
    assert again["MH01-03"].final_grade == pb.GRADE_GOOD and again["MH01-03"].version == with_reason.version


@pytest.mark.parametrize(("call", "code", "field"), [
    (lambda c: c.staff.ProposeGrades(pb.ProposeGradesRequest(office_id="MH01", quarter="2026-Q4")),
     grpc.StatusCode.FAILED_PRECONDITION, "quarter"),
    (lambda c: c.staff.ProposeGrades(pb.ProposeGradesRequest(office_id="MH01", quarter="2026-09")),
     grpc.StatusCode.INVALID_ARGUMENT, "quarter"),
    (lambda c: c.staff.ProposeGrades(pb.ProposeGradesRequest(office_id="", quarter="2026-Q3")),
     grpc.StatusCode.INVALID_ARGUMENT, "office_id"),
    (lambda c: c.staff.ProposeGrades(pb.ProposeGradesRequest(office_id="MH77", quarter="2026-Q3")),
     grpc.StatusCode.NOT_FOUND, None),
    (lambda c: finalize(c, "MH01-01", pb.GRADE_GOOD), grpc.StatusCode.NOT_FOUND, None),
    (lambda c: c.staff.GetOfficerAssessment(pb.GetOfficerAssessmentRequest(officer_id="MH01-01", quarter="2026-Q3")),
     grpc.StatusCode.NOT_FOUND, None),
    (lambda c: c.staff.ListEvidence(pb.ListEvidenceRequest(filter="kind = BRIBE")),
     grpc.StatusCode.INVALID_ARGUMENT, "filter"),
    (lambda c: c.staff.ListOfficerAssessments(pb.ListOfficerAssessmentsRequest(filter='quarter = "Q3"')),
     grpc.StatusCode.INVALID_ARGUMENT, "filter"),
])
def test_bad_staff_requests_are_refused_and_change_nothing(client, call, code, field):
    quarter_of_work(client)
    before = client.counts()
    found = expect_error(lambda: call(client), code)
    if field:
        assert field in found
    assert client.counts() == before


def test_a_grade_outside_the_scale_is_invalid(client):
    quarter_of_work(client)
    proposed = propose(client)
    version = proposed.assessments[0].version
    assert "grade" in expect_error(lambda: finalize(client, "MH01-01", pb.GRADE_UNSPECIFIED),
                                   grpc.StatusCode.INVALID_ARGUMENT)
    assert "grade" in expect_error(lambda: finalize(client, "MH01-01", 17), grpc.StatusCode.INVALID_ARGUMENT)
    expect_error(lambda: finalize(client, "MH01-01", pb.GRADE_GOOD, version=version + 5), grpc.StatusCode.ABORTED)
    assert client.staff.GetOfficerAssessment(pb.GetOfficerAssessmentRequest(
        officer_id="MH01-01", quarter="2026-Q3")).final_grade == pb.GRADE_UNSPECIFIED
