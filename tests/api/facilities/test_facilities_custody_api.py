"""facilities through a real gRPC server: custody of seized goods, signed by two officers and chained."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update

from services.facilities.models import CustodyRecord
from supervision.facilities.v1 import events_pb2
from supervision.facilities.v1 import facilities_pb2 as pb
from supervision.mobile_enforcement.v1 import events_pb2 as me_events
from tests.api.facilities.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    START,
    TODAY,
    expect_error,
    refused,
)


@pytest.fixture
def officers(client) -> list[str]:
    for officer_id in ("MH01-01", "MH01-02", "MH01-03"):
        client.officer(officer_id)
    return ["MH01-01", "MH01-02"]


def check_in(client, signed_by, case_id="MH01-AJ-2026-001", request_id="", **changes) -> pb.CustodyItem:
    fields = {"office_id": "MH01", "case_id": case_id, "description": "假冒注册商标白酒", "quantity": 36,
              "unit": "瓶", "location": "罚没物品库 A-01", "signed_by": signed_by}
    fields.update(changes)
    return client.custody.CheckIn(pb.CheckInRequest(request_id=request_id, **fields))


def dispose(client, item_id: str, signed_by, note: str = "") -> pb.CustodyItem:
    return client.custody.Dispose(pb.DisposeRequest(item_id=item_id, method=pb.DISPOSAL_METHOD_DESTROYED,
                                                    signed_by=signed_by, note=note))


def test_custody_steps_are_signed_by_two_officers_and_chained(client, officers):
    unknown = check_in(client, officers)
    # Goods of a case mobile_enforcement never announced are evidence of an open case.
    expect_error(lambda: dispose(client, unknown.id, officers), PRECONDITION)
    case_id = client.file_case(officers)
    item = check_in(client, officers, case_id=case_id, request_id="in-1", note="随案移交")
    assert item.state == pb.CUSTODY_STATE_IN_STORE and item.trail_length == 1
    assert check_in(client, officers, case_id=case_id, request_id="in-1", note="随案移交") == item
    moved = client.custody.Move(pb.MoveRequest(item_id=item.id, to_location="罚没物品库 B-03",
                                                signed_by=["MH01-03", "MH01-01"]))
    assert moved.location == "罚没物品库 B-03" and moved.trail_length == 2
    expect_error(lambda: dispose(client, item.id, officers), PRECONDITION)  # the case is open
    client.close_case(case_id)
    disposed = dispose(client, item.id, officers, note="监督销毁")
    assert disposed.state == pb.CUSTODY_STATE_DISPOSED and disposed.disposal_method == pb.DISPOSAL_METHOD_DESTROYED
    expect_error(lambda: client.custody.Move(pb.MoveRequest(item_id=item.id, to_location="门卫室",
                                                            signed_by=officers)), PRECONDITION)

    full = client.custody.GetCustodyItem(pb.GetCustodyItemRequest(id=item.id))
    assert [(r.sequence, r.step) for r in full.trail] == [
        (1, pb.CUSTODY_STEP_CHECK_IN), (2, pb.CUSTODY_STEP_MOVE), (3, pb.CUSTODY_STEP_DISPOSAL)]
    assert list(full.trail[1].signed_by) == ["MH01-03", "MH01-01"] and full.trail[0].note == "随案移交"
    assert full.trail[0].previous_hash == "0" * 64 and full.trail[1].previous_hash == full.trail[0].hash
    assert full.trail_head == full.trail[2].hash and full.trail[2].record_time.ToDatetime(dt.UTC) == START
    changed = [e for e in client.events(events_pb2.CustodyChanged) if e.aggregate_id == item.id]
    assert [(e.message.step, e.message.sequence, e.aggregate_version) for e in changed] == [
        ("CHECK_IN", 1, 1), ("MOVE", 2, 2), ("DISPOSAL", 3, 3)]
    assert changed[-1].message == events_pb2.CustodyChanged(
        item_id=item.id, version=3, office_id="MH01", case_id=case_id, step="DISPOSAL", state="DISPOSED",
        location="罚没物品库 B-03", signed_by=officers, sequence=3, hash=full.trail_head)
    verified = client.custody.VerifyCustody(pb.VerifyCustodyRequest(item_id=item.id))
    assert verified.intact and verified.records_checked == 3
    in_store = client.custody.ListCustodyItems(pb.ListCustodyItemsRequest(filter="state = IN_STORE"))
    assert [i.id for i in in_store.items] == [unknown.id]


def test_a_closing_that_overtakes_the_filing_is_not_undone_by_it(client, officers):
    case_id = client.file_case(officers, deliver=False)
    client.close_case(case_id, deliver=False)
    [closed] = client.published("mobile_enforcement", me_events.CaseClosed)
    client.deliver(closed)
    client.settle()  # CaseFiled arrives after the closing: older, so ignored
    item = check_in(client, officers, case_id=case_id)
    assert dispose(client, item.id, officers).state == pb.CUSTODY_STATE_DISPOSED


def test_bad_custody_steps_are_refused_and_change_nothing(client, officers):
    client.office("MH02", "七宝市场监督管理所")
    client.officer("MH02-01", office_id="MH02")
    client.officer("MH01-04", expires=TODAY - dt.timedelta(days=1))
    for signed_by, code, field in [
        (["MH01-01"], INVALID, "signed_by"),
        (["MH01-01", "MH01-01"], INVALID, "signed_by[1]"),
        ([], INVALID, "signed_by"),
        (["MH01-01", "MH01-99"], INVALID, "signed_by[1]"),
        (["MH02-01", "MH01-01"], INVALID, "signed_by[0]"),
        (["MH01-01", "MH01-04"], PRECONDITION, "signed_by[1]"),
    ]:
        refused(client, lambda signed_by=signed_by: check_in(client, signed_by), code, field)
    for changes, field in [({"quantity": 0}, "quantity"), ({"description": ""}, "description"),
                           ({"case_id": "bad case"}, "case_id"), ({"unit": ""}, "unit"),
                           ({"location": ""}, "location")]:
        refused(client, lambda changes=changes: check_in(client, officers, **changes), INVALID, field)
    refused(client, lambda: check_in(client, officers, office_id="MH77"), NOT_FOUND, None)

    item = check_in(client, officers)
    client.renew_certificate("MH01-02", TODAY - dt.timedelta(days=3))
    refused(client, lambda: client.custody.Move(pb.MoveRequest(item_id=item.id, to_location="B-01",
                                                               signed_by=officers)), PRECONDITION, "signed_by[1]")
    refused(client, lambda: client.custody.Move(pb.MoveRequest(item_id=item.id, to_location="罚没物品库 A-01",
                                                               signed_by=["MH01-01", "MH01-03"])),
            INVALID, "to_location")
    refused(client, lambda: client.custody.Dispose(pb.DisposeRequest(item_id=item.id, signed_by=["MH01-01"])),
            INVALID, "method")
    refused(client, lambda: client.custody.Move(pb.MoveRequest(item_id="nope", to_location="B-01",
                                                               signed_by=["MH01-01", "MH01-03"])), NOT_FOUND, None)
    expect_error(lambda: client.custody.VerifyCustody(pb.VerifyCustodyRequest(item_id="nope")), NOT_FOUND)
    expect_error(lambda: client.custody.GetCustodyItem(pb.GetCustodyItemRequest(id="nope")), NOT_FOUND)
    assert "filter" in expect_error(lambda: client.custody.ListCustodyItems(
        pb.ListCustodyItemsRequest(filter="state = LOST")), INVALID)


def test_verify_custody_names_a_tampered_record(client, officers):
    items = [check_in(client, officers) for _ in range(3)]
    for item in items:
        for location in ("B-01", "C-02"):
            client.custody.Move(pb.MoveRequest(item_id=item.id, to_location=location, signed_by=officers))
    altered, cut, renumbered = (item.id for item in items)
    with client.running.store.transaction() as session:  # straight to the table, as a tamperer would
        record = session.scalar(select(CustodyRecord.record).where(CustodyRecord.chain_key == altered,
                                                                   CustodyRecord.sequence == 2))
        session.execute(update(CustodyRecord).where(CustodyRecord.chain_key == altered, CustodyRecord.sequence == 2)
                        .values(record=record.replace("B-01", "门卫室")))
        session.execute(delete(CustodyRecord).where(CustodyRecord.chain_key == cut, CustodyRecord.sequence == 3))
        session.execute(update(CustodyRecord).where(CustodyRecord.chain_key == renumbered,
                                                    CustodyRecord.sequence == 1).values(sequence=9))
    results = {item_id: client.custody.VerifyCustody(pb.VerifyCustodyRequest(item_id=item_id))
               for item_id in (altered, cut, renumbered)}
    assert (results[altered].intact, results[altered].broken_sequence, results[altered].problem) == (
        False, 2, pb.TRAIL_PROBLEM_CONTENT)
    assert results[altered].records_checked == 1 and "record 2" in results[altered].detail
    assert (results[cut].broken_sequence, results[cut].problem) == (3, pb.TRAIL_PROBLEM_TRUNCATED)
    assert (results[renumbered].broken_sequence, results[renumbered].problem) == (2, pb.TRAIL_PROBLEM_SEQUENCE)
    untouched = check_in(client, officers)
    assert client.custody.VerifyCustody(pb.VerifyCustodyRequest(item_id=untouched.id)).intact
