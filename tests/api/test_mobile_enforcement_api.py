"""mobile_enforcement through a real gRPC server, on SQLite and on PostgreSQL: entities, checklists,
spot-check plans, inspections and their evidence trail, penalty cases and their limits, the
deadline sweep, and the events of command_center, complaints and facilities on the in-process bus."""

from __future__ import annotations

import datetime as dt
import hashlib

import grpc
import pytest
from google.type import money_pb2
from sqlalchemy import delete, select, update

from services.common.auth import issue_token
from services.mobile_enforcement.models import AuditRecord, Inspection, PlanSnapshot
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement_fixtures import (
    OFFICES,
    Client,
    InstantClock,
    date,
    expect_error,
    host_mobile_enforcement,
    location,
    uscc,
)

INVALID, PRECONDITION, NOT_FOUND = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                                    grpc.StatusCode.NOT_FOUND)
TODAY = dt.date(2026, 11, 2)


@pytest.fixture
def client(store_url):
    """The service with two offices and four certified officers at MH01 (one more at MH02)."""
    running = host_mobile_enforcement(store_url, InstantClock())
    client = Client(running)
    for office_id, street in OFFICES.items():
        client.office(office_id, [street])
    for number in range(1, 5):
        client.officer(f"MH01-{number:03d}")
    client.officer("MH02-001", "MH02")
    yield client
    running.close()


# ---------------------------------------------------------------- entities


def test_register_get_and_list_entities(client):
    first = client.entities.RegisterEntity(pb.RegisterEntityRequest(request_id="r1", entity=pb.Entity(
        uscc=" " + uscc(1).lower() + " ", name="小杨生煎", category=pb.ENTITY_CATEGORY_CATERING, address="莘松路1号",
        street="莘庄镇", risk_level=pb.RISK_LEVEL_HIGH)))
    assert (first.uscc, first.office_id, first.version) == (uscc(1), "MH01", 1)
    again = client.entities.RegisterEntity(pb.RegisterEntityRequest(request_id="r1", entity=pb.Entity(
        uscc=uscc(2), name="另一家", category=pb.ENTITY_CATEGORY_PHARMACY, address="x", street="七宝镇",
        risk_level=pb.RISK_LEVEL_LOW)))
    assert again == first
    client.entity(3, pb.ENTITY_CATEGORY_PHARMACY, street="七宝镇", key=True)
    assert client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(3))).office_id == "MH02"
    [registered, _] = client.events("EntityRegistered")
    assert registered["data"] == {"uscc": uscc(1), "name": "小杨生煎", "category": "CATERING", "street": "莘庄镇",
                                  "office_id": "MH01", "risk_level": "HIGH", "key_supervision": False}
    page = client.entities.ListEntities(pb.ListEntitiesRequest(page_size=1))
    rest = client.entities.ListEntities(pb.ListEntitiesRequest(page_size=1, page_token=page.next_page_token))
    assert [e.uscc for e in [*page.entities, *rest.entities]] == sorted([uscc(1), uscc(3)])
    filtered = client.entities.ListEntities(pb.ListEntitiesRequest(
        filter='category = PHARMACY AND office_id = "MH02" AND key_supervision = true'))
    assert [e.uscc for e in filtered.entities] == [uscc(3)]


BAD_ENTITIES = [
    ({"uscc": "91310112MA1000000X"}, INVALID, "entity.uscc"),  # wrong check character
    ({"uscc": "91310112MA10000O1"}, INVALID, "entity.uscc"),
    ({"category": pb.ENTITY_CATEGORY_UNSPECIFIED}, INVALID, "entity.category"),
    ({"category": 99}, INVALID, "entity.category"),
    ({"risk_level": 0}, INVALID, "entity.risk_level"),
    ({"name": " "}, INVALID, "entity.name"),
    ({"address": "路" * 301}, INVALID, "entity.address"),
    ({"street": "浦东新区"}, PRECONDITION, "entity.street"),
]


def test_bad_entities_are_refused_and_change_nothing(client):
    client.entity(1)
    before = client.counts()
    for change, code, field in BAD_ENTITIES:
        entity = pb.Entity(uscc=uscc(2), name="全家", category=pb.ENTITY_CATEGORY_CONVENIENCE_STORE, address="x",
                           street="莘庄镇", risk_level=pb.RISK_LEVEL_LOW)
        for name, value in change.items():
            setattr(entity, name, value)
        found = expect_error(lambda entity=entity: client.entities.RegisterEntity(
            pb.RegisterEntityRequest(entity=entity)), code)
        assert field in found, change
    expect_error(lambda: client.entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
        uscc=uscc(1), name="重复", category=pb.ENTITY_CATEGORY_CATERING, address="x", street="莘庄镇",
        risk_level=pb.RISK_LEVEL_LOW))), grpc.StatusCode.ALREADY_EXISTS)
    assert client.counts() == before


def test_update_entity_reroutes_and_checks_its_version(client):
    client.entity(1)
    updated = client.entities.UpdateEntity(pb.UpdateEntityRequest(
        entity=pb.Entity(uscc=uscc(1), street="七宝镇", risk_level=pb.RISK_LEVEL_VERY_HIGH),
        update_mask=["street", "risk_level"], expected_version=1))
    assert (updated.office_id, updated.risk_level, updated.name, updated.version) == (
        "MH02", pb.RISK_LEVEL_VERY_HIGH, "小杨生煎（1店）", 2)
    assert client.events("EntityUpdated")[0]["data"]["previous_office_id"] == "MH01"
    before = client.counts()
    for request, code, field in [
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1), name="x"), update_mask=["name"], expected_version=1),
         grpc.StatusCode.ABORTED, None),
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1)), update_mask=["uscc"]), INVALID, "update_mask"),
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1), category=0), update_mask=["category"]),
         INVALID, "entity.category"),
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1), street="火星"), update_mask=["street"]),
         PRECONDITION, "entity.street"),
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(9), name="x"), update_mask=["name"]), NOT_FOUND, None),
    ]:
        found = expect_error(lambda request=request: client.entities.UpdateEntity(request), code)
        assert field is None or field in found
    expect_error(lambda: client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(9))), NOT_FOUND)
    for bad in (pb.ListEntitiesRequest(filter="category = BAKERY"), pb.ListEntitiesRequest(filter="colour = red"),
                pb.ListEntitiesRequest(page_token="nonsense"), pb.ListEntitiesRequest(page_size=-1)):
        expect_error(lambda bad=bad: client.entities.ListEntities(bad), INVALID)
    assert client.counts() == before


def test_import_registers_good_rows_and_reports_every_bad_one(client):
    client.entity(5)
    rows = [
        "uscc,name,category,address,street,risk_level,key_supervision",
        f"{uscc(1)},联华超市,SUPERMARKET,沪闵路1号,莘庄镇,LOW,false",
        f"{uscc(2)},第一医药,药店,七莘路2号,七宝镇,较高风险,是",
        "91310112MA1000000X,坏代码,CATERING,x,莘庄镇,LOW,",
        f"{uscc(3)},面包房,BAKERY,x,莘庄镇,HUGE,maybe",
        f"{uscc(4)},远方,CATERING,x,浦东新区,LOW,false",
        f"{uscc(1)},重复,CATERING,x,莘庄镇,LOW,false",
        f"{uscc(5)},已登记,CATERING,x,莘庄镇,LOW,false",
        "too,few,cells",
    ]
    result = client.entities.ImportEntities(pb.ImportEntitiesRequest(request_id="i1",
                                                                      content="\n".join(rows).encode()))
    assert result.imported_count == 2
    assert {(r.line, r.field) for r in result.rejected_rows} == {
        (4, "uscc"), (5, "category"), (5, "risk_level"), (5, "key_supervision"), (6, "street"), (7, "uscc"),
        (8, "uscc"), (9, "row")}
    assert "line 2" in next(r.description for r in result.rejected_rows if r.line == 7)
    pharmacy = client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(2)))
    assert (pharmacy.category, pharmacy.risk_level, pharmacy.key_supervision, pharmacy.office_id) == (
        pb.ENTITY_CATEGORY_PHARMACY, pb.RISK_LEVEL_HIGH, True, "MH02")
    retried = client.entities.ImportEntities(pb.ImportEntitiesRequest(request_id="i1",
                                                                       content="\n".join(rows).encode()))
    assert retried == result
    before = client.counts()
    header = b"uscc,name,category,address,street,risk_level,key_supervision\n"
    for content in (b"\xff\xfe", b"uscc,name\n1,2\n", header + b'"'):
        found = expect_error(lambda content=content: client.entities.ImportEntities(
            pb.ImportEntitiesRequest(content=content)), INVALID)
        assert "content" in found
    assert client.counts() == before


# ---------------------------------------------------------------- checklists


def test_every_key_object_type_has_a_versioned_checklist(client):
    listed = client.checklists.ListChecklists(pb.ListChecklistsRequest(page_size=1000)).checklists
    assert {c.category for c in listed} == set(pb.EntityCategory.values()) - {0}
    assert all(i.legal_basis and i.text and i.failure_outcome for c in listed for i in c.items)
    assert all(any(i.key for i in c.items) for c in listed)
    catering = [c.version for c in listed if c.category == pb.ENTITY_CATEGORY_CATERING]
    assert catering == [1, 2]
    old = client.checklists.GetChecklist(pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_CATERING,
                                                                on=date(dt.date(2024, 6, 30))))
    current = client.checklists.GetChecklist(pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_CATERING))
    assert (old.version, current.version) == (1, 2) and len(current.items) > len(old.items)
    page = client.checklists.ListChecklists(pb.ListChecklistsRequest(page_size=5))
    following = client.checklists.ListChecklists(pb.ListChecklistsRequest(page_size=5,
                                                                          page_token=page.next_page_token))
    assert [(c.category, c.version) for c in [*page.checklists, *following.checklists]] == [
        (c.category, c.version) for c in listed[:10]]
    for request, code in [
        (pb.GetChecklistRequest(), INVALID),
        (pb.GetChecklistRequest(category=99), INVALID),
        (pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_PHARMACY, version=7), NOT_FOUND),
        (pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_PHARMACY, version=-1), INVALID),
        (pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_BEAUTY_SALON, on=date(dt.date(2020, 5, 1))), PRECONDITION),
    ]:
        expect_error(lambda request=request: client.checklists.GetChecklist(request), code)
    expect_error(lambda: client.checklists.ListChecklists(pb.ListChecklistsRequest(filter="category = X")), INVALID)


# ---------------------------------------------------------------- spot checks


def directory(client: Client, count: int = 40) -> None:
    tiers = [pb.RISK_LEVEL_LOW, pb.RISK_LEVEL_MEDIUM, pb.RISK_LEVEL_HIGH, pb.RISK_LEVEL_VERY_HIGH]
    rows = ["uscc,name,category,address,street,risk_level,key_supervision"]
    for number in range(1, count + 1):
        tier = pb.RiskLevel.Name(tiers[number % 4]).removeprefix("RISK_LEVEL_")
        rows.append(f"{uscc(number)},店{number},CATERING,x,莘庄镇,{tier},{'true' if number % 10 == 0 else 'false'}")
    client.entities.ImportEntities(pb.ImportEntitiesRequest(content="\n".join(rows).encode()))


def plan_request(**fields) -> pb.DrawPlanRequest:
    plan = pb.SpotCheckPlan(office_id="MH01", name="2026年第四季度双随机抽查", seed="公开种子-2026-11",
                            tier_ratios=[pb.TierRatio(risk_level=pb.RISK_LEVEL_VERY_HIGH, ratio_basis_points=3000),
                                         pb.TierRatio(risk_level=pb.RISK_LEVEL_HIGH, ratio_basis_points=1000),
                                         pb.TierRatio(risk_level=pb.RISK_LEVEL_MEDIUM, ratio_basis_points=200),
                                         pb.TierRatio(risk_level=pb.RISK_LEVEL_LOW, ratio_basis_points=100)])
    request_id = fields.pop("request_id", "")
    for name, value in fields.items():
        if isinstance(value, list):
            del getattr(plan, name)[:]
            getattr(plan, name).extend(value)
        elif name == "due_date":
            plan.due_date.CopyFrom(value)
        else:
            setattr(plan, name, value)
    return pb.DrawPlanRequest(request_id=request_id, plan=plan)


def targets_of(client: Client, plan_id: str) -> list[pb.PlanTarget]:
    found, token = [], ""
    while True:
        page = client.spot_checks.ListPlanTargets(pb.ListPlanTargetsRequest(plan_id=plan_id, page_size=3,
                                                                             page_token=token))
        found += page.targets
        token = page.next_page_token
        if not token:
            return found


def test_a_drawn_plan_is_reproducible_and_publicly_verifiable(client):
    directory(client)
    client.spot_checks.DeclareConflict(pb.DeclareConflictRequest(conflict=pb.Conflict(
        officer_id="MH01-001", entity_id=uscc(10), reason="配偶经营")))
    plan = client.spot_checks.DrawPlan(plan_request(request_id="p1"))
    # 4 key objects drawn whole; of 9 in each other tier: 30% -> 3, 10% -> 1, 2% -> 1, 1% -> 1.
    assert (plan.population_count, plan.key_object_count, plan.target_count, plan.eligible_inspector_count) == (
        40, 4, 10, 4)
    assert client.spot_checks.DrawPlan(plan_request(request_id="p1")) == plan
    targets = targets_of(client, plan.id)
    assert [t.position for t in targets] == list(range(1, 11))
    assert all(len(set(t.inspector_ids)) == 2 and t.state == pb.INSPECTION_STATE_PLANNED for t in targets)
    assert "MH01-001" not in next(t for t in targets if t.entity_id == uscc(10)).inspector_ids
    loads = [sum(officer in t.inspector_ids for t in targets) for officer in ("MH01-001", "MH01-002", "MH01-003",
                                                                             "MH01-004")]
    assert max(loads) - min(loads) <= 1 and sum(loads) == 20
    verified = client.spot_checks.VerifyPlan(pb.VerifyPlanRequest(id=plan.id))
    assert (verified.matches, verified.targets_checked, verified.mismatch) == (True, 10, "")
    for kind, digest in ((pb.SNAPSHOT_KIND_ENTITIES, plan.entity_snapshot_digest),
                         (pb.SNAPSHOT_KIND_OFFICERS, plan.officer_snapshot_digest)):
        exported = b"".join(c.data for c in client.spot_checks.ExportPlanSnapshot(
            pb.ExportPlanSnapshotRequest(plan_id=plan.id, kind=kind)))
        assert hashlib.sha256(exported).hexdigest() == digest
    assert f"MH01-001\t1\t{uscc(10)}" in exported.decode()
    [drawn] = client.events("PlanDrawn")
    assert drawn["data"]["seed"] == "公开种子-2026-11" and drawn["data"]["target_count"] == 10
    same_again = client.spot_checks.DrawPlan(plan_request(request_id="p2"))
    assert [t.entity_id for t in targets_of(client, same_again.id)] == [t.entity_id for t in targets]
    listed = client.spot_checks.ListPlans(pb.ListPlansRequest(filter='office_id = "MH01"'))
    assert {p.id for p in listed.plans} == {plan.id, same_again.id}
    assert client.readings()["spot_check_completion"] == (0, 20)


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
    client.officer("MH01-002", expires=TODAY - dt.timedelta(days=1), version=2, event_type="OfficerUpdated")
    client.officer("MH01-003", expires=TODAY - dt.timedelta(days=1), version=2, event_type="OfficerUpdated")
    client.officer("MH01-004", expires=TODAY - dt.timedelta(days=1), version=2, event_type="OfficerUpdated")
    before = client.counts()
    with pytest.raises(grpc.RpcError) as refused:
        client.spot_checks.DrawPlan(plan_request(ratio_basis_points=5000, tier_ratios=[]))
    assert refused.value.code() == PRECONDITION
    assert "no eligible inspectors: 1 officer(s)" in refused.value.details()
    client.officer("MH01-002", version=3, event_type="OfficerUpdated")
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


# ---------------------------------------------------------------- inspections


def test_a_spot_check_inspection_from_start_to_publication(client):
    directory(client, 10)
    plan = client.spot_checks.DrawPlan(plan_request(ratio_basis_points=1000, tier_ratios=[]))
    target = targets_of(client, plan.id)[0]
    others = [o for o in ("MH01-001", "MH01-002", "MH01-003", "MH01-004") if o not in target.inspector_ids]
    found = expect_error(lambda: client.inspections.StartInspection(pb.StartInspectionRequest(
        id=target.inspection_id, officer_ids=others, location=location())), PRECONDITION)
    assert "the draw assigned officer" in found["officer_ids"]
    started = client.inspections.StartInspection(pb.StartInspectionRequest(
        id=target.inspection_id, officer_ids=target.inspector_ids, location=location()))
    assert (started.state, started.checklist_category, started.checklist_version) == (
        pb.INSPECTION_STATE_IN_PROGRESS, pb.ENTITY_CATEGORY_CATERING, 2)
    assert started.unanswered_items[:3] == ["CAT-01", "CAT-02", "CAT-03"] and len(started.unanswered_items) == 12
    recorded = client.answer_all(started, {"CAT-07": ("消毒柜未通电", ["evidence/1.jpg"])})
    assert recorded.unanswered_items == [] and len(recorded.findings) == 12
    corrected = client.inspections.RecordFindings(pb.RecordFindingsRequest(id=started.id, findings=[
        pb.Finding(item_code="CAT-09", result=pb.ITEM_RESULT_NOT_APPLICABLE, note="非集体用餐单位")]))
    assert next(f for f in corrected.findings if f.item_code == "CAT-09").result == pb.ITEM_RESULT_NOT_APPLICABLE
    due = TODAY + dt.timedelta(days=10)
    done = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, summary="消毒设施未正常运转", rectification_due=date(due)))
    # 20 working days after Monday 2 November 2026: Monday 30 November.
    assert (done.outcome, done.publication_due, done.rectification_due) == (
        pb.INSPECTION_OUTCOME_RECTIFICATION_ORDERED, date(dt.date(2026, 11, 30)), date(due))
    [completed] = client.events("InspectionCompleted")
    assert completed["data"]["outcome"] == "RECTIFICATION_ORDERED" and completed["data"]["plan_id"] == plan.id
    published = client.inspections.PublishInspectionResult(pb.PublishInspectionResultRequest(id=done.id))
    assert published.HasField("publish_time") and not published.publication_overdue
    confirmed = client.inspections.ConfirmRectification(pb.ConfirmRectificationRequest(id=done.id, note="已整改"))
    assert confirmed.rectification_confirmed
    assert client.readings() == {"spot_check_completion": (1, plan.target_count),
                                 "inspection_checklist_complete": (1, 1), "case_filing_on_time": (0, 0),
                                 "case_closing_on_time": (0, 0), "publication_on_time": (1, 1)}
    trail = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=f"inspection/{done.id}"))
    assert (trail.intact, trail.records_checked) == (True, 6)
    for call in (lambda: client.inspections.PublishInspectionResult(pb.PublishInspectionResultRequest(id=done.id)),
                 lambda: client.inspections.ConfirmRectification(pb.ConfirmRectificationRequest(id=done.id)),
                 lambda: client.inspections.StartInspection(pb.StartInspectionRequest(
                     id=done.id, officer_ids=target.inspector_ids, location=location()))):
        expect_error(call, PRECONDITION)


UNLAWFUL_STARTS = [
    (["MH01-001"], location(), INVALID, "officer_ids"),  # one inspector
    (["MH01-001", "MH01-001"], location(), INVALID, "officer_ids[1]"),
    (["MH01-001", "MH02-001"], location(), INVALID, "officer_ids[1]"),  # another office's officer
    (["MH01-001", "MH01-099"], location(), INVALID, "officer_ids[1]"),
    (["MH01-001", "MH01-004"], location(), PRECONDITION, "officer_ids[1]"),  # certificate expired
    (["MH01-001", "MH01-003"], location(), PRECONDITION, "officer_ids[1]"),  # conflict declared
    (["MH01-001", "MH01-002"], None, INVALID, "location.point"),
    (["MH01-001", "MH01-002"], pb.Location(point={"latitude": 91, "longitude": 121}), INVALID,
     "location.point.latitude"),
]


def test_an_inspection_is_started_by_a_lawful_team_only(client):
    client.entity(1)
    client.officer("MH01-004", expires=TODAY - dt.timedelta(days=1), version=2, event_type="OfficerUpdated")
    client.spot_checks.DeclareConflict(pb.DeclareConflictRequest(conflict=pb.Conflict(
        officer_id="MH01-003", entity_id=uscc(1), reason="曾在该店任职")))
    planned = client.routine(uscc(1))
    before = client.counts()
    for officers, place, code, field in UNLAWFUL_STARTS:
        request = pb.StartInspectionRequest(id=planned.id, officer_ids=officers, location=place)
        found = expect_error(lambda request=request: client.inspections.StartInspection(request), code)
        assert field in found, officers
    expect_error(lambda: client.inspections.StartInspection(pb.StartInspectionRequest(
        id="nope", officer_ids=["MH01-001", "MH01-002"], location=location())), NOT_FOUND)
    assert client.counts() == before
    assert client.inspections.GetInspection(pb.GetInspectionRequest(id=planned.id)).state == \
        pb.INSPECTION_STATE_PLANNED


def test_completion_needs_every_item_and_an_outcome_the_failures_allow(client):
    client.entity(1)
    started = client.started(uscc(1))
    client.inspections.RecordFindings(pb.RecordFindingsRequest(id=started.id, findings=[
        pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_PASS)]))
    before = client.counts()
    found = expect_error(lambda: client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, outcome=pb.INSPECTION_OUTCOME_COMPLIANT)), PRECONDITION)
    assert "checklist.CAT-02" in found and "checklist.CAT-01" not in found and len(found) == 11
    client.answer_all(client.inspections.GetInspection(pb.GetInspectionRequest(id=started.id)),
                      {"CAT-06": ("冰箱内发现过期牛奶", [])})
    before = client.counts()
    found = expect_error(lambda: client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, outcome=pb.INSPECTION_OUTCOME_RECTIFICATION_ORDERED,
        rectification_due=date(TODAY + dt.timedelta(days=5)))), PRECONDITION)
    assert "CASE_LEAD" in found["outcome"]
    for request, field in [
        (pb.CompleteInspectionRequest(id=started.id, outcome=pb.INSPECTION_OUTCOME_CASE_LEAD,
                                      rectification_due=date(TODAY + dt.timedelta(days=3))), "rectification_due"),
        (pb.CompleteInspectionRequest(id=started.id, outcome=77), "outcome"),
        (pb.CompleteInspectionRequest(id=started.id, summary="x" * 4001), "summary"),
    ]:
        assert field in expect_error(lambda request=request: client.inspections.CompleteInspection(request), INVALID)
    for findings, field in [
        ([], "findings"),
        ([pb.Finding(item_code="HM-01", result=pb.ITEM_RESULT_PASS)], "findings[0].item_code"),
        ([pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_UNSPECIFIED)], "findings[0].result"),
        ([pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_PASS)] * 2, "findings[1].item_code"),
        ([pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_FAIL, evidence_refs=[""])],
         "findings[0].evidence_refs[0]"),
    ]:
        assert field in expect_error(lambda findings=findings: client.inspections.RecordFindings(
            pb.RecordFindingsRequest(id=started.id, findings=findings)), INVALID)
    assert client.counts() == before
    done = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(id=started.id))
    assert done.outcome == pb.INSPECTION_OUTCOME_CASE_LEAD and done.lead_case_id
    lead = client.cases.GetCase(pb.GetCaseRequest(id=done.lead_case_id))
    assert (lead.state, lead.source, lead.source_ref, lead.entity_id) == (
        pb.CASE_STATE_LEAD, pb.LEAD_SOURCE_INSPECTION, done.id, uscc(1))
    assert "CAT-06" in lead.description
    # The failure has a note but no evidence: the record counts as incomplete.
    assert client.readings()["inspection_checklist_complete"] == (0, 1)


def test_scheduling_and_reading_inspections(client):
    client.entity(1)
    scheduled = client.inspections.ScheduleInspection(pb.ScheduleInspectionRequest(
        request_id="s1", inspection=pb.Inspection(entity_id=uscc(1), kind=pb.INSPECTION_KIND_COMPLAINT,
                                                   source_ref="C-1", due_date=date(TODAY))))
    assert (scheduled.state, scheduled.office_id, scheduled.kind) == (
        pb.INSPECTION_STATE_PLANNED, "MH01", pb.INSPECTION_KIND_COMPLAINT)
    listed = client.inspections.ListInspections(pb.ListInspectionsRequest(
        filter="state = PLANNED AND kind = COMPLAINT"))
    assert [i.id for i in listed.inspections] == [scheduled.id]
    before = client.counts()
    for inspection, code, field in [
        (pb.Inspection(entity_id=uscc(1), kind=pb.INSPECTION_KIND_SPOT_CHECK), INVALID, "inspection.kind"),
        (pb.Inspection(entity_id=uscc(1)), INVALID, "inspection.kind"),
        (pb.Inspection(entity_id="", kind=pb.INSPECTION_KIND_ROUTINE), INVALID, "inspection.entity_id"),
        (pb.Inspection(entity_id=uscc(1), kind=pb.INSPECTION_KIND_ROUTINE, due_date=date(TODAY - dt.timedelta(1))),
         INVALID, "inspection.due_date"),
        (pb.Inspection(entity_id=uscc(7), kind=pb.INSPECTION_KIND_ROUTINE), NOT_FOUND, None),
        (pb.Inspection(entity_id=uscc(1), kind=pb.INSPECTION_KIND_COMPLAINT, source_ref="C-1"),
         grpc.StatusCode.ALREADY_EXISTS, None),
    ]:
        found = expect_error(lambda inspection=inspection: client.inspections.ScheduleInspection(
            pb.ScheduleInspectionRequest(inspection=inspection)), code)
        assert field is None or field in found
    assert client.counts() == before
    expect_error(lambda: client.inspections.GetInspection(pb.GetInspectionRequest(id="x")), NOT_FOUND)
    expect_error(lambda: client.inspections.ListInspections(pb.ListInspectionsRequest(filter="state = DONE")), INVALID)
    expect_error(lambda: client.inspections.ConfirmRectification(pb.ConfirmRectificationRequest(
        id=scheduled.id, note="x" * 2001)), INVALID)
    expect_error(lambda: client.inspections.PublishInspectionResult(pb.PublishInspectionResultRequest(
        id=scheduled.id)), PRECONDITION)


# ---------------------------------------------------------------- evidence trail


def test_altering_a_stored_record_is_detected_and_named(client):
    client.entity(1)
    started = client.started(uscc(1))
    client.answer_all(started)
    done = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(id=started.id))
    subject = f"inspection/{done.id}"
    assert client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=subject)).intact
    # Behind the service's back, as someone with access to the database would.
    with client.running.store.engine.begin() as connection:
        record = connection.scalar(select(AuditRecord.record).where(AuditRecord.chain_key == subject,
                                                                    AuditRecord.sequence == 2))
        connection.execute(update(AuditRecord).where(AuditRecord.chain_key == subject, AuditRecord.sequence == 2)
                           .values(record=record.replace('"PASS"', '"FAIL"', 1)))
    broken = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=subject))
    assert (broken.intact, broken.broken_record, broken.problem, broken.records_checked) == (False, 2, "content", 1)
    assert "record 2" in broken.detail
    with client.running.store.engine.begin() as connection:
        connection.execute(update(AuditRecord).where(AuditRecord.chain_key == subject, AuditRecord.sequence == 2)
                           .values(record=record))
        connection.execute(delete(AuditRecord).where(AuditRecord.chain_key == subject, AuditRecord.sequence == 3))
    cut = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=subject))
    assert (cut.intact, cut.problem, cut.broken_record) == (False, "truncated", 3)
    for subject, code in (("", INVALID), ("plan/x", INVALID), ("inspection/", INVALID), ("case/nope", NOT_FOUND)):
        expect_error(lambda subject=subject: client.trails.VerifyAuditTrail(
            pb.VerifyAuditTrailRequest(subject=subject)), code)


# ---------------------------------------------------------------- cases

SHANGHAI_10AM = dt.time(2, 0, tzinfo=dt.UTC)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, SHANGHAI_10AM)


def file_request(case_id: str, officers=("MH01-001", "MH01-002")) -> pb.FileCaseRequest:
    return pb.FileCaseRequest(id=case_id, officer_ids=list(officers))


def decision(kind=pb.PENALTY_KIND_FINE, party=pb.PARTY_KIND_ORGANISATION, yuan: int = 0, fen: int = 0,
             simplified: bool = False, currency: str = "CNY") -> pb.Penalty:
    penalty = pb.Penalty(kind=kind, party_kind=party, simplified=simplified)
    if yuan or fen:
        penalty.fine.CopyFrom(money_pb2.Money(currency_code=currency, units=yuan, nanos=fen * 10_000_000))
    return penalty


def test_a_lead_gets_its_filing_decision_due_in_working_days(client):
    client.entity(1)
    # Received Monday 28 September 2026: the 15 working days skip the National Day holiday (1-7
    # October) and count the adjusted working Saturday of 10 October, so they end on Friday 23 October.
    lead = client.lead(uscc(1), ref="函-1", received=at(dt.date(2026, 9, 28)), request_id="l1")
    assert (lead.state, lead.office_id, lead.filing_decision_due, lead.filing_decision_due_provisional) == (
        pb.CASE_STATE_LEAD, "MH01", date(dt.date(2026, 10, 23)), False)
    assert (lead.rule_set, lead.party.name) == ("samr-order-2-2021", "小杨生煎（1店）")
    assert client.lead(uscc(1), ref="函-1", request_id="l1") == lead
    unregistered = client.lead(office_id="MH02", party=pb.Party(name="无名摊贩", address="七宝老街"), ref="函-2")
    assert (unregistered.entity_id, unregistered.office_id) == ("", "MH02")
    linked = client.lead(office_id="MH01", party=pb.Party(name="小杨生煎", uscc=uscc(1)), ref="函-3")
    assert linked.entity_id == uscc(1)
    client.clock.instant = at(dt.date(2026, 12, 20))
    # Into 2027, whose holiday schedule is not published yet: counted on weekends alone, provisional.
    late_in_year = client.lead(uscc(1), ref="函-4")
    assert (late_in_year.filing_decision_due, late_in_year.filing_decision_due_provisional) == (
        date(dt.date(2027, 1, 8)), True)
    before = client.counts()
    for lead, code, field in [
        (pb.Case(entity_id=uscc(1), description="x"), INVALID, "lead.source"),
        (pb.Case(entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL), INVALID, "lead.description"),
        (pb.Case(source=pb.LEAD_SOURCE_REFERRAL, description="x"), INVALID, "lead.party.name"),
        (pb.Case(source=pb.LEAD_SOURCE_REFERRAL, description="x", party=pb.Party(name="x")), INVALID,
         "lead.office_id"),
        (pb.Case(office_id="MH01", source=pb.LEAD_SOURCE_REFERRAL, description="x",
                 party=pb.Party(name="x", uscc="123")), INVALID, "lead.party.uscc"),
        (pb.Case(entity_id=uscc(1), office_id="MH02", source=pb.LEAD_SOURCE_REFERRAL, description="x"), INVALID,
         "lead.office_id"),
        (pb.Case(entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, description="x",
                 received_time={"seconds": int(at(dt.date(2027, 1, 1)).timestamp())}), INVALID,
         "lead.received_time"),
        (pb.Case(entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, description="x",
                 received_time={"seconds": int(at(dt.date(2019, 1, 2)).timestamp())}), PRECONDITION, None),
        (pb.Case(entity_id=uscc(9), source=pb.LEAD_SOURCE_REFERRAL, description="x"), NOT_FOUND, None),
        (pb.Case(office_id="MH09", party=pb.Party(name="x"), source=pb.LEAD_SOURCE_REFERRAL, description="x"),
         NOT_FOUND, None),
        (pb.Case(entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, source_ref="函-1", description="x"),
         grpc.StatusCode.ALREADY_EXISTS, None),
    ]:
        found = expect_error(lambda lead=lead: client.cases.OpenLead(pb.OpenLeadRequest(lead=lead)), code)
        assert field is None or field in found, lead
    assert client.counts() == before


def test_filing_needs_a_lawful_team_and_sets_the_closing_due(client):
    client.entity(1)
    client.officer("MH01-004", expires=TODAY - dt.timedelta(days=1), version=2, event_type="OfficerUpdated")
    client.spot_checks.DeclareConflict(pb.DeclareConflictRequest(conflict=pb.Conflict(
        officer_id="MH01-003", entity_id=uscc(1), reason="同学")))
    lead = client.lead(uscc(1))
    before = client.counts()
    for officers, code, field in [(["MH01-001"], INVALID, "officer_ids"),
                                  (["MH01-001", "MH01-004"], PRECONDITION, "officer_ids[1]"),
                                  (["MH01-003", "MH01-001"], PRECONDITION, "officer_ids[0]"),
                                  (["MH01-001", "MH02-001"], INVALID, "officer_ids[1]")]:
        assert field in expect_error(lambda officers=officers: client.cases.FileCase(
            file_request(lead.id, officers)), code)
    expect_error(lambda: client.cases.FileCase(file_request("nope")), NOT_FOUND)
    assert client.counts() == before
    filed = client.cases.FileCase(file_request(lead.id))
    # 90 natural days from Monday 2 November 2026.
    assert (filed.state, filed.filed_on, filed.closing_due, list(filed.officer_ids)) == (
        pb.CASE_STATE_FILED, date(TODAY), date(dt.date(2027, 1, 31)), ["MH01-001", "MH01-002"])
    [event] = client.events("CaseFiled")
    assert event["subject"] == f"case/{lead.id}" and event["aggregate_version"] == filed.version
    assert {k: event["data"][k] for k in ("case_id", "office_id", "entity_id", "closing_due")} == {
        "case_id": lead.id, "office_id": "MH01", "entity_id": uscc(1), "closing_due": "2027-01-31"}
    for call in (lambda: client.cases.FileCase(file_request(lead.id)),
                 lambda: client.cases.DeclineLead(pb.DeclineLeadRequest(id=lead.id, reason="x"))):
        expect_error(call, PRECONDITION)
    declined = client.cases.DeclineLead(pb.DeclineLeadRequest(id=client.lead(uscc(1), ref="r2").id,
                                                              reason="违法事实不成立"))
    assert declined.state == pb.CASE_STATE_NOT_FILED and [e["data"]["reason"] for e in client.events(
        "LeadDeclined")] == ["违法事实不成立"]
    expect_error(lambda: client.cases.DeclineLead(pb.DeclineLeadRequest(id=lead.id)), INVALID)
    trail = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=f"case/{lead.id}"))
    assert (trail.intact, trail.records_checked) == (True, 2)


def test_limits_are_extended_once_then_only_by_collective_decision(client):
    client.entity(1)
    lead = client.lead(uscc(1))
    assert lead.filing_decision_due == date(dt.date(2026, 11, 23))
    extended = client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(id=lead.id, approved_by="所长",
                                                                    reason="需调取账册"))
    assert (extended.filing_decision_due, extended.filing_extended) == (date(dt.date(2026, 12, 14)), True)
    expect_error(lambda: client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(
        id=lead.id, approved_by="所长", reason="again")), PRECONDITION)
    case = client.cases.FileCase(file_request(lead.id))
    first = client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(id=case.id, approved_by="局长", reason="案情复杂"))
    assert (first.closing_due, first.closing_extensions) == (date(dt.date(2027, 3, 2)), 1)
    before = client.counts()
    for request, field in [
        (pb.ExtendDeadlineRequest(id=case.id, approved_by="局长", reason="x"), "collective_decision_ref"),
        (pb.ExtendDeadlineRequest(id=case.id, approved_by="局长", reason="x", collective_decision_ref="集体讨论记录1",
                                  new_due=date(dt.date(2027, 3, 1))), "new_due"),
        (pb.ExtendDeadlineRequest(id=case.id, reason="x"), "approved_by"),
        (pb.ExtendDeadlineRequest(id=case.id, approved_by="局长"), "reason"),
    ]:
        assert field in expect_error(lambda request=request: client.cases.ExtendDeadline(request), INVALID)
    assert client.counts() == before
    collective = client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(
        id=case.id, approved_by="局长", reason="需专家论证", collective_decision_ref="闵市监集〔2026〕7号",
        new_due=date(dt.date(2027, 4, 30))))
    assert (collective.closing_due, collective.closing_extensions, collective.collective_decision_ref) == (
        date(dt.date(2027, 4, 30)), 2, "闵市监集〔2026〕7号")
    late = client.lead(uscc(1), ref="r2")
    client.clock.instant = at(dt.date(2026, 11, 24))
    expect_error(lambda: client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(
        id=late.id, approved_by="所长", reason="迟了")), PRECONDITION)


def test_stopped_clocks_do_not_count(client):
    client.entity(1)
    lead = client.lead(uscc(1))
    client.clock.instant = at(dt.date(2026, 11, 4))
    assert "reason" in expect_error(lambda: client.cases.PauseClock(pb.PauseClockRequest(
        id=lead.id, reason=pb.PAUSE_REASON_HEARING)), INVALID)
    paused = client.cases.PauseClock(pb.PauseClockRequest(id=lead.id, reason=pb.PAUSE_REASON_TESTING, note="送检"))
    assert (paused.paused_for, paused.paused_since) == (pb.PAUSE_REASON_TESTING, date(dt.date(2026, 11, 4)))
    expect_error(lambda: client.cases.PauseClock(pb.PauseClockRequest(
        id=lead.id, reason=pb.PAUSE_REASON_TESTING)), PRECONDITION)
    client.clock.instant = at(dt.date(2026, 11, 11))
    resumed = client.cases.ResumeClock(pb.ResumeClockRequest(id=lead.id))
    # Five working days stood still (5, 6, 9, 10, 11 November): 23 November becomes 30 November.
    assert (resumed.filing_decision_due, resumed.paused_for) == (date(dt.date(2026, 11, 30)), 0)
    expect_error(lambda: client.cases.ResumeClock(pb.ResumeClockRequest(id=lead.id)), PRECONDITION)
    case = client.cases.FileCase(file_request(lead.id))
    assert case.closing_due == date(dt.date(2027, 2, 9))
    client.cases.PauseClock(pb.PauseClockRequest(id=case.id, reason=pb.PAUSE_REASON_HEARING))
    expect_error(lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=decision(yuan=5000))),
                 PRECONDITION)
    client.clock.instant = at(dt.date(2026, 11, 21))
    assert client.cases.ResumeClock(pb.ResumeClockRequest(id=case.id)).closing_due == date(dt.date(2027, 2, 19))
    for request, code in [(pb.PauseClockRequest(id=case.id), INVALID),
                          (pb.PauseClockRequest(id=case.id, reason=pb.PAUSE_REASON_NOTICE, note="x" * 4001), INVALID),
                          (pb.PauseClockRequest(id="nope", reason=pb.PAUSE_REASON_NOTICE), NOT_FOUND)]:
        expect_error(lambda request=request: client.cases.PauseClock(request), code)
    expect_error(lambda: client.cases.ResumeClock(pb.ResumeClockRequest(id="nope")), NOT_FOUND)


def test_decisions_simplified_within_the_limits_in_force_ordinary_published_and_closed(client):
    client.entity(1)
    on_the_spot = client.lead(uscc(1), ref="s1")
    before = client.counts()
    for penalty, field in [
        (decision(yuan=3001, simplified=True), "penalty.fine"),
        (decision(party=pb.PARTY_KIND_INDIVIDUAL, yuan=200, fen=1, simplified=True), "penalty.fine"),
        (decision(kind=pb.PENALTY_KIND_NONE, simplified=True), "penalty.simplified"),
        (decision(yuan=0, simplified=True), "penalty.fine"),
        (decision(kind=pb.PENALTY_KIND_WARNING, yuan=100, simplified=True), "penalty.fine"),
        (decision(party=0, yuan=100, simplified=True), "penalty.party_kind"),
        (decision(kind=0), "penalty.kind"),
        (decision(yuan=100, currency="USD", simplified=True), "penalty.fine"),
    ]:
        assert field in expect_error(lambda penalty=penalty: client.cases.DecideCase(pb.DecideCaseRequest(
            id=on_the_spot.id, penalty=penalty)), INVALID), penalty
    expect_error(lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=on_the_spot.id, penalty=decision(
        yuan=100))), PRECONDITION)  # the ordinary procedure decides a filed case
    assert client.counts() == before
    spot = client.cases.DecideCase(pb.DecideCaseRequest(id=on_the_spot.id, penalty=decision(
        party=pb.PARTY_KIND_INDIVIDUAL, yuan=200, simplified=True), note="当场处罚"))
    assert (spot.state, spot.penalty.fine.units, spot.HasField("publication_due")) == (pb.CASE_STATE_CLOSED, 200, False)
    case = client.cases.FileCase(file_request(client.lead(uscc(1), ref="o1").id))
    decided = client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=decision(yuan=12000, fen=50)))
    assert (decided.state, decided.publication_due, decided.penalty.fine.nanos) == (
        pb.CASE_STATE_DECIDED, date(dt.date(2026, 11, 30)), 500_000_000)
    expect_error(lambda: client.cases.CloseCase(pb.CloseCaseRequest(id=client.lead(uscc(1), ref="o2").id)),
                 PRECONDITION)
    published = client.cases.PublishDecision(pb.PublishDecisionRequest(id=case.id))
    assert published.HasField("publish_time") and not published.publication_overdue
    expect_error(lambda: client.cases.PublishDecision(pb.PublishDecisionRequest(id=case.id)), PRECONDITION)
    expect_error(lambda: client.cases.PublishDecision(pb.PublishDecisionRequest(id=spot.id)), PRECONDITION)
    closed = client.cases.CloseCase(pb.CloseCaseRequest(id=case.id, note="罚款已缴"))
    assert closed.state == pb.CASE_STATE_CLOSED
    assert [(e["data"]["case_id"], e["data"]["fine_yuan"]) for e in client.events("CaseClosed")] == [
        (spot.id, "200.00"), (case.id, "12000.50")]
    assert client.readings() == {"spot_check_completion": (0, 0), "inspection_checklist_complete": (0, 0),
                                 "case_filing_on_time": (2, 2), "case_closing_on_time": (1, 1),
                                 "publication_on_time": (1, 1)}
    listed = client.cases.ListCases(pb.ListCasesRequest(filter="state = CLOSED AND source = REFERRAL"))
    assert {c.id for c in listed.cases} == {spot.id, case.id}
    for request in (pb.ListCasesRequest(filter="state = OPEN"), pb.ListCasesRequest(filter="party = x")):
        expect_error(lambda request=request: client.cases.ListCases(request), INVALID)
    expect_error(lambda: client.cases.GetCase(pb.GetCaseRequest(id="nope")), NOT_FOUND)
    expect_error(lambda: client.cases.CloseCase(pb.CloseCaseRequest(id=case.id, note="x" * 4001)), INVALID)


def test_the_simplified_limits_of_2019_apply_to_decisions_before_july_2021(client):
    client.clock.instant = at(dt.date(2021, 3, 1))
    client.entity(1)
    lead = client.lead(uscc(1))
    assert lead.rule_set == "samr-order-2-2018"
    found = expect_error(lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=lead.id, penalty=decision(
        party=pb.PARTY_KIND_INDIVIDUAL, yuan=100, simplified=True))), INVALID)
    assert "at most 50 yuan (samr-order-2-2018)" in found["penalty.fine"]


def test_the_sweep_marks_what_time_made_overdue_once(client):
    client.entity(1)
    open_lead = client.lead(uscc(1), ref="a")
    still_filed = client.cases.FileCase(file_request(client.lead(uscc(1), ref="b").id))
    in_hearing = client.cases.FileCase(file_request(client.lead(uscc(1), ref="c").id))
    client.cases.PauseClock(pb.PauseClockRequest(id=in_hearing.id, reason=pb.PAUSE_REASON_HEARING))
    decided = client.cases.FileCase(file_request(client.lead(uscc(1), ref="d").id))
    client.cases.DecideCase(pb.DecideCaseRequest(id=decided.id, penalty=decision(kind=pb.PENALTY_KIND_WARNING)))
    inspection = client.answer_all(client.started(uscc(1)), {"CAT-02": ("未公示许可证", ["evidence/2.jpg"])})
    client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=inspection.id, rectification_due=date(TODAY + dt.timedelta(days=10))))
    client.sweep()
    assert client.events("CaseOverdue") == []
    client.clock.instant = at(dt.date(2027, 2, 1))
    client.sweep()
    client.sweep()
    overdue = {(e["data"]["case_id"], e["data"]["deadline"]) for e in client.events("CaseOverdue")}
    assert overdue == {(open_lead.id, "filing_decision"), (still_filed.id, "decision")}
    [rectification] = client.events("RectificationOverdue")
    assert rectification["data"]["inspection_id"] == inspection.id
    assert {e["data"]["record"] for e in client.events("PublicationOverdue")} == {"inspection", "case"}
    assert client.cases.GetCase(pb.GetCaseRequest(id=open_lead.id)).filing_overdue
    assert client.inspections.GetInspection(pb.GetInspectionRequest(id=inspection.id)).rectification_overdue
    assert client.readings() == {"spot_check_completion": (0, 0), "inspection_checklist_complete": (1, 1),
                                 "case_filing_on_time": (3, 4), "case_closing_on_time": (1, 2),
                                 "publication_on_time": (0, 2)}
    late = client.inspections.PublishInspectionResult(pb.PublishInspectionResultRequest(id=inspection.id))
    assert late.publication_overdue and client.readings()["publication_on_time"] == (0, 2)


# ---------------------------------------------------------------- other services' events


def test_reports_and_rapid_test_positives_become_leads_once(client):
    client.entity(1, category=pb.ENTITY_CATEGORY_WET_MARKET)
    report = {"complaint_id": "C-2026-0001", "office_id": "MH02", "category": "食品安全",
              "respondent": {"name": "七宝某面馆", "uscc": "not-a-code", "address": "七宝老街9号", "street": "七宝镇"},
              "description": "举报人称该店使用过期面粉", "received_at": "2026-10-28T03:00:00Z"}
    first = client.announce("complaints", "CaseLeadRaised", "complaint/C-2026-0001", 4, report, "MH02")
    client.running.bus.publish(first)  # redelivered
    client.announce("complaints", "CaseLeadRaised", "complaint/C-2026-0001", 5, report, "MH02")
    [lead] = client.cases.ListCases(pb.ListCasesRequest(filter="source = REPORT")).cases
    # Received Wednesday 28 October: 15 working days end on Wednesday 18 November.
    assert (lead.office_id, lead.party.name, lead.party.uscc, lead.filing_decision_due) == (
        "MH02", "七宝某面馆", "", date(dt.date(2026, 11, 18)))
    assert lead.source_ref == "C-2026-0001" and "过期面粉" in lead.description
    positive = {"test_id": "RT-1", "office_id": "MH01", "item": "pesticide_residue", "reading": 62, "unit": "%",
                "sample": {"name": "青菜", "vendor_name": "莘庄菜场3号摊", "vendor_uscc": uscc(1).lower(),
                           "market": "莘庄菜场", "stall": "3号"}, "tested_at": "2026-11-02T01:30:00Z"}
    client.announce("facilities", "RapidTestPositive", "rapid_test/RT-1", 3, positive, "MH01")
    client.announce("facilities", "RapidTestPositive", "rapid_test/RT-2", 3,
                    {**positive, "test_id": "RT-2", "sample": {**positive["sample"], "vendor_uscc": ""}}, "MH01")
    follow_ups = client.inspections.ListInspections(pb.ListInspectionsRequest(
        filter="kind = RAPID_TEST_FOLLOW_UP")).inspections
    assert [(i.entity_id, i.source_ref, i.state) for i in follow_ups] == [
        (uscc(1), "RT-1", pb.INSPECTION_STATE_PLANNED)]
    leads = {c.source_ref: c for c in client.cases.ListCases(pb.ListCasesRequest(filter="source = RAPID_TEST")).cases}
    assert (leads["RT-1"].entity_id, leads["RT-2"].entity_id, leads["RT-2"].party.name) == (
        uscc(1), "", "莘庄菜场3号摊")
    before = client.counts()
    client.announce("facilities", "RapidTestPositive", "rapid_test/RT-3", 3,
                    {**positive, "test_id": "RT-3", "tested_at": "yesterday"}, "MH01")
    assert client.counts() == before


def test_a_street_moving_to_another_office_takes_its_businesses(client):
    client.entity(1)
    client.office("MH02", ["七宝镇", "莘庄镇"], version=2, event_type="OfficeUpdated")
    client.office("MH01", ["莘庄工业区"], version=2, event_type="OfficeUpdated")
    assert client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(1))).office_id == "MH02"
    client.office("MH02", ["七宝镇"], version=1, event_type="OfficeRegistered")  # stale: ignored
    assert client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(1))).office_id == "MH02"


# ---------------------------------------------------------------- office scoping


def test_office_users_see_and_change_their_own_office_only(tmp_path):
    secret = "test-secret-of-at-least-32-bytes!!"
    running = host_mobile_enforcement(f"sqlite:///{tmp_path / 'enforcement.db'}", InstantClock(), AUTH_MODE="jwt",
                                      JWT_SECRET=secret)
    try:
        client = Client(running)
        for office_id, street in OFFICES.items():
            client.office(office_id, [street])

        def as_(roles, office_id=""):
            return (("authorization", f"Bearer {issue_token(secret, subject='u1', roles=roles, office_id=office_id)}"),)

        leader, mh02, auditor = as_(["bureau_leader"]), as_(["officer"], "MH02"), as_(["auditor"])
        for number, street in ((1, "莘庄镇"), (2, "七宝镇")):
            client.entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
                uscc=uscc(number), name="店", category=pb.ENTITY_CATEGORY_CATERING, address="x", street=street,
                risk_level=pb.RISK_LEVEL_LOW)), metadata=leader)
        listed = client.entities.ListEntities(pb.ListEntitiesRequest(), metadata=mh02).entities
        assert [e.uscc for e in listed] == [uscc(2)]
        assert len(client.entities.ListEntities(pb.ListEntitiesRequest(), metadata=auditor).entities) == 2
        denied = grpc.StatusCode.PERMISSION_DENIED
        for call in (
            lambda: client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(1)), metadata=mh02),
            lambda: client.entities.ListEntities(pb.ListEntitiesRequest(filter='office_id = "MH01"'), metadata=mh02),
            lambda: client.entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
                uscc=uscc(3), name="店", category=pb.ENTITY_CATEGORY_CATERING, address="x", street="莘庄镇",
                risk_level=pb.RISK_LEVEL_LOW)), metadata=mh02),
            lambda: client.spot_checks.DrawPlan(plan_request(), metadata=mh02),
            lambda: client.cases.OpenLead(pb.OpenLeadRequest(lead=pb.Case(
                entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, description="x")), metadata=mh02),
            lambda: client.inspections.ScheduleInspection(pb.ScheduleInspectionRequest(inspection=pb.Inspection(
                entity_id=uscc(2), kind=pb.INSPECTION_KIND_ROUTINE)), metadata=auditor),
        ):
            expect_error(call, denied)
        imported = client.entities.ImportEntities(pb.ImportEntitiesRequest(content=(
            "uscc,name,category,address,street,risk_level,key_supervision\n"
            f"{uscc(4)},甲,CATERING,x,莘庄镇,LOW,false\n{uscc(5)},乙,CATERING,x,七宝镇,LOW,false\n").encode()),
            metadata=mh02)
        assert imported.imported_count == 1 and [r.line for r in imported.rejected_rows] == [2]
        expect_error(lambda: client.entities.ListEntities(pb.ListEntitiesRequest()), grpc.StatusCode.UNAUTHENTICATED)
    finally:
        running.close()
