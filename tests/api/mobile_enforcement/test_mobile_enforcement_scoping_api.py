"""mobile_enforcement through a real gRPC server: office users see and change their own office only."""

from __future__ import annotations

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from services.common.auth import issue_token
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    OFFICES,
    InstantClock,
    connect,
    expect_error,
    host_mobile_enforcement,
    plan_request,
    uscc,
)


def test_office_users_see_and_change_their_own_office_only(tmp_path):
    secret = "test-secret-of-at-least-32-bytes!!"
    running = host_mobile_enforcement(f"sqlite:///{tmp_path / 'enforcement.db'}", InstantClock(), AUTH_MODE="jwt",
                                      JWT_SECRET=secret)
    client = connect(running, tmp_path)
    try:
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
            f"{uscc(4)},甲,CATERING,x,莘庄镇,LOW,false\n{uscc(5)},乙,CATERING,x,七宝镇,LOW,false\n").encode(),
            import_valid_rows=True), metadata=mh02)
        assert imported.imported_count == 1 and [r.line for r in imported.rejected_rows] == [2]
        # The auditor role in the same token reads the district but widens no write scope.
        mixed = as_(["officer", "auditor"], "MH02")
        before = client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(1)), metadata=mixed)
        for call in (
            lambda: client.entities.UpdateEntity(pb.UpdateEntityRequest(entity=pb.Entity(
                uscc=uscc(1), risk_level=pb.RISK_LEVEL_HIGH),
                    update_mask=FieldMask(paths=["risk_level"])), metadata=mixed),
            lambda: client.cases.OpenLead(pb.OpenLeadRequest(lead=pb.Case(
                entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, description="x")), metadata=mixed),
        ):
            expect_error(call, denied)
        assert client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(1)), metadata=leader) == before
        mixed_import = client.entities.ImportEntities(pb.ImportEntitiesRequest(content=(
            "uscc,name,category,address,street,risk_level,key_supervision\n"
            f"{uscc(6)},丙,CATERING,x,莘庄镇,LOW,false\n").encode()), metadata=mixed)
        assert mixed_import.imported_count == 0 and [r.line for r in mixed_import.rejected_rows] == [2]
        expect_error(lambda: client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(6)), metadata=leader),
                     grpc.StatusCode.NOT_FOUND)
        expect_error(lambda: client.entities.ListEntities(pb.ListEntitiesRequest()), grpc.StatusCode.UNAUTHENTICATED)
    finally:
        client.close()
