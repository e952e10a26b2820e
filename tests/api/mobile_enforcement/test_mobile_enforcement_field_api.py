"""The field app's calls to mobile_enforcement through a real gRPC server (AUTH_MODE=jwt), on SQLite and
PostgreSQL: start, findings and completion carried out once per request id and refused (ABORTED) at a
stale version; evidence attached with its hash, time and place, into a trail that still verifies, every
malformed description refused; findings citing evidence that is not attached refused; an office's work
list in due order with each entity's last result; the entity search; another office refused throughout."""

from __future__ import annotations

import datetime as dt
import hashlib

import grpc
import pytest
from google.type import latlng_pb2
from sqlalchemy import func, select

from services.mobile_enforcement.models import AuditRecord
from supervision.mobile_enforcement.v1 import events_pb2 as events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    TODAY,
    Client,
    bearer,
    date,
    expect_error,
    location,
    plan_request,
    uscc,
)

MH01 = bearer("mh01-officer", ("officer",), "MH01")
MH02 = bearer("mh02-officer", ("officer",), "MH02")
DENIED, ABORTED, EXISTS = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.ABORTED,
                           grpc.StatusCode.ALREADY_EXISTS)
PHOTO_SHA = hashlib.sha256(b"photo of the disinfection cabinet").hexdigest()
OTHER_SHA = hashlib.sha256(b"another photo").hexdigest()


@pytest.fixture
def client(field_service: Client) -> Client:
    return field_service


def trail_length(client: Client, inspection_id: str) -> int:
    with client.running.store.read() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.chain_key == f"inspection/{inspection_id}"))


def trail_records(client: Client, inspection_id: str) -> list[str]:
    with client.running.store.read() as session:
        return list(session.scalars(select(AuditRecord.record).where(
            AuditRecord.chain_key == f"inspection/{inspection_id}").order_by(AuditRecord.sequence)))


def intact(client: Client, inspection_id: str) -> bool:
    return client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=f"inspection/{inspection_id}")).intact


def get(client: Client, inspection_id: str) -> pb.Inspection:
    return client.inspections.GetInspection(pb.GetInspectionRequest(id=inspection_id))


def start(client: Client, inspection_id: str, request_id: str = "", expected_version: int = 0, metadata=MH01,
          address: str = "莘庄镇莘松路1号") -> pb.Inspection:
    place = location()
    place.address = address
    return client.inspections.StartInspection(pb.StartInspectionRequest(
        id=inspection_id, officer_ids=["MH01-001", "MH01-002"], location=place, request_id=request_id,
        expected_version=expected_version), metadata=metadata)


def findings(client: Client, inspection_id: str, given: list[pb.Finding], request_id: str = "",
             expected_version: int = 0, metadata=MH01) -> pb.Inspection:
    return client.inspections.RecordFindings(pb.RecordFindingsRequest(
        id=inspection_id, findings=given, request_id=request_id, expected_version=expected_version),
        metadata=metadata)


def evidence(client: Client, sha256: str = PHOTO_SHA, **fields) -> pb.Evidence:
    """A photo captured a minute ago at the entity, of item CAT-07, unless told otherwise."""
    given = pb.Evidence(kind=pb.EVIDENCE_KIND_PHOTO, sha256=sha256, content_type="image/jpeg", size_bytes=120_000,
                        position=latlng_pb2.LatLng(latitude=31.1101, longitude=121.3802),
                        position_accuracy_meters=8.5, item_code="CAT-07")
    given.capture_time.FromDatetime(client.clock.now() - dt.timedelta(minutes=1))
    for name, value in fields.items():
        if name == "capture_time":
            given.ClearField("capture_time")
            if value is not None:
                given.capture_time.FromDatetime(value)
        elif name == "position":
            given.ClearField("position")
            if value is not None:
                given.position.CopyFrom(value)
        else:
            setattr(given, name, value)
    return given


def attach(client: Client, inspection_id: str, given: pb.Evidence, request_id: str = "",
           metadata=MH01) -> pb.Inspection:
    return client.inspections.AttachEvidence(pb.AttachEvidenceRequest(
        request_id=request_id, inspection_id=inspection_id, evidence=given), metadata=metadata)


def passing(inspection: pb.Inspection, *, but: pb.Finding | None = None) -> list[pb.Finding]:
    answers = [pb.Finding(item_code=code, result=pb.ITEM_RESULT_PASS) for code in inspection.unanswered_items]
    if but is not None:
        answers = [but if a.item_code == but.item_code else a for a in answers]
    return answers


# ---------------------------------------------------------------- request ids and versions


def test_each_field_action_is_carried_out_once_per_request_id(client):
    planned = client.routine(uscc(1))
    started = start(client, planned.id, "start-1", expected_version=planned.version)
    length = trail_length(client, planned.id)
    # The app could not tell whether it arrived: the repeat answers the inspection as it is, changing nothing,
    # although the version it expected is stale by now.
    again = start(client, planned.id, "start-1", expected_version=planned.version)
    assert again == started and trail_length(client, planned.id) == length
    # The same id for another request is refused rather than answered with the first result.
    found = expect_error(lambda: start(client, planned.id, "start-1", planned.version, address="别处"), EXISTS)
    assert "request_id" in found
    # Another caller's request_id is another request: this one meets the inspection already started.
    expect_error(lambda: start(client, planned.id, "start-1", metadata=bearer("mh01-other", ("officer",), "MH01")),
                 PRECONDITION)

    recorded = findings(client, planned.id, passing(started), "findings-1", started.version)
    length = trail_length(client, planned.id)
    assert findings(client, planned.id, passing(started), "findings-1", started.version) == recorded
    assert trail_length(client, planned.id) == length and get(client, planned.id).version == recorded.version

    request = pb.CompleteInspectionRequest(id=planned.id, summary="未发现问题", request_id="complete-1",
                                           expected_version=recorded.version)
    done = client.inspections.CompleteInspection(request, metadata=MH01)
    length = trail_length(client, planned.id)
    assert client.inspections.CompleteInspection(request, metadata=MH01) == done
    assert done.state == pb.INSPECTION_STATE_COMPLETED and trail_length(client, planned.id) == length
    assert len(client.events(events.InspectionCompleted)) == 1
    # An id used for one method is not another method's.
    found = expect_error(lambda: findings(client, planned.id, passing(started), "complete-1"), INVALID)
    assert "request_id" in found
    assert intact(client, planned.id)


def test_a_stale_expected_version_is_aborted_and_changes_nothing(client):
    planned = client.routine(uscc(1))
    before = client.counts()
    with pytest.raises(grpc.RpcError) as info:
        start(client, planned.id, "start-stale", expected_version=planned.version + 3)
    assert info.value.code() == ABORTED and f"version {planned.version}," in info.value.details()
    assert client.counts() == before and get(client, planned.id).state == pb.INSPECTION_STATE_PLANNED
    # Refused, the request id was not spent: sent again at the right version it is carried out.
    started = start(client, planned.id, "start-stale", expected_version=planned.version)
    # Someone else recorded meanwhile: the app's findings made against the start are refused.
    findings(client, started.id, passing(started)[:1], metadata=bearer("mh01-other", ("officer",), "MH01"))
    length = trail_length(client, planned.id)
    expect_error(lambda: findings(client, started.id, passing(started), "findings-stale", started.version), ABORTED)
    expect_error(lambda: client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, request_id="complete-stale", expected_version=started.version), metadata=MH01), ABORTED)
    assert trail_length(client, planned.id) == length
    found = expect_error(lambda: start(client, planned.id, expected_version=-1), INVALID)
    assert "expected_version" in found


def test_field_actions_of_another_office_are_refused(client):
    planned = client.routine(uscc(1))
    expect_error(lambda: start(client, planned.id, "start-mh02", metadata=MH02), DENIED)
    started = start(client, planned.id)
    expect_error(lambda: findings(client, started.id, passing(started), "findings-mh02", metadata=MH02), DENIED)
    expect_error(lambda: attach(client, started.id, evidence(client), "evidence-mh02", metadata=MH02), DENIED)
    assert get(client, planned.id).version == started.version and not get(client, planned.id).evidence


# ---------------------------------------------------------------- evidence


def test_evidence_is_recorded_on_the_inspection_and_in_its_trail(client):
    started = start(client, client.routine(uscc(1)).id)
    attached = attach(client, started.id, evidence(client), "photo-1")
    [photo] = attached.evidence
    assert (photo.ref, photo.kind, photo.sha256, photo.content_type, photo.size_bytes, photo.item_code,
            photo.attached_by) == (f"evidence:{PHOTO_SHA}", pb.EVIDENCE_KIND_PHOTO, PHOTO_SHA, "image/jpeg", 120_000,
                                   "CAT-07", "mh01-officer")
    assert (photo.position.latitude, photo.position.longitude, photo.position_accuracy_meters) == (
        31.1101, 121.3802, 8.5)
    assert photo.capture_time.ToDatetime(tzinfo=dt.UTC) == client.clock.now() - dt.timedelta(minutes=1)
    # Evidence only adds: the version another officer's action expects stays valid.
    assert attached.version == started.version and get(client, started.id).evidence == attached.evidence
    [record] = [r for r in trail_records(client, started.id) if PHOTO_SHA in r]
    assert '"evidence attached"' in record and "CAT-07" in record and "31.1101" in record
    assert intact(client, started.id)

    length = trail_length(client, started.id)
    assert attach(client, started.id, evidence(client), "photo-1") == attached
    # The same file again (the app sent it twice under new ids) is attached once.
    assert attach(client, started.id, evidence(client), "photo-1-again").evidence == attached.evidence
    assert trail_length(client, started.id) == length
    expect_error(lambda: attach(client, started.id, evidence(client, size_bytes=5), "photo-1"), EXISTS)

    # Findings cite attached evidence by its reference; other reference forms are taken as given.
    failing = pb.Finding(item_code="CAT-07", result=pb.ITEM_RESULT_FAIL, note="消毒柜未通电",
                         evidence_refs=[photo.ref, "paper-file/2026-11-02/3"])
    recorded = findings(client, started.id, passing(started, but=failing))
    assert list(next(f for f in recorded.findings if f.item_code == "CAT-07").evidence_refs) == [
        photo.ref, "paper-file/2026-11-02/3"]
    unknown = pb.Finding(item_code="CAT-08", result=pb.ITEM_RESULT_FAIL, note="无记录",
                         evidence_refs=["paper-file/1", f"evidence:{OTHER_SHA}"])
    found = expect_error(lambda: findings(client, started.id, [unknown]), INVALID)
    assert OTHER_SHA in found["findings[0].evidence_refs[1]"] and len(found) == 1
    assert get(client, started.id).version == recorded.version

    # Completed, it still takes the party's signature, but no more photos.
    done = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, summary="消毒设施未正常运转", rectification_due=date(TODAY + dt.timedelta(days=10))))
    expect_error(lambda: attach(client, started.id, evidence(client, OTHER_SHA)), PRECONDITION)
    signature = evidence(client, OTHER_SHA, kind=pb.EVIDENCE_KIND_SIGNATURE, content_type="image/png",
                         item_code="", position=None)
    signed = attach(client, started.id, signature)
    assert [e.kind for e in signed.evidence] == [pb.EVIDENCE_KIND_PHOTO, pb.EVIDENCE_KIND_SIGNATURE]
    assert not signed.evidence[1].HasField("position") and signed.version == done.version
    assert intact(client, started.id)


def test_evidence_before_the_start_is_refused(client):
    planned = client.routine(uscc(1))
    expect_error(lambda: attach(client, planned.id, evidence(client)), PRECONDITION)
    expect_error(lambda: attach(client, "no-such-inspection", evidence(client)), NOT_FOUND)


BAD_EVIDENCE = {
    "evidence.sha256": [{"sha256": PHOTO_SHA.upper()}, {"sha256": PHOTO_SHA[:63]}, {"sha256": ""}],
    "evidence.content_type": [{"content_type": "text/html"}, {"content_type": ""}],
    "evidence.size_bytes": [{"size_bytes": 0}, {"size_bytes": -1}, {"size_bytes": 64 * 1024 * 1024 + 1}],
    "evidence.kind": [{"kind": pb.EVIDENCE_KIND_UNSPECIFIED}, {"kind": 42}],
    "evidence.position.latitude": [{"position": latlng_pb2.LatLng(latitude=90.5, longitude=121.0)}],
    "evidence.position.longitude": [{"position": latlng_pb2.LatLng(latitude=31.0, longitude=-181.0)}],
    "evidence.position_accuracy_meters": [{"position_accuracy_meters": -3.0}],
    "evidence.item_code": [{"item_code": "SUP-01"}, {"item_code": "X" * 17}],
}


def test_malformed_evidence_is_refused_naming_the_field_and_changes_nothing(client):
    started = start(client, client.routine(uscc(1)).id)
    length = trail_length(client, started.id)
    now = client.clock.now()
    cases = [(field, change) for field, changes in BAD_EVIDENCE.items() for change in changes]
    cases += [("evidence.capture_time", {"capture_time": None}),
              ("evidence.capture_time", {"capture_time": now + dt.timedelta(minutes=6)}),
              ("evidence.capture_time", {"capture_time": now - dt.timedelta(minutes=6)})]  # before the start
    for number, (field, change) in enumerate(cases):
        found = expect_error(lambda change=change, number=number: attach(
            client, started.id, evidence(client, **change), f"bad-{number}"), INVALID)
        assert field in found, (change, found)
    found = expect_error(lambda: attach(client, started.id, evidence(client), "x" * 129), INVALID)
    assert "request_id" in found
    assert not get(client, started.id).evidence and trail_length(client, started.id) == length
    # Within the clocks' drift a capture is taken as the phone's honest time.
    assert attach(client, started.id, evidence(client, capture_time=now + dt.timedelta(minutes=4))).evidence


# ---------------------------------------------------------------- the work list


def all_assignments(client: Client, page_size: int = 0, metadata=MH01, **fields) -> list[pb.Assignment]:
    found, token = [], ""
    while True:
        page = client.inspections.ListAssignments(pb.ListAssignmentsRequest(
            page_size=page_size, page_token=token, **fields), metadata=metadata)
        found += page.assignments
        token = page.next_page_token
        if not token:
            return found


def order_key(assignment: pb.Assignment) -> tuple:
    due = assignment.inspection.due_date
    return ((due.year, due.month, due.day) if due.year else (9999, 12, 31),
            assignment.inspection.create_time.ToDatetime(), assignment.inspection.id)


def test_the_work_list_shows_open_inspections_earliest_due_first_with_the_last_result(client):
    # The directory beside entity 1, registered already.
    rows = ["uscc,name,category,address,street,risk_level,key_supervision"]
    rows += [f"{uscc(number)},店{number},CATERING,x,莘庄镇,HIGH,false" for number in range(2, 41)]
    client.entities.ImportEntities(pb.ImportEntitiesRequest(content="\n".join(rows).encode()))
    client.spot_checks.DrawPlan(plan_request(ratio_basis_points=1000, tier_ratios=[],
                                             due_date=date(TODAY + dt.timedelta(days=30))))
    # Entity 1 was inspected before (compliant); its routine follow-up is due sooner than the plan.
    first = start(client, client.routine(uscc(1)).id)
    findings(client, first.id, passing(first))
    done = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(id=first.id), metadata=MH01)
    client.clock.advance(minutes=5)
    soon = client.inspections.ScheduleInspection(pb.ScheduleInspectionRequest(inspection=pb.Inspection(
        entity_id=uscc(1), kind=pb.INSPECTION_KIND_COMPLAINT, source_ref="TS-1",
        due_date=date(TODAY + dt.timedelta(days=3)))))
    undated = client.routine(uscc(2))
    elsewhere = client.entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
        uscc=uscc(900), name="七宝老街小吃", category=pb.ENTITY_CATEGORY_CATERING, address="七宝镇1号", street="七宝镇",
        risk_level=pb.RISK_LEVEL_LOW)))
    client.routine(elsewhere.uscc)

    listed = all_assignments(client)
    assert listed == all_assignments(client, page_size=2)
    assert listed == sorted(listed, key=order_key)
    assert listed[0].inspection.id == soon.id and listed[-1].inspection.id == undated.id
    assert all(a.inspection.office_id == "MH01" and a.entity.uscc == a.inspection.entity_id for a in listed)
    assert all(a.inspection.state in (pb.INSPECTION_STATE_PLANNED, pb.INSPECTION_STATE_IN_PROGRESS) for a in listed)
    assert done.id not in {a.inspection.id for a in listed}
    assert (listed[0].last_outcome, listed[0].last_complete_time) == (pb.INSPECTION_OUTCOME_COMPLIANT,
                                                                      done.complete_time)
    assert not listed[-1].HasField("last_complete_time") and listed[-1].last_outcome == 0
    open_mh01 = client.inspections.ListInspections(pb.ListInspectionsRequest(
        filter='office_id="MH01"', page_size=1000)).inspections
    assert len(listed) == len([i for i in open_mh01 if i.state != pb.INSPECTION_STATE_COMPLETED])

    mine = all_assignments(client, officer_id="MH01-001")
    assert all(not a.inspection.assigned_officer_ids or "MH01-001" in a.inspection.assigned_officer_ids
               for a in mine)
    assert {a.inspection.id for a in mine} == {a.inspection.id for a in listed if not a.inspection.assigned_officer_ids
                                                or "MH01-001" in a.inspection.assigned_officer_ids}
    assert any(a.inspection.assigned_officer_ids for a in mine) and len(mine) < len(listed)
    assert mine == sorted(mine, key=order_key)
    # An id is matched whole, never as a pattern or a part of another id.
    assert {a.inspection.id for a in all_assignments(client, officer_id="MH01-00%")} == {
        a.inspection.id for a in listed if not a.inspection.assigned_officer_ids}

    # A district-wide caller names the office, or sees every office's.
    assert all_assignments(client, metadata=bearer("leader", ("bureau_leader",)), office_id="MH01") == listed
    assert len(all_assignments(client, metadata=bearer("leader", ("bureau_leader",)))) == len(listed) + 1
    expect_error(lambda: all_assignments(client, metadata=MH02, office_id="MH01"), DENIED)
    assert [a.entity.uscc for a in all_assignments(client, metadata=MH02)] == [elsewhere.uscc]
    assert "officer_id" in expect_error(lambda: all_assignments(client, officer_id="x" * 33), INVALID)
    assert "page_token" in expect_error(lambda: client.inspections.ListAssignments(pb.ListAssignmentsRequest(
        page_token="forged"), metadata=MH01), INVALID)


# ---------------------------------------------------------------- the entity search


def test_entities_are_found_by_a_part_of_the_name_or_the_start_of_the_credit_code(client):
    client.entity(2)
    lucky = client.entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
        uscc=uscc(31, "92"), name="Lucky Star 便利店", category=pb.ENTITY_CATEGORY_CONVENIENCE_STORE,
        address="莘松路9号", street="莘庄镇", risk_level=pb.RISK_LEVEL_LOW)))

    def search(term: str, metadata=MH01) -> list[str]:
        return [e.uscc for e in client.entities.ListEntities(pb.ListEntitiesRequest(
            filter=f'search="{term}"'), metadata=metadata).entities]

    assert search("生煎") == [uscc(1), uscc(2)]
    assert search("2店") == [uscc(2)]
    assert search("lucky star") == search("LUCKY") == [lucky.uscc]
    assert search(lucky.uscc[:8]) == [lucky.uscc]
    assert search("92310112ma1") == [lucky.uscc]  # a credit code's letters are upper case
    assert search("%") == search("_") == []  # no pattern characters
    assert client.entities.ListEntities(pb.ListEntitiesRequest(filter="search=91310112")).entities[0].uscc == uscc(1)
    assert search("生煎", metadata=MH02) == []  # another office's directory
    for bad in ("", " ", "店" * 51):
        found = expect_error(lambda bad=bad: search(bad), INVALID)
        assert "search" in found["filter"]
