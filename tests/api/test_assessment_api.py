"""assessment through a real gRPC server, on SQLite and on PostgreSQL: offices, officers, indicator
values and work learned from events on the in-process bus; live scores from a real command_center."""

from __future__ import annotations

import datetime as dt
import math
import socket

import grpc
import pytest
from google.type import date_pb2

from services.common.auth import issue_token
from supervision.assessment.v1 import assessment_pb2 as pb
from tests.api.assessment_fixtures import AssessmentClient, by_key, expect_error, shanghai
from tests.conftest import make_settings
from tests.support import Clock, host

TODAY = dt.date(2026, 11, 2)
CC = "command_center"
DUTY, STAFFING, TASKS, CERTIFICATES = (f"{CC}.duty_coverage", f"{CC}.group_staffing", f"{CC}.task_on_time",
                                       f"{CC}.certificates_valid")


@pytest.fixture
def client(store_url, monkeypatch):
    monkeypatch.setenv("INDICATOR_SOURCES", "")
    running = host("assessment", store_url, make_settings(), Clock(TODAY))
    yield AssessmentClient(running)
    running.close()


def date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


# ---------------------------------------------------------------- the scheme


def starting_scheme(client) -> pb.Scheme:
    return client.schemes.GetScheme(pb.GetSchemeRequest())


def test_the_starting_scheme_is_served_with_names_and_sources(client):
    scheme = starting_scheme(client)
    assert scheme.version == 1 and (scheme.effective_from.year, scheme.effective_from.month) == (2026, 1)
    assert [d.name for d in scheme.dimensions] == [
        "职责界定具体化", "软硬设施规范化", "工作流程精细化", "保障机制科学化"]
    assert sum(d.weight for d in scheme.dimensions) == 100
    staffed = next(r for r in scheme.indicators if r.key == STAFFING)
    assert (staffed.source, staffed.name, staffed.direction, staffed.floor) == (
        CC, "四组持证配备率", pb.DIRECTION_HIGHER, 0.5)
    assert client.schemes.GetScheme(pb.GetSchemeRequest(as_of=date(dt.date(2020, 1, 1)))).version == 1
    listed = client.schemes.ListSchemeVersions(pb.ListSchemeVersionsRequest())
    assert [s.version for s in listed.schemes] == [1]


def edited(client, *, target: float = 0.9, effective=TODAY, note="提高督办按期率要求") -> pb.Scheme:
    scheme = pb.Scheme()
    scheme.CopyFrom(starting_scheme(client))
    next(r for r in scheme.indicators if r.key == TASKS).target = target
    scheme.effective_from.CopyFrom(date(effective))
    scheme.note = note
    return scheme


def test_update_scheme_adds_a_version_and_publishes_scheme_updated(client):
    updated = client.schemes.UpdateScheme(pb.UpdateSchemeRequest(request_id="s1", scheme=edited(client, target=0.98),
                                                                 expected_version=1))
    assert (updated.version, updated.note, updated.created_by) == (2, "提高督办按期率要求", "system")
    assert next(r for r in updated.indicators if r.key == TASKS).target == 0.98
    again = client.schemes.UpdateScheme(pb.UpdateSchemeRequest(request_id="s1", scheme=edited(client, target=0.5)))
    assert again == updated  # a retry returns the first result
    assert client.schemes.GetScheme(pb.GetSchemeRequest()).version == 2
    assert client.schemes.GetScheme(pb.GetSchemeRequest(as_of=date(TODAY - dt.timedelta(days=1)))).version == 1
    assert client.schemes.GetScheme(pb.GetSchemeRequest(version=1)).note.startswith("初始评价方案")
    [event] = client.outbox("SchemeUpdated")
    assert event["aggregate_version"] == 2 and event["data"]["effective_from"] == TODAY.isoformat()
    assert {i["key"]: i["target"] for i in event["data"]["indicators"]}[TASKS] == 0.98
    assert event["data"]["names"][TASKS] == "督办任务按期办结率"
    assert event["data"]["unscored_names"]["complaints.backlog"] == "投诉积压件数"
    expect_error(lambda: client.schemes.UpdateScheme(pb.UpdateSchemeRequest(scheme=edited(client),
                                                                            expected_version=1)),
                 grpc.StatusCode.ABORTED)
    client.schemes.UpdateScheme(pb.UpdateSchemeRequest(scheme=edited(client, note="第三版")))
    first = client.schemes.ListSchemeVersions(pb.ListSchemeVersionsRequest(page_size=2))
    rest = client.schemes.ListSchemeVersions(pb.ListSchemeVersionsRequest(page_size=2,
                                                                          page_token=first.next_page_token))
    assert [s.version for s in first.schemes] + [s.version for s in rest.schemes] == [3, 2, 1]
    assert client.schemes.GetScheme(pb.GetSchemeRequest(version=2)).indicators == updated.indicators


def break_weights(scheme: pb.Scheme) -> None:
    scheme.dimensions[0].weight = 30


def break_indicator_weights(scheme: pb.Scheme) -> None:
    scheme.indicators[0].weight = 1


def unknown_key(scheme: pb.Scheme) -> None:
    scheme.indicators[0].key = "command_center.happiness"


def ratio_target_above_one(scheme: pb.Scheme) -> None:
    scheme.indicators[0].target = 1.5


def no_direction(scheme: pb.Scheme) -> None:
    scheme.indicators[2].direction = pb.DIRECTION_UNSPECIFIED


def not_a_number(scheme: pb.Scheme) -> None:
    scheme.indicators[0].weight = math.nan


def past_date(scheme: pb.Scheme) -> None:
    scheme.effective_from.CopyFrom(date(TODAY - dt.timedelta(days=1)))


def unknown_workload_input(scheme: pb.Scheme) -> None:
    scheme.workload.weights["visitors"] = 1


def unbounded_coefficients(scheme: pb.Scheme) -> None:
    scheme.workload.minimum = 1.2


@pytest.mark.parametrize(("spoil", "field"), [
    (break_weights, "scheme.dimensions"),
    (break_indicator_weights, "scheme.indicators"),
    (unknown_key, "scheme.indicators[0].key"),
    (ratio_target_above_one, "scheme.indicators[0].target"),
    (no_direction, "scheme.indicators[2].direction"),
    (not_a_number, "scheme.indicators[0].weight"),
    (past_date, "scheme.effective_from"),
    (unknown_workload_input, "scheme.workload.weights[visitors]"),
    (unbounded_coefficients, "scheme.workload"),
])
def test_a_bad_scheme_is_refused_with_field_violations_and_changes_nothing(client, spoil, field):
    before = client.counts()
    scheme = edited(client)
    spoil(scheme)
    found = expect_error(lambda: client.schemes.UpdateScheme(pb.UpdateSchemeRequest(scheme=scheme)),
                         grpc.StatusCode.INVALID_ARGUMENT)
    assert field in found, found
    assert client.counts() == before
    assert client.schemes.GetScheme(pb.GetSchemeRequest()).version == 1


def test_bad_scheme_reads_are_refused(client):
    expect_error(lambda: client.schemes.GetScheme(pb.GetSchemeRequest(version=7)), grpc.StatusCode.NOT_FOUND)
    assert "version" in expect_error(lambda: client.schemes.GetScheme(pb.GetSchemeRequest(version=-1)),
                                     grpc.StatusCode.INVALID_ARGUMENT)
    assert "as_of" in expect_error(lambda: client.schemes.GetScheme(pb.GetSchemeRequest(
        as_of=date_pb2.Date(year=2026, month=2, day=30))), grpc.StatusCode.INVALID_ARGUMENT)
    for request, field in ((pb.ListSchemeVersionsRequest(filter="version = 1"), "filter"),
                           (pb.ListSchemeVersionsRequest(page_token="bm9wZQ=="), "page_token"),
                           (pb.ListSchemeVersionsRequest(page_size=-1), "page_size")):
        assert field in expect_error(lambda r=request: client.schemes.ListSchemeVersions(r),
                                     grpc.StatusCode.INVALID_ARGUMENT)


# ---------------------------------------------------------------- closing a period


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
    for number in range(10):
        client.work("mobile_enforcement", "CaseClosed", f"case-{number}", "MH01", dt.date(2026, 10, 3 + number))
    for number in range(5):
        client.work("mobile_enforcement", "InspectionCompleted", f"insp-{number}", "MH01", dt.date(2026, 10, 9),
                    entity_id=f"E{number}")


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
    [period_closed] = client.outbox("PeriodClosed")
    assert [r["office_id"] for r in period_closed["data"]["rankings"]] == ["MH01", "MH02", "MH03"]
    assert len(client.outbox("ImprovementOpened")) == 5


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
    assert len(client.outbox("PeriodClosed")) == 1
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


# ---------------------------------------------------------------- improvement


def plan_for(client, office_id: str, key: str, period: str = "2026-09") -> pb.ImprovementPlan:
    plans = client.plans.ListImprovementPlans(pb.ListImprovementPlansRequest(
        filter=f'office_id = "{office_id}" AND indicator_key = "{key}" AND period = "{period}"'))
    [plan] = plans.plans
    return plan


def september_then_october(client) -> None:
    client.office("MH01")
    client.officer("MH01-01", "MH01")
    client.values(CC, "MH01", shanghai(2026, 9, 15), {TASKS: (8, 10), CERTIFICATES: (8, 10)})
    client.clock.today = dt.date(2026, 10, 2)
    client.close("2026-09")


def test_the_next_period_verifies_improvement_plans(client):
    september_then_october(client)
    tasks = plan_for(client, "MH01", TASKS)
    planned = client.plans.UpdateImprovementPlan(pb.UpdateImprovementPlanRequest(plan=pb.ImprovementPlan(
        id=tasks.id, actions="每周调度督办事项", owner="MH01-01", due_date=date(dt.date(2026, 10, 20))),
        expected_version=tasks.version))
    assert (planned.owner, planned.version) == ("MH01-01", tasks.version + 1)
    done = client.plans.CompleteImprovementPlan(pb.CompleteImprovementPlanRequest(id=tasks.id, note="已建立台账"))
    assert done.state == pb.IMPROVEMENT_STATE_COMPLETED and done.HasField("complete_time")
    assert client.readings("MH01")["assessment.improvement_plans_closed"] == (1, 1)
    # October: tasks on time now, certificates still short.
    client.values(CC, "MH01", shanghai(2026, 10, 15), {TASKS: (10, 10), CERTIFICATES: (9, 10)})
    client.clock.today = TODAY
    closed = client.close("2026-10")
    assert (closed.improvement_plans_verified, closed.improvement_plans_not_effective) == (1, 1)
    verified = client.plans.GetImprovementPlan(pb.GetImprovementPlanRequest(id=tasks.id))
    assert (verified.state, verified.verified_in_period, verified.verified_value) == (
        pb.IMPROVEMENT_STATE_VERIFIED, "2026-10", 1.0)
    certificates = plan_for(client, "MH01", CERTIFICATES)
    assert certificates.state == pb.IMPROVEMENT_STATE_NOT_EFFECTIVE
    assert plan_for(client, "MH01", CERTIFICATES, "2026-10").state == pb.IMPROVEMENT_STATE_OPEN
    assert {e["data"]["state"] for e in client.outbox("ImprovementVerified")} == {"VERIFIED", "NOT_EFFECTIVE"}
    newest = client.scores.ListPeriods(pb.ListPeriodsRequest(page_size=1))
    older = client.scores.ListPeriods(pb.ListPeriodsRequest(page_size=1, page_token=newest.next_page_token))
    assert [p.key for p in newest.periods] + [p.key for p in older.periods] == ["2026-10", "2026-09"]
    assert older.next_page_token == "" or not client.scores.ListPeriods(pb.ListPeriodsRequest(
        page_token=older.next_page_token)).periods


def test_overdue_plans_publish_improvement_overdue_once(client):
    september_then_october(client)
    sweep = client.running.runtime.timers[0]
    client.clock.today = dt.date(2026, 11, 1)  # the plans were due on Nov 1 (30 days after Oct 2)
    sweep.run()
    assert client.outbox("ImprovementOverdue") == []
    client.clock.today = dt.date(2026, 11, 2)
    sweep.run()
    sweep.run()
    assert len(client.outbox("ImprovementOverdue")) == 2
    overdue = client.plans.ListImprovementPlans(pb.ListImprovementPlansRequest(filter="overdue = true"))
    assert len(overdue.plans) == 2 and all(p.overdue for p in overdue.plans)
    assert client.readings("MH01")["assessment.improvement_plans_closed"] == (0, 2)


@pytest.mark.parametrize(("plan", "mask", "field"), [
    ({"actions": " "}, ["actions"], "plan.actions"),
    ({"owner": "MH09-01"}, ["owner"], "plan.owner"),
    ({"due_date": date(dt.date(2026, 10, 1))}, ["due_date"], "plan.due_date"),
    ({"due_date": date(dt.date(2027, 6, 1))}, ["due_date"], "plan.due_date"),
    ({"due_date": date_pb2.Date(year=2026, month=2, day=30)}, ["due_date"], "plan.due_date"),
    ({"actions": "x"}, ["state"], "update_mask"),
])
def test_bad_plan_updates_are_refused_and_change_nothing(client, plan, mask, field):
    september_then_october(client)
    target = plan_for(client, "MH01", TASKS)
    before = client.counts()
    found = expect_error(lambda: client.plans.UpdateImprovementPlan(pb.UpdateImprovementPlanRequest(
        plan=pb.ImprovementPlan(id=target.id, **plan), update_mask=mask)), grpc.StatusCode.INVALID_ARGUMENT)
    assert field in found
    assert client.counts() == before
    assert client.plans.GetImprovementPlan(pb.GetImprovementPlanRequest(id=target.id)) == target


def test_bad_plan_transitions_are_refused(client):
    september_then_october(client)
    target = plan_for(client, "MH01", TASKS)
    before = client.counts()
    assert "note" in expect_error(lambda: client.plans.CompleteImprovementPlan(
        pb.CompleteImprovementPlanRequest(id=target.id, note="")), grpc.StatusCode.INVALID_ARGUMENT)
    assert "plan.actions" in expect_error(lambda: client.plans.CompleteImprovementPlan(
        pb.CompleteImprovementPlanRequest(id=target.id, note="做完了")), grpc.StatusCode.FAILED_PRECONDITION)
    expect_error(lambda: client.plans.UpdateImprovementPlan(pb.UpdateImprovementPlanRequest(
        plan=pb.ImprovementPlan(id=target.id, actions="x"), update_mask=["actions"], expected_version=99)),
        grpc.StatusCode.ABORTED)
    expect_error(lambda: client.plans.GetImprovementPlan(pb.GetImprovementPlanRequest(id="nope")),
                 grpc.StatusCode.NOT_FOUND)
    assert "filter" in expect_error(lambda: client.plans.ListImprovementPlans(pb.ListImprovementPlansRequest(
        filter="state = DONE")), grpc.StatusCode.INVALID_ARGUMENT)
    assert client.counts() == before


# ---------------------------------------------------------------- officers' routine assessment


def quarter_of_work(client) -> None:
    """Office MH01 with five officers and the third quarter's work, as the services report it."""
    client.office("MH01")
    for number in range(1, 6):
        client.officer(f"MH01-0{number}", "MH01")
    q3 = dt.date(2026, 8, 10)
    # MH01-01: 8 cases on time (32) -> GOOD. MH01-02: 11 tasks on time (33) -> GOOD.
    # MH01-03: 16 complaints within limits (32) -> GOOD by the rules, but the quota is 2 of 5
    # and it has the fewest points of the three. MH01-04: 2 cases, one late (4 + 1 = 5)
    # -> AVERAGE. MH01-05: nothing recorded -> AVERAGE (not judged on volume).
    for number in range(8):
        client.work("mobile_enforcement", "CaseClosed", f"c1-{number}", "MH01", q3, officer_ids=["MH01-01", "X"])
    for number in range(11):
        client.work(CC, "TaskCompleted", f"t2-{number}", "MH01", q3, completed_by="MH01-02", overdue=False)
    for number in range(16):
        client.work("complaints", "ComplaintResolved", f"p3-{number}", "MH01", q3, handled_by="MH01-03")
    client.work("mobile_enforcement", "CaseClosed", "c4-1", "MH01", q3, officer_id="MH01-04", on_time=True)
    client.work("mobile_enforcement", "CaseClosed", "c4-2", "MH01", q3, officer_id="MH01-04", on_time=False)
    # A redelivery by another event id of a record already counted, and work outside the quarter.
    client.work("mobile_enforcement", "CaseClosed", "c4-2", "MH01", q3, officer_id="MH01-04", on_time=False)
    client.work("mobile_enforcement", "CaseClosed", "c4-3", "MH01", dt.date(2026, 10, 1), officer_id="MH01-04")


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
    graded = client.outbox("OfficerGraded")
    assert [e["data"]["differs"] for e in graded] == [False, False, True]
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


# ---------------------------------------------------------------- live scores from a real command_center


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def with_command_center(store_url, tmp_path, monkeypatch):
    from tests.api.conftest import CommandCenterClient

    center = host(CC, f"sqlite:///{tmp_path / 'command_center.db'}", make_settings(), Clock(TODAY))
    monkeypatch.setenv("INDICATOR_SOURCES", f"command_center=127.0.0.1:{center.hosted.server.port},"
                                            f"complaints=127.0.0.1:{closed_port()}")
    running = host("assessment", store_url, make_settings(), Clock(TODAY))
    center.bus.subscribe(running.runtime.consumer(), running.runtime.subscriptions)  # its events reach us
    yield CommandCenterClient(center), AssessmentClient(running)
    running.close()
    center.close()


def test_live_score_reads_the_sources_and_reports_those_that_are_down(with_command_center):
    from supervision.command_center.v1 import command_center_pb2 as cc

    center, client = with_command_center
    center.offices.CreateOffice(cc.CreateOfficeRequest(office=cc.Office(id="MH01", name="莘庄所", district="闵行区",
                                                                        streets=["莘庄镇"])))
    for number, group in enumerate((cc.GROUP_KIND_GENERAL, cc.GROUP_KIND_SUPERVISION), start=1):
        center.officers.RegisterOfficer(cc.RegisterOfficerRequest(officer=cc.Officer(
            id=f"MH01-0{number}", name="王伟", office_id="MH01", group=group, certificate_no=f"SH010{number}",
            certificate_expires=date(TODAY + dt.timedelta(days=30 * number)))))
    center.running.settle()  # command_center's events reach assessment: the office and officers
    client.running.settle()  # and assessment's own indicators are computed
    live = client.scores.GetLiveScore(pb.GetLiveScoreRequest(office_id="MH01"))
    sources = {s.source: s for s in live.sources}
    assert sources[CC].available and sources["assessment"].available
    assert not sources["complaints"].available and sources["complaints"].error.startswith("UNAVAILABLE")
    indicators = by_key(live)
    # Two of the four groups staffed with certified officers: 0.5, exactly half the target.
    assert (indicators[STAFFING].numerator, indicators[STAFFING].denominator) == (2, 4)
    assert indicators[STAFFING].points == pytest.approx(15.0)
    assert indicators[CERTIFICATES].status == pb.SCORE_STATUS_FULL
    assert indicators["complaints.acceptance_on_time"].status == pb.SCORE_STATUS_MISSING
    assert indicators["assessment.staff_assessed"].denominator == 2  # its own, read from its store
    assert live.HasField("index") and live.period == "" and live.scheme_version == 1
    district = client.scores.GetLiveScore(pb.GetLiveScoreRequest())
    assert by_key(district)[STAFFING].numerator == 2
    expect_error(lambda: client.scores.GetLiveScore(pb.GetLiveScoreRequest(office_id="MH99")),
                 grpc.StatusCode.NOT_FOUND)


# ---------------------------------------------------------------- access


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
