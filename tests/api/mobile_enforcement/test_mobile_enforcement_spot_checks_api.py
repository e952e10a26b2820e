"""mobile_enforcement's spot checks through a real gRPC server: drawing, verifying and staffing plans."""

from __future__ import annotations

import datetime as dt
import hashlib

import grpc
import pytest
from sqlalchemy import update

from services.common.contracts import date_of
from services.mobile_enforcement.models import Inspection, PlanSnapshot
from supervision.mobile_enforcement.v1 import events_pb2 as events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    TODAY,
    date,
    directory,
    expect_error,
    plan_request,
    targets_of,
    uscc,
)


def test_a_drawn_plan_is_reproducible_and_publicly_verifiable(client):
    directory(client)
    client.spot_checks.DeclareConflict(pb.DeclareConflictRequest(conflict=pb.Conflict(
        officer_id="MH01-001", entity_id=uscc(10), reason="配偶经营")))
    plan = client.spot_checks.DrawPlan(plan_request(request_id="p1"))
    # 4 key objects drawn whole besides the tiers; 30% of 10 very high, 10% of 8 high, 2% of 10 medium
    # and 1% of 8 low make 3 + 0.8 + 0.2 + 0.08 = 4.08, rounded half up once: 4, shared by largest
    # remainder (2.94, 0.78, 0.20, 0.08 of the 4) as 3, 1, 0, 0.
    assert (plan.population_count, plan.key_object_count, plan.target_count, plan.eligible_inspector_count,
            plan.rounding) == (40, 4, 8, 4, pb.ROUNDING_RULE_HALF_UP)
    assert client.spot_checks.DrawPlan(plan_request(request_id="p1")) == plan
    targets = targets_of(client, plan.id)
    assert [t.position for t in targets] == list(range(1, 9))
    tier_of = {uscc(n): ("KEY" if n % 10 == 0 else ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")[n % 4]) for n in range(1, 41)}
    drawn_tiers = [tier_of[t.entity_id] for t in targets]
    assert [drawn_tiers.count(tier) for tier in ("KEY", "VERY_HIGH", "HIGH", "MEDIUM", "LOW")] == [4, 3, 1, 0, 0]
    assert all(len(set(t.inspector_ids)) == 2 and t.state == pb.INSPECTION_STATE_PLANNED for t in targets)
    assert "MH01-001" not in next(t for t in targets if t.entity_id == uscc(10)).inspector_ids
    loads = [sum(officer in t.inspector_ids for t in targets) for officer in ("MH01-001", "MH01-002", "MH01-003",
                                                                             "MH01-004")]
    assert max(loads) - min(loads) <= 1 and sum(loads) == 16
    verified = client.spot_checks.VerifyPlan(pb.VerifyPlanRequest(id=plan.id))
    assert (verified.matches, verified.targets_checked, verified.mismatch) == (True, 8, "")
    assert (verified.rounding, verified.exact_share, verified.quota) == (pb.ROUNDING_RULE_HALF_UP, "4.08", 8)
    for kind, digest in ((pb.SNAPSHOT_KIND_ENTITIES, plan.entity_snapshot_digest),
                         (pb.SNAPSHOT_KIND_OFFICERS, plan.officer_snapshot_digest)):
        exported = b"".join(c.data for c in client.spot_checks.ExportPlanSnapshot(
            pb.ExportPlanSnapshotRequest(plan_id=plan.id, kind=kind)))
        assert hashlib.sha256(exported).hexdigest() == digest
    assert f"MH01-001\t1\t{uscc(10)}" in exported.decode()
    [drawn] = client.events(events.PlanDrawn)
    assert drawn.message == events.PlanDrawn(
        plan_id=plan.id, version=1, office_id="MH01", name="2026年第四季度双随机抽查", seed="公开种子-2026-11",
        drawn_on=date_of(TODAY), entity_snapshot_digest=plan.entity_snapshot_digest,
        officer_snapshot_digest=plan.officer_snapshot_digest, target_count=8,
        rounding=pb.RoundingRule.Name(plan.rounding).removeprefix("ROUNDING_RULE_"))
    assert drawn.message.rounding == "HALF_UP"  # the rule the plan states, as GetPlan shows it
    same_again = client.spot_checks.DrawPlan(plan_request(request_id="p2"))
    assert [t.entity_id for t in targets_of(client, same_again.id)] == [t.entity_id for t in targets]
    listed = client.spot_checks.ListPlans(pb.ListPlansRequest(filter='office_id = "MH01"'))
    assert {p.id for p in listed.plans} == {plan.id, same_again.id}
    assert client.readings()["spot_check_completion"] == (0, 16)


def test_a_plan_ratio_is_honoured_over_the_whole_market_by_its_stated_rounding(client):
    # 46 entities, two of them of no key type (a petrol station, a lift user), one key object.
    rows = ["uscc,name,category,address,street,risk_level,key_supervision,industry_code"]
    rows += [f"{uscc(n)},店{n},CATERING,x,莘庄镇,{('LOW', 'MEDIUM')[n % 2]},{str(n == 1).lower()},6210"
             for n in range(1, 45)]
    rows += [f"{uscc(45)},加油站,,x,莘庄镇,HIGH,false,5265", f"{uscc(46)},电梯使用单位,,x,莘庄镇,LOW,false,7040"]
    imported = client.entities.ImportEntities(pb.ImportEntitiesRequest(content="\n".join(rows).encode()))
    assert imported.imported_count == 46
    # 5% of 46 is 2.3: half up 2, up 3; the key object is one of them, never 8 (each tier rounded up).
    for rounding, expected in ((pb.ROUNDING_RULE_HALF_UP, 2), (pb.ROUNDING_RULE_CEIL, 3)):
        plan = client.spot_checks.DrawPlan(plan_request(tier_ratios=[], ratio_basis_points=500, rounding=rounding))
        assert (plan.population_count, plan.key_object_count, plan.target_count, plan.rounding) == (
            46, 1, expected, rounding)
        targets = [t.entity_id for t in targets_of(client, plan.id)]
        assert targets[0] == uscc(1) and len(set(targets)) == expected
        verified = client.spot_checks.VerifyPlan(pb.VerifyPlanRequest(id=plan.id))
        assert (verified.matches, verified.exact_share, verified.quota, verified.rounding) == (
            True, "2.3", expected, rounding)
    # A plan naming types covers those only: the two entities of no key type are out of its scope.
    typed = client.spot_checks.DrawPlan(plan_request(tier_ratios=[], ratio_basis_points=10000,
                                                     categories=[pb.ENTITY_CATEGORY_CATERING]))
    assert (typed.population_count, typed.target_count) == (44, 44)
    whole = client.spot_checks.DrawPlan(plan_request(tier_ratios=[], ratio_basis_points=10000))
    assert {t.entity_id for t in targets_of(client, whole.id)} >= {uscc(45), uscc(46)}


def test_tampering_with_a_plan_or_its_snapshot_is_detected(client):
    directory(client)
    plan = client.spot_checks.DrawPlan(plan_request())
    second = targets_of(client, plan.id)[1]
    with client.running.store.transaction() as session:
        session.execute(update(Inspection).where(Inspection.id == second.inspection_id)
                        .values(assigned_officer_ids=",".join(reversed(second.inspector_ids))))
    verified = client.spot_checks.VerifyPlan(pb.VerifyPlanRequest(id=plan.id))
    assert not verified.matches and verified.entity_snapshot_intact and verified.targets_checked == 1
    assert verified.mismatch.startswith("target 2: the plan holds")
    with client.running.store.transaction() as session:
        snapshot = session.get(PlanSnapshot, (plan.id, "ENTITIES"))
        snapshot.content = snapshot.content[:-1] + bytes([snapshot.content[-1] ^ 1])
    assert not client.spot_checks.VerifyPlan(pb.VerifyPlanRequest(id=plan.id)).entity_snapshot_intact


def test_a_plan_the_office_cannot_staff_is_refused_saying_why(client):
    directory(client, 10)
    for officer_id in ("MH01-002", "MH01-003", "MH01-004"):
        client.officer(officer_id, expires=TODAY - dt.timedelta(days=1))
    before = client.counts()
    with pytest.raises(grpc.RpcError) as refused:
        client.spot_checks.DrawPlan(plan_request(ratio_basis_points=5000, tier_ratios=[]))
    assert refused.value.code() == PRECONDITION
    assert "no eligible inspectors: 1 officer(s)" in refused.value.details()
    client.officer("MH01-002")  # certificate renewed
    client.spot_checks.DeclareConflict(pb.DeclareConflictRequest(conflict=pb.Conflict(
        officer_id="MH01-002", entity_id=uscc(10), reason="股东")))
    before = client.counts()
    found = expect_error(lambda: client.spot_checks.DrawPlan(plan_request(ratio_basis_points=5000, tier_ratios=[])),
                         PRECONDITION)
    assert f"entity {uscc(10)}: 1 certified inspector(s) free" in found["plan"]
    assert client.counts() == before
    expect_error(lambda: client.spot_checks.DrawPlan(plan_request(office_id="MH09")), NOT_FOUND)


BAD_PLANS = [
    ({"ratio_basis_points": 500}, "plan.ratio_basis_points"),  # and tier ratios: not both
    ({"tier_ratios": []}, "plan.ratio_basis_points"),  # neither
    ({"rounding": pb.ROUNDING_RULE_PER_GROUP_CEIL}, "plan.rounding"),  # the old plans' rule: output only
    ({"rounding": 99}, "plan.rounding"),
    ({"tier_ratios": [], "ratio_basis_points": 10001}, "plan.ratio_basis_points"),
    ({"tier_ratios": [pb.TierRatio(risk_level=pb.RISK_LEVEL_LOW, ratio_basis_points=100)] * 2},
     "plan.tier_ratios[1].risk_level"),
    ({"tier_ratios": [pb.TierRatio(risk_level=0, ratio_basis_points=100)]}, "plan.tier_ratios[0].risk_level"),
    ({"tier_ratios": [pb.TierRatio(risk_level=pb.RISK_LEVEL_LOW, ratio_basis_points=-1)]},
     "plan.tier_ratios[0].ratio_basis_points"),
    ({"categories": [pb.ENTITY_CATEGORY_CATERING, pb.ENTITY_CATEGORY_CATERING]}, "plan.categories[1]"),
    ({"categories": [42]}, "plan.categories[0]"),
    ({"inspectors_per_target": 1}, "plan.inspectors_per_target"),
    ({"seed": "s" * 129}, "plan.seed"),
    ({"name": ""}, "plan.name"),
    ({"due_date": date(TODAY - dt.timedelta(days=1))}, "plan.due_date"),
]


def test_bad_plans_are_invalid_argument_and_draw_nothing(client):
    directory(client, 10)
    before = client.counts()
    for fields, field in BAD_PLANS:
        assert field in expect_error(lambda fields=fields: client.spot_checks.DrawPlan(plan_request(**fields)),
                                     INVALID), fields
    assert client.counts() == before


def test_conflicts_are_declared_once_and_listed(client):
    client.entity(1)
    declared = client.spot_checks.DeclareConflict(pb.DeclareConflictRequest(request_id="c1", conflict=pb.Conflict(
        officer_id="MH01-001", entity_id=uscc(1), reason="近亲属经营")))
    assert (declared.declared_by, declared.entity_id) == ("system", uscc(1))
    listed = client.spot_checks.ListConflicts(pb.ListConflictsRequest(filter='officer_id = "MH01-001"'))
    assert [c.entity_id for c in listed.conflicts] == [uscc(1)]
    before = client.counts()
    for conflict, code in [
        (pb.Conflict(officer_id="MH01-001", entity_id=uscc(1), reason="again"), grpc.StatusCode.ALREADY_EXISTS),
        (pb.Conflict(officer_id="MH01-001", entity_id=uscc(1), reason=" "), INVALID),
        (pb.Conflict(officer_id="", entity_id=uscc(1), reason="x"), INVALID),
        (pb.Conflict(officer_id="MH99-001", entity_id=uscc(1), reason="x"), NOT_FOUND),
        (pb.Conflict(officer_id="MH01-001", entity_id=uscc(8), reason="x"), NOT_FOUND),
    ]:
        expect_error(lambda conflict=conflict: client.spot_checks.DeclareConflict(
            pb.DeclareConflictRequest(conflict=conflict)), code)
    assert client.counts() == before
    expect_error(lambda: client.spot_checks.ListConflicts(pb.ListConflictsRequest(filter="office = x")), INVALID)


def test_plan_reads_refuse_bad_requests(client):
    for call, code in [
        (lambda: client.spot_checks.GetPlan(pb.GetPlanRequest(id="nope")), NOT_FOUND),
        (lambda: client.spot_checks.VerifyPlan(pb.VerifyPlanRequest(id="nope")), NOT_FOUND),
        (lambda: client.spot_checks.ListPlanTargets(pb.ListPlanTargetsRequest(plan_id="nope")), NOT_FOUND),
        (lambda: client.spot_checks.ListPlans(pb.ListPlansRequest(filter="seed = x")), INVALID),
        (lambda: list(client.spot_checks.ExportPlanSnapshot(pb.ExportPlanSnapshotRequest(plan_id="nope"))), INVALID),
        (lambda: list(client.spot_checks.ExportPlanSnapshot(pb.ExportPlanSnapshotRequest(
            plan_id="nope", kind=pb.SNAPSHOT_KIND_ENTITIES))), NOT_FOUND),
    ]:
        expect_error(call, code)
