"""EntityUpdated, produced by mobile_enforcement's own UpdateEntity through gRPC and its outbox,
consumed by the gateway as a line of its live feed (动态): a market entity that moved into another
office's area, or whose registration changed. EntityRegistered makes no line (a bulk import of the
registration authority's extract registers a million entities at once)."""

from __future__ import annotations

from google.protobuf.field_mask_pb2 import FieldMask

from services.common.credit_code import check_character
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me_pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc
from tests.contracts.test_gateway_consumes import create_office
from tests.contracts.test_gateway_consumes import district as district  # a fixture: pytest finds it by name
from tests.contracts.test_gateway_feed_consumes import feed

PETROL_STATION = "91310112MA1000077" + check_character("91310112MA1000077")


def test_an_entity_moved_or_changed_is_a_feed_line_of_its_office(district):
    center, gateway = district("command_center", "mobile_enforcement")
    create_office(center)
    create_office(center, "MH02", "七宝市场监督管理所", "七宝镇")
    entities = me_grpc.EntityServiceStub(center["mobile_enforcement"].channel)
    entities.RegisterEntity(me_pb.RegisterEntityRequest(entity=me_pb.Entity(
        uscc=PETROL_STATION, name="中石化莘庄加油站", address="闵行区莘庄镇沪闵路8号", street="莘庄镇",
        risk_level=me_pb.RISK_LEVEL_HIGH, industry_code="5265")))
    center.settle()
    assert feed(gateway) == []
    entities.UpdateEntity(me_pb.UpdateEntityRequest(
        entity=me_pb.Entity(uscc=PETROL_STATION, street="七宝镇", address="闵行区七宝镇漕宝路9号"),
        update_mask=FieldMask(paths=["street", "address"])))
    entities.UpdateEntity(me_pb.UpdateEntityRequest(
        entity=me_pb.Entity(uscc=PETROL_STATION, risk_level=me_pb.RISK_LEVEL_MEDIUM),
        update_mask=FieldMask(paths=["risk_level"])))
    center.settle()
    assert feed(gateway) == [("MH02", "mobile_enforcement", "市场主体迁入本所辖区：中石化莘庄加油站"),
                             ("MH02", "mobile_enforcement", "市场主体登记信息变更：中石化莘庄加油站")]
