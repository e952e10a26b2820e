"""assessment's improvement plans through a real gRPC server: updates, verification, overdue notices."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.type import date_pb2

from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import events_pb2
from tests.api.assessment.support import (
    CC,
    CERTIFICATES,
    TASKS,
    TODAY,
    date,
    expect_error,
    shanghai,
)


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
    assert {e.message.state for e in client.events(events_pb2.ImprovementVerified)} == {"VERIFIED", "NOT_EFFECTIVE"}
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
    assert client.events(events_pb2.ImprovementOverdue) == []
    client.clock.today = dt.date(2026, 11, 2)
    sweep.run()
    sweep.run()
    overdue_events = client.events(events_pb2.ImprovementOverdue)
    assert len(overdue_events) == 2
    assert {(e.message.office_id, e.message.overdue, e.message.state) for e in overdue_events} == {
        ("MH01", True, "OPEN")}
    assert all(e.aggregate_id == e.message.plan_id and e.aggregate_version == e.message.version
               for e in overdue_events)
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
        plan=pb.ImprovementPlan(id=target.id, **plan),
            update_mask=FieldMask(paths=mask))), grpc.StatusCode.INVALID_ARGUMENT)
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
        plan=pb.ImprovementPlan(id=target.id, actions="x"),
            update_mask=FieldMask(paths=["actions"]), expected_version=99)),
        grpc.StatusCode.ABORTED)
    expect_error(lambda: client.plans.GetImprovementPlan(pb.GetImprovementPlanRequest(id="nope")),
                 grpc.StatusCode.NOT_FOUND)
    assert "filter" in expect_error(lambda: client.plans.ListImprovementPlans(pb.ListImprovementPlansRequest(
        filter="state = DONE")), grpc.StatusCode.INVALID_ARGUMENT)
    assert client.counts() == before
