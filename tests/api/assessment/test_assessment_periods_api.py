"""assessment through a real gRPC server: closing a period scores, ranks and opens improvement plans."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from services.assessment.domain.workload import ENTITIES_SUPERVISED
from services.common.contracts import day_of
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import events_pb2
from tests.api.assessment.support import (
    CC,
    CERTIFICATES,
    DUTY,
    STAFFING,
    TASKS,
    by_key,
    case_closed,
    edited,
    expect_error,
    inspection_completed,
    shanghai,
)

ME = "mobile_enforcement"


def october(client) -> None:
    """Three offices; command_center's figures as they stood in October, and a later change that
    must not count for October; MH01 did most of the work (its coefficient is highest)."""
    for office_id in ("MH01", "MH02", "MH03"):
        client.office(office_id)
    mid_october = shanghai(2026, 10, 20)
    client.values(CC, "MH01", mid_october, {DUTY: (10, 10), STAFFING: (4, 4), TASKS: (9, 10), CERTIFICATES: (8, 10)})
    client.values(CC, "MH02", mid_october, {DUTY: (10, 10), STAFFING: (4, 4), TASKS: (10, 10), CERTIFICATES: (10, 10)})
    client.values(CC, "MH03", mid_october, {DUTY: (5, 10), STAFFING: (2, 4), TASKS: (0, 0), CERTIFICATES: (4, 10)})
    # One hour into November (Shanghai): after October's end.
    client.values(CC, "MH02", shanghai(2026, 11, 1, 1), {DUTY: (0, 10), STAFFING: (0, 4), TASKS: (0, 10),
                                                         CERTIFICATES: (0, 10)})
    # The supervised population at October's end (its directory of 5 entities), and November's.
    client.values(ME, "MH01", mid_october, {ENTITIES_SUPERVISED: (5, 1)})
    client.values(ME, "MH01", shanghai(2026, 11, 1, 1), {ENTITIES_SUPERVISED: (500, 1)})
    for number in range(10):
        client.work(ME, case_closed(f"case-{number}", "MH01", ["MH01-01", "MH01-02"]), dt.date(2026, 10, 3 + number))
    for number in range(5):  # all at one entity: the workload counts the population, not who was inspected
        client.work(ME, inspection_completed(f"insp-{number}", "MH01", ["MH01-01", "MH01-02"], entity_id="E0"),
                    dt.date(2026, 10, 9))


# By hand, scheme v1. MH01: duties 35 + 30 + 35 x 0.9/0.95 = 98.158 of 100; support: certificates
# 0.8 -> 24 of 30 = 80; the other indicators have no data. Index = (25 x 98.158 + 20 x 80) / 45.
MH01_INDEX = (25 * (35 + 30 + 35 * 0.9 / 0.95) + 20 * 80) / 45
# MH03: duties (17.5 + 15) of 65 possible (task_on_time has no data) = 50; certificates 0.4 is
# below half the target: 0. Index = (25 x 50 + 20 x 0) / 45.
MH03_INDEX = 25 * 50 / 45
# Workload v1: MH01 10 cases x 4 + 5 inspections x 1 + 5 entities x 0.5 = 47.5; others 0; mean
# 15.83: MH01 1 + 0.2 x (3 - 1) = 1.4 -> 1.1; MH02 and MH03 1 - 0.2 = 0.8 -> 0.9.


def test_closing_a_period_scores_ranks_and_opens_improvement_plans(client):
    october(client)
    closed = client.close("2026-10", request_id="close-oct")
    assert (closed.key, closed.kind, closed.scheme_version, closed.office_count) == (
        "2026-10", pb.PERIOD_KIND_MONTH, 1, 3)
    assert (closed.end_date.month, closed.end_date.day, closed.improvement_plans_opened) == (10, 31, 5)
    mh01 = client.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period="2026-10", office_id="MH01"))
    assert mh01.index == pytest.approx(MH01_INDEX)
    assert (mh01.coefficient, mh01.adjusted_index) == (pytest.approx(1.1), pytest.approx(MH01_INDEX * 1.1))
    assert dict(mh01.workload) == {"cases": 10, "inspections": 5, "entities": 5, "complaints": 0}
    assert [(i.name, i.value, i.weight) for i in mh01.workload_inputs] == [
        ("entities", 5, 0.5), ("inspections", 5, 1.0), ("complaints", 0, 1.5), ("cases", 10, 4.0)]
    assert mh01.workload_inputs[0].source == "监管主体数（移动执法：辖区名录库在册主体，截至期末）"
    assert mh01.workload_explanation == (
        "workload 47.5 = entities 5 × 0.5 [监管主体数（移动执法：辖区名录库在册主体，截至期末）] + "
        "inspections 5 × 1 [检查数（移动执法：期内完成的检查）] + "
        "complaints 0 × 1.5 [投诉举报办结数（投诉举报：期内办结的投诉举报）] + "
        "cases 10 × 4 [办案数（移动执法：期内结案的行政处罚案件）]")
    tasks = by_key(mh01)[TASKS]
    assert (tasks.status, tasks.numerator, tasks.denominator) == (pb.SCORE_STATUS_PRO_RATA, 9, 10)
    assert tasks.points == pytest.approx(35 * 0.9 / 0.95) and "90.0%" in tasks.explanation
    assert by_key(mh01)["complaints.satisfaction"].status == pb.SCORE_STATUS_MISSING
    assert not by_key(mh01)["complaints.satisfaction"].HasField("value")
    mh02 = client.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period="2026-10", office_id="MH02"))
    assert mh02.index == pytest.approx(100.0)  # November's drop is not October's
    mh03 = client.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period="2026-10", office_id="MH03"))
    assert mh03.index == pytest.approx(MH03_INDEX) and by_key(mh03)[TASKS].status == pb.SCORE_STATUS_MISSING

    adjusted = client.scores.ListRankings(pb.ListRankingsRequest(period="2026-10"))
    assert [(r.rank, r.office_id) for r in adjusted.rankings] == [(1, "MH01"), (2, "MH02"), (3, "MH03")]
    by_index = client.scores.ListRankings(pb.ListRankingsRequest(period="2026-10", basis=pb.RANKING_BASIS_INDEX))
    assert [(r.rank, r.office_id) for r in by_index.rankings] == [(1, "MH02"), (2, "MH01"), (3, "MH03")]
    assert by_index.rankings[0].office_name == "MH02 市场监督管理所" and by_index.scheme_version == 1
    paged = client.scores.ListRankings(pb.ListRankingsRequest(period="2026-10", page_size=2))
    tail = client.scores.ListRankings(pb.ListRankingsRequest(period="2026-10", page_size=2,
                                                             page_token=paged.next_page_token))
    assert [r.office_id for r in tail.rankings] == ["MH03"]

    # The district: sums of numerators over sums of denominators.
    district = client.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period="2026-10"))
    assert (by_key(district)[CERTIFICATES].numerator, by_key(district)[CERTIFICATES].denominator) == (22, 30)
    assert closed.district_index == pytest.approx(district.index)

    plans = client.plans.ListImprovementPlans(pb.ListImprovementPlansRequest(filter='period = "2026-10"'))
    assert sorted((p.office_id, p.indicator_key) for p in plans.plans) == [
        ("MH01", CERTIFICATES), ("MH01", TASKS), ("MH03", CERTIFICATES), ("MH03", DUTY), ("MH03", STAFFING)]
    plan = next(p for p in plans.plans if p.office_id == "MH01" and p.indicator_key == TASKS)
    assert (plan.value, plan.target, plan.state, plan.indicator_name) == (
        0.9, 0.95, pb.IMPROVEMENT_STATE_OPEN, "督办任务按期办结率")
    assert (plan.due_date.month, plan.due_date.day) == (12, 2)  # closed on Nov 2, 30 days to act
    [period_closed] = client.events(events_pb2.PeriodClosed)
    closed_message = period_closed.message
    assert (closed_message.period, closed_message.kind, closed_message.scheme_version, closed_message.plans_opened,
            day_of(closed_message.end_date)) == ("2026-10", "MONTH", 1, 5, dt.date(2026, 10, 31))
    assert closed_message.district_index == pytest.approx(closed.district_index)
    assert [(r.office_id, r.rank, r.index_rank) for r in closed_message.rankings] == [
        ("MH01", 1, 2), ("MH02", 2, 1), ("MH03", 3, 3)]
    assert closed_message.rankings[0].coefficient == pytest.approx(1.1)
    assert closed_message.rankings[0].adjusted_index == pytest.approx(MH01_INDEX * 1.1)
    opened = client.events(events_pb2.ImprovementOpened)
    assert len(opened) == 5
    assert {(e.message.office_id, e.message.indicator_key, e.message.state, day_of(e.message.due_date))
            for e in opened if e.message.office_id == "MH01"} == {
        ("MH01", TASKS, "OPEN", dt.date(2026, 12, 2)), ("MH01", CERTIFICATES, "OPEN", dt.date(2026, 12, 2))}


def test_a_closed_period_never_changes_and_is_never_closed_again(client):
    october(client)
    first = client.close("2026-10", request_id="close-oct")
    before = client.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period="2026-10", office_id="MH01"))
    assert client.close("2026-10", request_id="close-oct") == first  # a retry: the first result
    expect_error(lambda: client.close("2026-10", request_id="another"), grpc.StatusCode.ALREADY_EXISTS)
    # A late event about October, and a new scheme: the closed period keeps what it had.
    client.values(CC, "MH01", shanghai(2026, 10, 30), {DUTY: (0, 10), STAFFING: (0, 4), TASKS: (0, 10),
                                                       CERTIFICATES: (0, 10)})
    client.schemes.UpdateScheme(pb.UpdateSchemeRequest(scheme=edited(client, target=0.5)))
    after = client.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period="2026-10", office_id="MH01"))
    assert after.index == before.index and after.scheme_version == 1
    assert after.indicators == before.indicators
    assert len(client.events(events_pb2.PeriodClosed)) == 1
    assert [p.key for p in client.scores.ListPeriods(pb.ListPeriodsRequest()).periods] == ["2026-10"]


@pytest.mark.parametrize(("period", "code"), [
    ("2026-11", grpc.StatusCode.FAILED_PRECONDITION),  # has not ended
    ("2026-Q4", grpc.StatusCode.FAILED_PRECONDITION),
    ("2026-13", grpc.StatusCode.INVALID_ARGUMENT),
    ("2026-Q5", grpc.StatusCode.INVALID_ARGUMENT),
    ("last month", grpc.StatusCode.INVALID_ARGUMENT),
])
def test_closing_a_period_that_has_not_ended_or_does_not_exist_is_refused(client, period, code):
    october(client)
    before = client.counts()
    found = expect_error(lambda: client.close(period), code)
    assert "period" in found
    assert client.counts() == before


def test_bad_period_reads_are_refused(client):
    october(client)
    client.close("2026-10")
    expect_error(lambda: client.scores.GetPeriod(pb.GetPeriodRequest(period="2026-09")), grpc.StatusCode.NOT_FOUND)
    expect_error(lambda: client.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period="2026-10", office_id="MH77")),
                 grpc.StatusCode.NOT_FOUND)
    for call, field in (
            (lambda: client.scores.ListRankings(pb.ListRankingsRequest(period="2026-10", basis=9)), "basis"),
            (lambda: client.scores.ListRankings(pb.ListRankingsRequest(period="2026-10", page_token="eA==")),
             "page_token"),
            (lambda: client.scores.ListRankings(pb.ListRankingsRequest(period="2026-10", page_token="azphYmM=")),
             "page_token"),
            (lambda: client.scores.ListPeriods(pb.ListPeriodsRequest(page_token="azphYmM=")), "page_token"),
            (lambda: client.scores.ListRankings(pb.ListRankingsRequest(period="2026-10", filter="rank = 1")),
             "filter"),
            (lambda: client.scores.ListRankings(pb.ListRankingsRequest(period="Q3")), "period"),
            (lambda: client.scores.ListPeriods(pb.ListPeriodsRequest(filter="kind = WEEK")), "filter"),
            (lambda: client.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period="")), "period")):
        assert field in expect_error(call, grpc.StatusCode.INVALID_ARGUMENT)
    assert [p.key for p in client.scores.ListPeriods(pb.ListPeriodsRequest(filter="kind = MONTH")).periods] == [
        "2026-10"]
