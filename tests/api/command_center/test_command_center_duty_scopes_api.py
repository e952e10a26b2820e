"""The duty list's scopes through a real gRPC server (SQLite and PostgreSQL): items that apply only
to offices declaring a scope, offices' declared scopes, and duty coverage per office."""

from __future__ import annotations

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import events_pb2
from supervision.common.v1 import indicators_pb2
from tests.api.command_center.support import auth, counts, events, expect_error, office, officer, token

SCOPED_CSV = """code,title,category,legal_basis,responsible_level,group,applies_to,placeholder
SP-001,食品经营者日常监督检查,食品安全,《食品安全法》,OFFICE,SUPERVISION,,false
SP-007,农贸市场入场查验,食品安全,《食用农产品市场销售质量安全监督管理办法》,OFFICE,SUPERVISION,wet_market,false
JL-001,集贸市场计量器具检查,计量,《集贸市场计量监督管理办法》,OFFICE,,wet_market,false
ZL-003,获证企业监督检查,产品质量,《工业产品生产许可证管理条例》,OFFICE,CASE_HANDLING,industrial_zone,false
PH-XB-001,（待导入）消费者权益保护事项01,消费者权益保护,（待导入）,OFFICE,COMPLAINT_HANDLING,,true
TZ-003,气瓶充装单位许可审查,特种设备,《特种设备生产和充装单位许可规则》,BUREAU,,wet_market,false
""".encode()


def coverage(client, office_id: str) -> tuple[float, float]:
    client.running.settle()
    readings = client.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(office_ids=[office_id]))
    found = next(i for i in readings.indicators if i.key == "command_center.duty_coverage")
    return found.numerator, found.denominator


def test_offices_answer_for_the_items_of_the_scopes_they_declare(command_center):
    client = command_center
    client.duties.ImportDutyList(pb.ImportDutyListRequest(format=pb.DUTY_FILE_FORMAT_CSV, content=SCOPED_CSV,
                                                          replace=True))
    listed = {i.code: i for i in client.duties.ListDutyItems(pb.ListDutyItemsRequest()).items}
    assert (listed["SP-007"].applies_to, listed["PH-XB-001"].placeholder, listed["SP-001"].placeholder) == \
        ("wet_market", True, False)
    market = office("MH01", "莘庄所", ["莘庄镇"])
    market.duty_scopes[:] = ["wet_market"]
    client.offices.CreateOffice(pb.CreateOfficeRequest(office=market))
    client.offices.CreateOffice(pb.CreateOfficeRequest(office=office("MH14", "工业区所", ["莘庄工业区"])))
    assert list(client.offices.GetOffice(pb.GetOfficeRequest(id="MH01")).duty_scopes) == ["wet_market"]
    for office_id in ("MH01", "MH14"):
        for number, group in enumerate((pb.GROUP_KIND_SUPERVISION, pb.GROUP_KIND_CASE_HANDLING), start=1):
            client.officers.RegisterOfficer(pb.RegisterOfficerRequest(officer=officer(
                f"{office_id}-0{number}", office_id, group, certificate=f"SH{office_id}{number}")))

    # Office-level items for every office: SP-001 (staffed), PH-XB-001 (complaint group: nobody).
    # MH01 adds the wet-market items SP-007 (staffed) and JL-001 (no group); TZ-003 is the bureau's.
    assert coverage(client, "MH01") == (2, 4)
    assert coverage(client, "MH14") == (1, 2)
    own = client.duties.ListDutyItems(pb.ListDutyItemsRequest(filter='office_id = "MH01"'))
    assert [i.code for i in own.items] == ["JL-001", "PH-XB-001", "SP-001", "SP-007"]

    # MH14 declares its industrial zone: ZL-003 (case-handling group, staffed) becomes its own.
    change = pb.Office(id="MH14", duty_scopes=["industrial_zone"])
    updated = client.offices.UpdateOffice(pb.UpdateOfficeRequest(office=change,
                                                                 update_mask=FieldMask(paths=["duty_scopes"])))
    assert (list(updated.duty_scopes), list(updated.streets)) == (["industrial_zone"], ["莘庄工业区"])
    assert coverage(client, "MH14") == (2, 3)
    _, published = events(client, events_pb2.OfficeUpdated)[-1]
    assert list(published.duty_scopes) == ["industrial_zone"]

    # Bad input names the field and changes nothing.
    before = counts(client)
    found = expect_error(lambda: client.offices.UpdateOffice(pb.UpdateOfficeRequest(
        office=pb.Office(id="MH14", duty_scopes=["airport", "industrial_zone", "industrial_zone"]),
        update_mask=FieldMask(paths=["duty_scopes"]))), grpc.StatusCode.INVALID_ARGUMENT)
    assert {"office.duty_scopes[0]", "office.duty_scopes"} <= set(found)
    bad_file = SCOPED_CSV.replace(b"industrial_zone,false", b"airport,maybe")
    found = expect_error(lambda: client.duties.ImportDutyList(pb.ImportDutyListRequest(
        format=pb.DUTY_FILE_FORMAT_CSV, content=bad_file, replace=True)), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(found) == {"rows[5].applies_to", "rows[5].placeholder"}
    assert counts(client) == before
    assert coverage(client, "MH14") == (2, 3)
    expect_error(lambda: client.duties.ListDutyItems(pb.ListDutyItemsRequest(filter='office_id = "MH99"')),
                 grpc.StatusCode.NOT_FOUND)


def test_only_the_bureau_changes_what_an_office_answers_for(secured):
    _running, offices, _tasks, _task = secured
    head = auth(token(["office_head"], office_id="MH01"))
    for office_id in ("MH01", "MH02"):
        expect_error(lambda office_id=office_id: offices.UpdateOffice(pb.UpdateOfficeRequest(
            office=pb.Office(id=office_id, duty_scopes=["wet_market"]), update_mask=FieldMask(paths=["duty_scopes"])),
            metadata=head), grpc.StatusCode.PERMISSION_DENIED)
    assert list(offices.GetOffice(pb.GetOfficeRequest(id="MH01"), metadata=head).duty_scopes) == []
