"""assessment through a real gRPC server: offices see their own records and only office heads grade."""

from __future__ import annotations

import grpc
import pytest

from services.common.auth import issue_token
from supervision.assessment.v1 import assessment_pb2 as pb
from tests.api.assessment.support import (
    CC,
    TASKS,
    TODAY,
    AssessmentClient,
    expect_error,
    quarter_of_work,
    shanghai,
)
from tests.conftest import make_settings
from tests.support import Clock, host


@pytest.fixture
def secured(store_url, monkeypatch):
    monkeypatch.setenv("INDICATOR_SOURCES", "")
    running = host("assessment", store_url, make_settings(AUTH_MODE="jwt", JWT_SECRET="s" * 32), Clock(TODAY))
    yield AssessmentClient(running)
    running.close()


def as_(subject: str, role: str, office_id: str = "") -> list[tuple[str, str]]:
    token = issue_token("s" * 32, subject=subject, roles=[role], office_id=office_id)
    return [("authorization", f"Bearer {token}")]


def test_offices_see_their_own_records_and_only_heads_grade(secured):
    client = secured
    quarter_of_work(client)
    client.office("MH02")
    client.values(CC, "MH02", shanghai(2026, 10, 20), {TASKS: (1, 2)})
    client.values(CC, "MH01", shanghai(2026, 10, 20), {TASKS: (1, 2)})
    leader = as_("leader", "bureau_leader")
    client.scores.ClosePeriod(pb.ClosePeriodRequest(period="2026-10"), metadata=leader)
    head, officer, other_head = as_("head1", "office_head", "MH01"), as_("MH01-04", "officer", "MH01"), \
        as_("head2", "office_head", "MH02")
    expect_error(lambda: client.scores.ClosePeriod(pb.ClosePeriodRequest(period="2026-09"), metadata=head),
                 grpc.StatusCode.PERMISSION_DENIED)
    expect_error(lambda: client.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period="2026-10", office_id="MH02"),
                                                      metadata=head), grpc.StatusCode.PERMISSION_DENIED)
    own = client.scores.ListRankings(pb.ListRankingsRequest(period="2026-10"), metadata=head)
    assert [r.office_id for r in own.rankings] == ["MH01"]
    expect_error(lambda: client.staff.ProposeGrades(pb.ProposeGradesRequest(office_id="MH01", quarter="2026-Q3"),
                                                    metadata=officer), grpc.StatusCode.PERMISSION_DENIED)
    expect_error(lambda: client.staff.ProposeGrades(pb.ProposeGradesRequest(office_id="MH01", quarter="2026-Q3"),
                                                    metadata=other_head), grpc.StatusCode.PERMISSION_DENIED)
    client.staff.ProposeGrades(pb.ProposeGradesRequest(office_id="MH01", quarter="2026-Q3"), metadata=head)
    mine = client.staff.ListEvidence(pb.ListEvidenceRequest(), metadata=officer)
    assert {e.reference for e in mine.evidence} == {"c4-1", "c4-2", "c4-3"}
    expect_error(lambda: client.staff.ListEvidence(pb.ListEvidenceRequest(filter='officer_id = "MH01-01"'),
                                                   metadata=officer), grpc.StatusCode.PERMISSION_DENIED)
    expect_error(lambda: client.staff.GetOfficerAssessment(pb.GetOfficerAssessmentRequest(
        officer_id="MH01-01", quarter="2026-Q3"), metadata=officer), grpc.StatusCode.PERMISSION_DENIED)
    assert client.staff.GetOfficerAssessment(pb.GetOfficerAssessmentRequest(
        officer_id="MH01-04", quarter="2026-Q3"), metadata=officer).points == 5
    expect_error(lambda: client.schemes.UpdateScheme(pb.UpdateSchemeRequest(scheme=pb.Scheme()), metadata=head),
                 grpc.StatusCode.PERMISSION_DENIED)


def test_an_auditor_role_never_lets_an_office_head_grade_another_office(secured):
    """The head of MH02 whose token also holds the auditor role reads MH01's work but grades nobody there."""
    client = secured
    quarter_of_work(client)
    client.office("MH02")
    token = issue_token("s" * 32, subject="head2", roles=["office_head", "auditor"], office_id="MH02")
    mixed = [("authorization", f"Bearer {token}")]
    assert client.staff.ListEvidence(pb.ListEvidenceRequest(), metadata=mixed).evidence
    expect_error(lambda: client.staff.ProposeGrades(pb.ProposeGradesRequest(office_id="MH01", quarter="2026-Q3"),
                                                    metadata=mixed), grpc.StatusCode.PERMISSION_DENIED)
    expect_error(lambda: client.staff.GetOfficerAssessment(pb.GetOfficerAssessmentRequest(
        officer_id="MH01-01", quarter="2026-Q3"), metadata=as_("leader", "bureau_leader")), grpc.StatusCode.NOT_FOUND)
