"""mobile_enforcement's entities through a real gRPC server: registering, updating, listing and importing."""

from __future__ import annotations

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from supervision.mobile_enforcement.v1 import events_pb2 as events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    expect_error,
    uscc,
)


def test_register_get_and_list_entities(client):
    request = pb.RegisterEntityRequest(request_id="r1", entity=pb.Entity(
        uscc=" " + uscc(1).lower() + " ", name="小杨生煎", category=pb.ENTITY_CATEGORY_CATERING, address="莘松路1号",
        street="莘庄镇", risk_level=pb.RISK_LEVEL_HIGH))
    first = client.entities.RegisterEntity(request)
    assert (first.uscc, first.office_id, first.version) == (uscc(1), "MH01", 1)
    again = client.entities.RegisterEntity(request)  # a retry: the first result
    assert again == first
    client.entity(3, pb.ENTITY_CATEGORY_PHARMACY, street="七宝镇", key=True)
    assert client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(3))).office_id == "MH02"
    [registered, _] = client.events(events.EntityRegistered)
    assert (registered.aggregate_id, registered.message) == (uscc(1), events.EntityRegistered(
        uscc=uscc(1), version=1, office_id="MH01", name="小杨生煎", category="CATERING", street="莘庄镇",
        risk_level="HIGH", key_supervision=False))
    # Each office's supervised population, a count (over 1) the workload reads.
    assert client.readings("MH01")["entities_supervised"] == (1, 1)
    assert client.readings("MH02")["entities_supervised"] == (1, 1)
    page = client.entities.ListEntities(pb.ListEntitiesRequest(page_size=1))
    rest = client.entities.ListEntities(pb.ListEntitiesRequest(page_size=1, page_token=page.next_page_token))
    assert [e.uscc for e in [*page.entities, *rest.entities]] == sorted([uscc(1), uscc(3)])
    filtered = client.entities.ListEntities(pb.ListEntitiesRequest(
        filter='category = PHARMACY AND office_id = "MH02" AND key_supervision = true'))
    assert [e.uscc for e in filtered.entities] == [uscc(3)]


BAD_ENTITIES = [
    ({"uscc": "91310112MA1000000X"}, INVALID, "entity.uscc"),  # wrong check character
    ({"uscc": "91310112MA10000O1"}, INVALID, "entity.uscc"),
    # An entity of no key object type is fine, with its industry code; without it, not.
    ({"category": pb.ENTITY_CATEGORY_UNSPECIFIED}, INVALID, "entity.industry_code"),
    ({"category": 99}, INVALID, "entity.category"),
    ({"category": pb.ENTITY_CATEGORY_GENERAL}, INVALID, "entity.category"),  # a checklist's type only
    ({"industry_code": "9901"}, INVALID, "entity.industry_code"),  # no division 99
    ({"industry_code": "A5265"}, INVALID, "entity.industry_code"),  # division 52 is in section F
    ({"industry_code": "52a"}, INVALID, "entity.industry_code"),
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
        update_mask=FieldMask(paths=["street", "risk_level"]), expected_version=1))
    assert (updated.office_id, updated.risk_level, updated.name, updated.version) == (
        "MH02", pb.RISK_LEVEL_VERY_HIGH, "小杨生煎（1店）", 2)
    [moved] = client.events(events.EntityUpdated)
    assert (moved.message.office_id, moved.message.previous_office_id, moved.message.version) == ("MH02", "MH01", 2)
    assert (client.readings("MH01")["entities_supervised"], client.readings("MH02")["entities_supervised"]) == (
        (0, 1), (1, 1))
    client.entities.UpdateEntity(pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1), name="小杨生煎（七宝店）"),
                                                        update_mask=FieldMask(paths=["name"])))
    renamed = client.events(events.EntityUpdated)[1].message
    assert (renamed.name, renamed.office_id, renamed.previous_office_id) == ("小杨生煎（七宝店）", "MH02", "")
    before = client.counts()
    for request, code, field in [
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1), name="x"),
            update_mask=FieldMask(paths=["name"]), expected_version=2),
         grpc.StatusCode.ABORTED, None),
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1)),
            update_mask=FieldMask(paths=["uscc"])), INVALID, "update_mask"),
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1), category=0), update_mask=FieldMask(paths=["category"])),
         INVALID, "entity.industry_code"),  # no key type left, and no industry code
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1), category=99), update_mask=FieldMask(paths=["category"])),
         INVALID, "entity.category"),
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(1), street="火星"), update_mask=FieldMask(paths=["street"])),
         PRECONDITION, "entity.street"),
        (pb.UpdateEntityRequest(entity=pb.Entity(uscc=uscc(9), name="x"),
            update_mask=FieldMask(paths=["name"])), NOT_FOUND, None),
    ]:
        found = expect_error(lambda request=request: client.entities.UpdateEntity(request), code)
        assert field is None or field in found
    expect_error(lambda: client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(9))), NOT_FOUND)
    for bad in (pb.ListEntitiesRequest(filter="category = BAKERY"), pb.ListEntitiesRequest(filter="colour = red"),
                pb.ListEntitiesRequest(page_token="nonsense"), pb.ListEntitiesRequest(page_size=-1)):
        expect_error(lambda bad=bad: client.entities.ListEntities(bad), INVALID)
    assert client.counts() == before


def test_register_an_entity_of_no_key_type_by_its_industry_code(client):
    petrol = client.entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
        uscc=uscc(1), name="中石化莘庄加油站", address="沪闵路8号", street="莘庄镇", risk_level=pb.RISK_LEVEL_HIGH,
        industry_code="f5265")))
    assert (petrol.category, petrol.industry_code) == (pb.ENTITY_CATEGORY_UNSPECIFIED, "5265")
    [registered] = client.events(events.EntityRegistered)
    assert (registered.message.category, registered.message.industry_code) == ("", "5265")
    # Inspected with the general checklist (通用), the one for entities of no key object type.
    inspection = client.started(uscc(1))
    assert (inspection.checklist_category, inspection.unanswered_items[0]) == (pb.ENTITY_CATEGORY_GENERAL, "GEN-01")
    # A key type can be added on top later; the industry code stays.
    shop = client.entities.UpdateEntity(pb.UpdateEntityRequest(
        entity=pb.Entity(uscc=uscc(1), category=pb.ENTITY_CATEGORY_CONVENIENCE_STORE),
        update_mask=FieldMask(paths=["category"])))
    assert (shop.category, shop.industry_code) == (pb.ENTITY_CATEGORY_CONVENIENCE_STORE, "5265")
    assert client.events(events.EntityUpdated)[0].message.industry_code == "5265"


IMPORT_ROWS = [
    "uscc,name,category,address,street,risk_level,key_supervision,industry_code",
    f"{uscc(1)},联华超市,SUPERMARKET,沪闵路1号,莘庄镇,LOW,false,F5211",
    f"{uscc(2)},第一医药,药店,七莘路2号,七宝镇,较高风险,是,",
    "91310112MA1000000X,坏代码,CATERING,x,莘庄镇,LOW,,",
    f"{uscc(3)},面包房,BAKERY,x,莘庄镇,HUGE,maybe,",
    f"{uscc(4)},远方,CATERING,x,浦东新区,LOW,false,",
    f"{uscc(1)},重复,CATERING,x,莘庄镇,LOW,false,",
    f"{uscc(5)},已登记,CATERING,x,莘庄镇,LOW,false,",
    "too,few,cells",
    f"{uscc(6)},中石化加油站,,沪闵路8号,莘庄镇,MEDIUM,false,5265",
    f"{uscc(7)},无行业代码,,x,莘庄镇,LOW,false,",
    f"{uscc(8)},错门类,CATERING,x,莘庄镇,LOW,false,A6210",
]
IMPORT_REFUSED = {(4, "uscc"), (5, "category"), (5, "risk_level"), (5, "key_supervision"), (6, "street"), (7, "uscc"),
                  (8, "uscc"), (9, "row"), (11, "industry_code"), (12, "industry_code")}


def test_import_with_a_refused_row_imports_nothing_unless_asked(client):
    client.entity(5)
    before = client.counts()
    content = "\n".join(IMPORT_ROWS).encode()
    refused = client.entities.ImportEntities(pb.ImportEntitiesRequest(request_id="i0", content=content))
    assert (refused.imported_count, refused.row_count) == (0, 11)
    assert {(r.line, r.field) for r in refused.rejected_rows} == IMPORT_REFUSED
    assert client.counts() == before and len(client.events(events.EntityRegistered)) == 1
    expect_error(lambda: client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(1))), NOT_FOUND)


def test_import_registers_good_rows_when_asked_and_reports_every_bad_one(client):
    client.entity(5)
    request = pb.ImportEntitiesRequest(request_id="i1", content="\n".join(IMPORT_ROWS).encode(), import_valid_rows=True)
    result = client.entities.ImportEntities(request)
    assert (result.imported_count, result.row_count) == (3, 11)
    assert {(r.line, r.field) for r in result.rejected_rows} == IMPORT_REFUSED
    assert "line 2" in next(r.description for r in result.rejected_rows if r.line == 7)
    pharmacy = client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(2)))
    assert (pharmacy.category, pharmacy.risk_level, pharmacy.key_supervision, pharmacy.office_id) == (
        pb.ENTITY_CATEGORY_PHARMACY, pb.RISK_LEVEL_HIGH, True, "MH02")
    petrol = client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(6)))
    assert (petrol.category, petrol.industry_code, petrol.risk_level) == (
        pb.ENTITY_CATEGORY_UNSPECIFIED, "5265", pb.RISK_LEVEL_MEDIUM)
    retried = client.entities.ImportEntities(request)
    assert retried == result
    assert (client.readings("MH01")["entities_supervised"], client.readings("MH02")["entities_supervised"]) == (
        (3, 1), (1, 1))
    registered = {e.message.uscc: e.message for e in client.events(events.EntityRegistered)}
    assert sorted(registered) == [uscc(1), uscc(2), uscc(5), uscc(6)]
    assert (registered[uscc(6)].category, registered[uscc(6)].industry_code, registered[uscc(6)].office_id) == (
        "", "5265", "MH01")
    # The directory by industry: a division covers its groups and classes.
    for code, expected in (("52", [uscc(1), uscc(6)]), ("F526", [uscc(6)]), ("62", [])):
        listed = client.entities.ListEntities(pb.ListEntitiesRequest(filter=f'industry_code = "{code}"'))
        assert sorted(e.uscc for e in listed.entities) == expected
    found = expect_error(lambda: client.entities.ListEntities(pb.ListEntitiesRequest(
        filter='industry_code = "99"')), INVALID)
    assert "division 99" in found["filter"]
    before = client.counts()
    header = b"uscc,name,category,address,street,risk_level,key_supervision\n"
    for content in (b"\xff\xfe", b"uscc,name\n1,2\n", header + b'"', header.replace(b"uscc,", b"uscc,uscc,")):
        found = expect_error(lambda content=content: client.entities.ImportEntities(
            pb.ImportEntitiesRequest(content=content)), INVALID)
        assert "content" in found
    assert client.counts() == before
