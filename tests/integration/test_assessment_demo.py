"""The monolith with assessment after command_center: the demo's closed quarter, rankings,
improvement plans and officer grades, built on the offices and officers command_center's events
delivered; and assessment's migrations against its models."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.assessment import models
from services.assessment.domain import periods
from services.common import migrate
from services.common.clock import shanghai_today
from services.common.db import Store
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc


@pytest.fixture
def district(demo_district):
    return demo_district.services, demo_district.channels["assessment"]


def test_the_demo_has_a_closed_quarter_with_rankings_plans_and_grades(district):
    services, channel = district
    quarter = periods.last_ended_quarter(shanghai_today()).key
    scores = pb_grpc.ScoreServiceStub(channel)
    [period] = scores.ListPeriods(pb.ListPeriodsRequest()).periods
    assert (period.key, period.office_count, period.scheme_version) == (quarter, 14, 1)
    rankings = scores.ListRankings(pb.ListRankingsRequest(period=quarter)).rankings
    assert [r.rank for r in rankings] == sorted(r.rank for r in rankings) and len(rankings) == 14
    assert all(r.HasField("index") for r in rankings) and len({round(r.coefficient, 3) for r in rankings}) > 3
    by_index = scores.ListRankings(pb.ListRankingsRequest(period=quarter, basis=pb.RANKING_BASIS_INDEX)).rankings
    assert [r.office_id for r in by_index] != [r.office_id for r in rankings]  # the coefficients matter
    # The workload's entities are each office's supervised population, with where it comes from.
    mh01 = scores.GetPeriodScore(pb.GetPeriodScoreRequest(period=quarter, office_id="MH01"))
    assert mh01.workload["entities"] >= 600 and mh01.workload_inputs[0].name == "entities"
    assert "监管主体数（移动执法：辖区名录库在册主体" in mh01.workload_explanation

    plans = pb_grpc.ImprovementServiceStub(channel).ListImprovementPlans(
        pb.ListImprovementPlansRequest(page_size=1000)).plans
    states = collections.Counter(p.state for p in plans)
    assert states[pb.IMPROVEMENT_STATE_OPEN] and states[pb.IMPROVEMENT_STATE_COMPLETED]
    assert sum(p.overdue for p in plans) == 2 and len({p.office_id for p in plans}) >= 10

    staff = pb_grpc.StaffAssessmentServiceStub(channel)
    graded = staff.ListOfficerAssessments(pb.ListOfficerAssessmentsRequest(
        filter=f'quarter = "{quarter}"', page_size=1000)).assessments
    assert len(graded) == 14 * 8 and all(a.final_grade for a in graded)
    differing = [a for a in graded if a.final_grade != a.proposed_grade]
    assert differing and all(a.final_reason for a in differing)
    assert {a.proposed_grade for a in graded} >= {pb.GRADE_GOOD, pb.GRADE_FAIRLY_GOOD, pb.GRADE_AVERAGE}
    evidence = staff.ListEvidence(pb.ListEvidenceRequest(
        filter=f'officer_id = "{graded[0].officer_id}" AND quarter = "{quarter}"', page_size=1000))
    assert len(evidence.evidence) == graded[0].evidence_count

    live = scores.GetLiveScore(pb.GetLiveScoreRequest(office_id="MH01"))
    assert all(s.available for s in live.sources)
    assert {"command_center", "assessment"} <= {s.source for s in live.sources}
    assert live.HasField("index")
    assert services["assessment"].runtime.seed_demo().loaded is False  # never over existing data


def test_migrations_build_exactly_the_models(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'assessment.db'}")
    try:
        migrations = Path(models.__file__).with_name("migrations")
        migrate.upgrade("assessment", migrations, store.url)
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection,
                                                 opts={"version_table": migrate.version_table("assessment")})
            assert compare_metadata(context, models.Base.metadata) == []
    finally:
        store.dispose()
