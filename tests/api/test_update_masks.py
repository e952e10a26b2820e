"""Update methods take `update_mask` as a google.protobuf.FieldMask (AIP-134), through real gRPC servers:
unknown paths are INVALID_ARGUMENT on update_mask before the record is read, "*" replaces every updatable
field, fields outside the mask are neither read nor changed, and a mask in the old contract's form
(a repeated string) is refused instead of being read as "update everything"."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import json_format
from google.protobuf.field_mask_pb2 import FieldMask
from google.type import date_pb2

from services.common.convert import update_paths
from services.common.errors import InvalidArgument
from supervision.assessment.v1 import assessment_pb2 as assessment_pb
from supervision.assessment.v1 import assessment_pb2_grpc as assessment_grpc
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.emergency.v1 import emergency_pb2 as em_pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me_pb
from tests.api.emergency.support import CommandCenter, EmergencyClient, incident
from tests.api.mobile_enforcement.support import staffed_client, uscc
from tests.conftest import make_settings
from tests.support import host, violations

INVALID = grpc.StatusCode.INVALID_ARGUMENT
OFFICE_FIELDS = ("name", "district", "streets")

# Every Update request of the v1 contract and its resource field: each one's mask is a FieldMask.
UPDATE_REQUESTS = [cc_pb.UpdateOfficeRequest, cc_pb.UpdateOfficerRequest, me_pb.UpdateEntityRequest,
                   em_pb.UpdateCountsRequest, assessment_pb.UpdateImprovementPlanRequest]


def refused(call) -> tuple[grpc.StatusCode, dict[str, str], str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code(), violations(info.value), info.value.details()


def old_contract_bytes(request, field_number: int, *names: str) -> bytes:
    """`request` serialised with update_mask written the old way: each name a length-delimited string."""
    raw = request.SerializeToString()
    for name in names:
        raw += bytes([field_number << 3 | 2, len(name)]) + name.encode()
    return raw


# ---------------------------------------------------------------- the conversion itself


def test_an_empty_mask_and_a_star_name_every_updatable_field():
    assert update_paths(FieldMask(), OFFICE_FIELDS) == list(OFFICE_FIELDS)
    assert update_paths(FieldMask(paths=["*"]), OFFICE_FIELDS) == list(OFFICE_FIELDS)


def test_paths_named_twice_count_once_in_their_first_order():
    assert update_paths(FieldMask(paths=["streets", "name", "streets"]), OFFICE_FIELDS) == ["streets", "name"]


@pytest.mark.parametrize(("paths", "named"), [
    (["id"], "'id'"),
    (["office.name"], "'office.name'"),        # paths are relative to the resource
    (["Name"], "'Name'"),                      # field names are case-sensitive
    ([""], "''"),
    (["name", "*"], '"*"'),                    # a star replaces everything: alone or not at all
])
def test_a_path_that_cannot_be_updated_is_invalid_argument_on_update_mask(paths, named):
    with pytest.raises(InvalidArgument) as raised:
        update_paths(FieldMask(paths=paths), OFFICE_FIELDS)

    assert {v.field for v in raw_violations(raised.value)} == {"update_mask"}
    assert named in str(raised.value)


def test_every_bad_path_is_reported_at_once():
    with pytest.raises(InvalidArgument) as raised:
        update_paths(FieldMask(paths=["id", "name", "version"]), OFFICE_FIELDS)

    assert [v.description.split()[0] for v in raw_violations(raised.value)] == ["'id'", "'version'"]


def test_a_mask_holding_unknown_fields_is_refused_not_read_as_empty():
    # What the old contract's update_mask=["ill_count"] decodes to: a FieldMask with only an unknown field.
    raw = old_contract_bytes(em_pb.UpdateCountsRequest(id="x"), 3, "ill_count")
    mask = em_pb.UpdateCountsRequest.FromString(raw).update_mask
    assert list(mask.paths) == []

    with pytest.raises(InvalidArgument) as raised:
        update_paths(mask, ("ill_count", "death_count"))

    assert [v.field for v in raw_violations(raised.value)] == ["update_mask"]


def raw_violations(error: InvalidArgument):
    return error.violations


def test_every_update_request_of_the_contract_takes_a_field_mask():
    for request in UPDATE_REQUESTS:
        field = request.DESCRIPTOR.fields_by_name["update_mask"]
        assert field.message_type is not None, request.DESCRIPTOR.full_name
        assert field.message_type.full_name == "google.protobuf.FieldMask"


# ---------------------------------------------------------------- command_center: offices and officers


def office(office_id="MH01") -> cc_pb.Office:
    return cc_pb.Office(id=office_id, name="莘庄市场监督管理所", district="闵行区", streets=["莘庄镇"])


def test_unknown_paths_refuse_an_office_update_before_it_is_read_and_change_nothing(command_center):
    created = command_center.offices.CreateOffice(cc_pb.CreateOfficeRequest(office=office()))

    for office_id in ("MH01", "MH09"):  # MH09 does not exist: the malformed request is still INVALID_ARGUMENT
        code, found, _ = refused(lambda office_id=office_id: command_center.offices.UpdateOffice(
            cc_pb.UpdateOfficeRequest(office=cc_pb.Office(id=office_id, name="x"),
                                      update_mask=FieldMask(paths=["name", "version"]))))
        assert (code, set(found)) == (INVALID, {"update_mask"})
        assert "'version' cannot be updated" in found["update_mask"]

    assert command_center.offices.GetOffice(cc_pb.GetOfficeRequest(id="MH01")) == created


def test_a_star_mask_replaces_every_updatable_office_field(command_center):
    command_center.offices.CreateOffice(cc_pb.CreateOfficeRequest(office=office()))

    updated = command_center.offices.UpdateOffice(cc_pb.UpdateOfficeRequest(
        office=cc_pb.Office(id="MH01", name="莘庄所", district="闵行", streets=["春申", "莘庄镇"]),
        update_mask=FieldMask(paths=["*"])))

    assert (updated.name, updated.district, list(updated.streets), updated.version) == (
        "莘庄所", "闵行", ["春申", "莘庄镇"], 2)


def test_a_mask_in_json_is_the_comma_separated_camel_case_form(command_center):
    """What grpcurl and other JSON clients send: {"updateMask": "name,streets"}."""
    command_center.offices.CreateOffice(cc_pb.CreateOfficeRequest(office=office()))
    request = json_format.Parse('{"office": {"id": "MH01", "name": "莘庄所", "district": "别处", '
                                '"streets": ["春申"]}, "updateMask": "name,streets"}', cc_pb.UpdateOfficeRequest())

    updated = command_center.offices.UpdateOffice(request)

    assert (updated.name, updated.district, list(updated.streets)) == ("莘庄所", "闵行区", ["春申"])


def test_officer_fields_outside_the_mask_are_not_read(command_center):
    """An officer renamed with a nonsense certificate date beside it: the date is outside the mask, so
    neither refused nor stored (AIP-134: fields not named are ignored)."""
    command_center.offices.CreateOffice(cc_pb.CreateOfficeRequest(office=office()))
    registered = command_center.officers.RegisterOfficer(cc_pb.RegisterOfficerRequest(officer=cc_pb.Officer(
        id="MH01-01", name="王伟", office_id="MH01", group=cc_pb.GROUP_KIND_SUPERVISION, certificate_no="SH0101",
        certificate_expires=date_pb2.Date(year=2030, month=1, day=31))))

    renamed = command_center.officers.UpdateOfficer(cc_pb.UpdateOfficerRequest(
        officer=cc_pb.Officer(id="MH01-01", name="王伟明", certificate_expires=date_pb2.Date(year=2030, month=2,
                                                                                            day=30)),
        update_mask=FieldMask(paths=["name"])))

    assert (renamed.name, renamed.certificate_expires, renamed.version) == (
        "王伟明", registered.certificate_expires, registered.version + 1)


def test_unknown_officer_paths_are_invalid_argument_even_for_an_unknown_officer(command_center):
    code, found, _ = refused(lambda: command_center.officers.UpdateOfficer(cc_pb.UpdateOfficerRequest(
        officer=cc_pb.Officer(id="nobody"), update_mask=FieldMask(paths=["certificate_valid"]))))

    assert (code, set(found)) == (INVALID, {"update_mask"})


# ---------------------------------------------------------------- mobile_enforcement: entities


@pytest.fixture
def client(store_url, tmp_path):
    """mobile_enforcement with its offices and certified officers (as its own API tests have it)."""
    client = staffed_client(store_url, tmp_path)
    yield client
    client.close()


def test_unknown_entity_paths_are_invalid_argument_and_change_nothing(client):
    client.entity(1)
    before = client.entities.GetEntity(me_pb.GetEntityRequest(uscc=uscc(1)))

    for number in (1, 9):  # uscc(9) is not registered
        code, found, _ = refused(lambda number=number: client.entities.UpdateEntity(me_pb.UpdateEntityRequest(
            entity=me_pb.Entity(uscc=uscc(number), name="x"), update_mask=FieldMask(paths=["name", "office_id"]))))
        assert (code, set(found)) == (INVALID, {"update_mask"})

    assert client.entities.GetEntity(me_pb.GetEntityRequest(uscc=uscc(1))) == before


# ---------------------------------------------------------------- emergency: counts


@pytest.fixture
def emergency(tmp_path):
    client = EmergencyClient(host("emergency", f"sqlite:///{tmp_path / 'emergency.db'}", make_settings()))
    center = host("command_center", f"sqlite:///{tmp_path / 'command_center.db'}", make_settings(),
                  client.running.clock)
    client.directory = CommandCenter(center, client.running)
    client.directory.office("MH01")
    client.directory.officer("MH01-01", "MH01")
    client.running.settle()
    yield client
    center.close()
    client.running.close()


def report(emergency) -> em_pb.Incident:
    return emergency.incidents.ReportIncident(em_pb.ReportIncidentRequest(
        request_id="r-1", incident=incident(ill_count=12, death_count=0)))


def test_an_old_contract_mask_is_refused_instead_of_updating_every_count(emergency):
    """update_mask=["ill_count"] from a client built before the FieldMask: it decodes as a mask of unknown
    fields only. Read as an empty mask it would set every other count to 0; it is refused."""
    created = report(emergency)
    request = em_pb.UpdateCountsRequest(id=created.id, incident=em_pb.Incident(ill_count=30))
    call = emergency.running.channel.unary_unary(
        "/supervision.emergency.v1.IncidentService/UpdateCounts",
        request_serializer=None, response_deserializer=em_pb.Incident.FromString)

    code, found, _ = refused(lambda: call(old_contract_bytes(request, 3, "ill_count")))

    assert (code, set(found)) == (INVALID, {"update_mask"})
    after = emergency.incidents.GetIncident(em_pb.GetIncidentRequest(id=created.id))
    assert (after.ill_count, after.version) == (12, created.version)


def test_unknown_count_paths_are_refused_before_the_incident_is_read(emergency):
    created = report(emergency)

    for incident_id in (created.id, "nope"):
        code, found, _ = refused(lambda incident_id=incident_id: emergency.incidents.UpdateCounts(
            em_pb.UpdateCountsRequest(id=incident_id, incident=em_pb.Incident(ill_count=30),
                                      update_mask=FieldMask(paths=["ill_count", "level"]))))
        assert (code, set(found)) == (INVALID, {"update_mask"})

    after = emergency.incidents.GetIncident(em_pb.GetIncidentRequest(id=created.id))
    assert (after.ill_count, after.version) == (12, created.version)


def test_a_star_mask_sets_every_count_from_the_message(emergency):
    created = report(emergency)

    updated = emergency.incidents.UpdateCounts(em_pb.UpdateCountsRequest(
        id=created.id, incident=em_pb.Incident(ill_count=15, death_count=1), update_mask=FieldMask(paths=["*"]),
        note="疾控通报"))

    assert (updated.ill_count, updated.death_count, updated.version) == (15, 1, created.version + 1)


# ---------------------------------------------------------------- assessment: improvement plans


def test_unknown_plan_paths_are_invalid_argument_before_the_plan_is_looked_up(tmp_path):
    running = host("assessment", f"sqlite:///{tmp_path / 'assessment.db'}", make_settings())
    try:
        plans = assessment_grpc.ImprovementServiceStub(running.channel)
        code, found, _ = refused(lambda: plans.UpdateImprovementPlan(assessment_pb.UpdateImprovementPlanRequest(
            plan=assessment_pb.ImprovementPlan(id="no-such-plan", actions="x"),
            update_mask=FieldMask(paths=["actions", "state"]))))
        assert (code, set(found)) == (INVALID, {"update_mask"})
        assert "'state' cannot be updated" in found["update_mask"]
        # A well-formed mask reaches the lookup: the plan is unknown.
        code, _, _ = refused(lambda: plans.UpdateImprovementPlan(assessment_pb.UpdateImprovementPlanRequest(
            plan=assessment_pb.ImprovementPlan(id="no-such-plan", actions="x"),
            update_mask=FieldMask(paths=["actions"]))))
        assert code == grpc.StatusCode.NOT_FOUND
    finally:
        running.close()
