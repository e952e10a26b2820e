"""The monolith with assessment after command_center: the demo's three closed quarters, rankings,
improvement plans and officer grades, built on the offices and officers command_center's events
delivered; the offices' stages (规范 / 推进 / 提升) judged by hand from the period scores; and
assessment's migrations against its models."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.assessment import models
from services.assessment.domain import history, periods
from services.common import migrate
from services.common.clock import shanghai_today
from services.common.contracts import timestamp_of
from services.common.db import Store
from services.common.errors import InvalidArgument
from services.common.indicators import Reading, reading_message
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from supervision.common.v1.events_pb2 import IndicatorsChanged


@pytest.fixture
def district(demo_district):
    return demo_district.services, demo_district.channels["assessment"]


def test_the_demo_has_a_closed_quarter_with_rankings_plans_and_grades(district):
    services, channel = district
    quarter = periods.last_ended_quarter(shanghai_today()).key
    scores = pb_grpc.ScoreServiceStub(channel)
    period, *earlier = scores.ListPeriods(pb.ListPeriodsRequest()).periods
    assert (period.key, period.office_count, period.scheme_version) == (quarter, 14, 1)
    assert len(earlier) == 2 and all(p.office_count == 14 for p in earlier)
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


def test_the_demo_offices_stand_at_every_stage_as_their_period_scores_say(district):
    _services, channel = district
    scores = pb_grpc.ScoreServiceStub(channel)
    ladder = pb_grpc.SchemeServiceStub(channel).GetScheme(pb.GetSchemeRequest()).stages.stages
    periods_read = list(scores.ListPeriods(pb.ListPeriodsRequest()).periods)  # newest first
    for newer, older in itertools.pairwise(periods_read):  # one after the other
        assert dt.date(older.end_date.year, older.end_date.month, older.end_date.day) + dt.timedelta(days=1) == \
            dt.date(newer.start_date.year, newer.start_date.month, newer.start_date.day)
    judged = {o.office_id: o for o in scores.ListOfficeStages(pb.ListOfficeStagesRequest()).offices}
    assert len(judged) == 14

    def meets(stage, result) -> bool:
        index, dimensions = result
        return index is not None and index >= stage.min_index and all(
            score >= stage.min_dimensions.get(key, stage.min_dimension)
            for key, score in dimensions.items() if score is not None)

    reached = {}
    for office_id, office in judged.items():
        results = []  # newest first: (index, {dimension: score})
        for period in periods_read:
            score = scores.GetPeriodScore(pb.GetPeriodScoreRequest(period=period.key, office_id=office_id))
            results.append((score.index if score.HasField("index") else None,
                            {d.key: d.score if d.HasField("score") else None for d in score.dimensions}))
        runs = []
        for stage in ladder:
            run = 0
            while run < len(results) and meets(stage, results[run]):
                run += 1
            runs.append(run)
        held = 0
        while held < len(ladder) and runs[held] >= ladder[held].consecutive_periods:
            held += 1
        stage_key = ladder[held - 1].key if held else ""
        assert (office.stage, list(office.periods)) == (stage_key, [p.key for p in periods_read]), office_id
        reached[office_id] = stage_key
        if held == len(ladder):
            assert not office.lacks and not office.next_stage, office_id
            continue
        upcoming = ladder[held]
        assert office.next_stage == upcoming.key and office.lacks, office_id
        index, dimensions = results[0]
        expected = [("index", "", upcoming.min_index, index)] if index is None or index < upcoming.min_index else []
        expected += [("dimension", key, upcoming.min_dimensions.get(key, upcoming.min_dimension), score)
                     for key, score in dimensions.items()
                     if score is not None and score < upcoming.min_dimensions.get(key, upcoming.min_dimension)]
        if runs[held] < upcoming.consecutive_periods:
            expected.append(("periods", "", upcoming.consecutive_periods, runs[held]))
        found = [(lack.target, lack.dimension, lack.required, lack.actual if lack.HasField("actual") else None)
                 for lack in office.lacks]
        assert found == expected, office_id  # the same stored doubles, compared exactly
        assert all(lack.description for lack in office.lacks)
    # Offices at every stage, and below the first: the demo district shows the whole ladder.
    by_stage = collections.Counter(reached.values())
    assert set(by_stage) == {"", *(stage.key for stage in ladder)} and by_stage[""] >= 1, by_stage
    assert by_stage[ladder[0].key] >= 2 and by_stage[ladder[1].key] >= 2, by_stage


def test_the_demos_past_quarters_sort_before_what_the_services_publish(tmp_path):
    """The demo's history of earlier quarters (versions 0, -1, -2): each quarter's end reads its
    own values, and a service's first version (1) replaces them all for the present."""
    store = Store(f"sqlite:///{tmp_path / 'history.db'}")
    models.Base.metadata.create_all(store.engine)
    key = "complaints.satisfaction"
    quarters = [periods.parse("2026-Q1"), periods.parse("2026-Q2"), periods.parse("2026-Q3")]

    def changed(version: int, when: dt.datetime, numerator: float) -> IndicatorsChanged:
        return IndicatorsChanged(office_id="MH01", version=version, as_of=timestamp_of(when),
                                 indicators=[reading_message(Reading("MH01", key, numerator, 10))])

    try:
        with store.transaction() as session:
            for back, quarter in zip((2, 1, 0), quarters, strict=True):
                when = quarter.cutoff - dt.timedelta(hours=2)
                assert history.record_before_services(session, "complaints", changed(-back, when, 5 + back), when) == 1
            now = quarters[-1].cutoff + dt.timedelta(days=30)
            history.record(session, "complaints", changed(1, now, 9), now)
            with pytest.raises(InvalidArgument, match="version 0 or below"):
                history.record_before_services(session, "complaints", changed(2, now, 1), now)
        with store.read() as session:
            read = [history.values_at(session, q.cutoff)["MH01"][key].numerator for q in quarters]
            assert read == [7, 6, 5]
            assert history.values_at(session, now + dt.timedelta(seconds=1))["MH01"][key].numerator == 9
    finally:
        store.dispose()


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
