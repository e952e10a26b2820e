"""facilities' proto messages and its domain, each way: a request becomes a use case's input, a record
or view the use case returns becomes the message the contract promises. Nothing else happens here.

Enum numbers the contract does not know are refused here (INVALID_ARGUMENT naming the field), so a
use case only ever sees the domain's words ("POSITIVE", "IN_SERVICE").
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from services.common import hash_chain
from services.common.convert import date_from_proto, date_to_proto, enum_filter, enum_name
from services.common.errors import InvalidArgument
from services.common.paging import ListResult
from services.facilities.domain.custody import CHECK_IN, DISPOSAL, MOVE, CheckInInput, CustodyView
from services.facilities.domain.equipment import CategoryFigures, EquipmentInput, EquipmentView
from services.facilities.domain.rapid_tests import RapidTestInput, RapidTestView, SampleInput
from services.facilities.domain.reports import DailyNotice, MonthFigures, MonthReport
from services.facilities.domain.rooms import FourUnifiedInput, RoomCheckInput, RoomView
from services.facilities.models import FourUnifiedCheck, RoomCheck
from supervision.facilities.v1 import facilities_pb2 as pb

ASPECT = "FOUR_UNIFIED_ASPECT_"
STATUS = "EQUIPMENT_STATUS_"
ORIGIN = "TEST_ORIGIN_"
RESULT = "TEST_RESULT_"
STATE = "TEST_STATE_"
CUSTODY_STATE = "CUSTODY_STATE_"
METHOD = "DISPOSAL_METHOD_"
PROBLEMS = {hash_chain.CONTENT: pb.TRAIL_PROBLEM_CONTENT, hash_chain.LINK: pb.TRAIL_PROBLEM_LINK,
            hash_chain.SEQUENCE: pb.TRAIL_PROBLEM_SEQUENCE, hash_chain.TRUNCATED: pb.TRAIL_PROBLEM_TRUNCATED,
            # The contract has no value of its own for these: the stored hash cannot be confirmed; the
            # detail says why (no key id, or a key id this process does not hold).
            hash_chain.UNKEYED: pb.TRAIL_PROBLEM_CONTENT, hash_chain.UNKNOWN_KEY: pb.TRAIL_PROBLEM_CONTENT}
STEPS = {CHECK_IN: pb.CUSTODY_STEP_CHECK_IN, MOVE: pb.CUSTODY_STEP_MOVE, DISPOSAL: pb.CUSTODY_STEP_DISPOSAL}

# A List request's filter terms, as services.common.paging.parse_filter reads them.
Terms = Mapping[str, object]


def _timestamp(value: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(value)
    return message


def _instant(message: Message, field: str) -> dt.datetime | None:
    """A Timestamp field as an instant in UTC; None when unset."""
    if not message.HasField(field):
        return None
    try:
        return getattr(message, field).ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument.of(field, "is not a valid timestamp") from None


def day_of(message: Message, field: str) -> dt.date | None:
    """A Date field of a request as a day; None when unset."""
    return date_from_proto(getattr(message, field), field)


def _enum_term(terms: Terms, field: str, enum_type, prefix: str) -> str | None:
    """A filter term naming an enum value (with or without its prefix) as the domain's word."""
    return enum_filter(enum_type, str(terms[field]), field, prefix) if field in terms else None


# ---------------------------------------------------------------- rooms


def room_check_input(check: pb.RoomCheck) -> RoomCheckInput:
    """A RecordRoomCheck request's check as the Rooms use case takes it."""
    return RoomCheckInput(office_id=check.office_id, kind=check.kind, present=check.present, area_m2=check.area_m2,
                          requirements_met=list(check.requirements_met), findings=check.findings,
                          photo_refs=list(check.photo_refs), checked_by=check.checked_by,
                          checked_on=date_from_proto(check.checked_on, "check.checked_on"))


def four_unified_input(check: pb.FourUnifiedCheck) -> FourUnifiedInput:
    """A RecordFourUnifiedCheck request's check as the Rooms use case takes it."""
    return FourUnifiedInput(office_id=check.office_id,
                            aspect=enum_name(pb.FourUnifiedAspect, check.aspect, "check.aspect", ASPECT) or "",
                            passed=check.passed, findings=check.findings, photo_refs=list(check.photo_refs),
                            checked_by=check.checked_by,
                            checked_on=date_from_proto(check.checked_on, "check.checked_on"))


def aspect_term(terms: Terms) -> str | None:
    """The filter's aspect term as a 四统一 aspect."""
    return _enum_term(terms, "aspect", pb.FourUnifiedAspect, ASPECT)


def room_to_proto(view: RoomView) -> pb.Room:
    """A room with the requirements of today's standard, each marked met or not."""
    room, standard = view.room, view.standard
    met = set(room.requirements_met) if room.present else set()
    return pb.Room(
        office_id=room.office_id, kind=room.kind, name=standard.name if standard else room.kind, present=room.present,
        area_m2=room.area_m2, min_area_m2=standard.min_area_m2 if standard else 0.0,
        requirements=[pb.Requirement(code=r.code, text=r.text, met=r.code in met)
                      for r in (standard.requirements if standard else ())],
        compliant=room.compliant, problems=room.problems, last_checked_on=date_to_proto(room.last_checked_on),
        last_check_id=room.last_check_id or "", version=room.version)


def room_check_to_proto(check: RoomCheck) -> pb.RoomCheck:
    """A recorded room check with the judgement it got."""
    return pb.RoomCheck(id=check.id, office_id=check.office_id, kind=check.kind, present=check.present,
                        area_m2=check.area_m2, requirements_met=check.requirements_met, findings=check.findings,
                        photo_refs=check.photo_refs, checked_by=check.checked_by,
                        checked_on=date_to_proto(check.checked_on), compliant=check.compliant,
                        problems=check.problems, create_time=_timestamp(check.created_at))


def four_unified_to_proto(check: FourUnifiedCheck) -> pb.FourUnifiedCheck:
    """A recorded 四统一 check."""
    return pb.FourUnifiedCheck(id=check.id, office_id=check.office_id,
                               aspect=pb.FourUnifiedAspect.Value(ASPECT + check.aspect), passed=check.passed,
                               findings=check.findings, photo_refs=check.photo_refs, checked_by=check.checked_by,
                               checked_on=date_to_proto(check.checked_on), create_time=_timestamp(check.created_at))


def list_rooms_response(result: ListResult[RoomView]) -> pb.ListRoomsResponse:
    """A page of rooms."""
    return pb.ListRoomsResponse(rooms=[room_to_proto(v) for v in result.items], next_page_token=result.next_page_token)


def list_four_unified_response(result: ListResult[FourUnifiedCheck]) -> pb.ListFourUnifiedChecksResponse:
    """A page of 四统一 checks."""
    return pb.ListFourUnifiedChecksResponse(checks=[four_unified_to_proto(c) for c in result.items],
                                            next_page_token=result.next_page_token)


# ---------------------------------------------------------------- equipment


def equipment_input(item: pb.Equipment) -> EquipmentInput:
    """A RegisterEquipment request's device as the Inventory use case takes it."""
    return EquipmentInput(
        office_id=item.office_id, category=item.category, model=item.model, serial_no=item.serial_no,
        last_calibrated_on=date_from_proto(item.last_calibrated_on, "equipment.last_calibrated_on"),
        calibration_due=date_from_proto(item.calibration_due, "equipment.calibration_due"))


def equipment_status(request: pb.SetEquipmentStatusRequest) -> str:
    """The status a SetEquipmentStatus request asks for, in the domain's words."""
    return enum_name(pb.EquipmentStatus, request.status, "status", STATUS) or ""


def status_term(terms: Terms) -> str | None:
    """The filter's status term as an equipment status."""
    return _enum_term(terms, "status", pb.EquipmentStatus, STATUS)


def equipment_to_proto(view: EquipmentView) -> pb.Equipment:
    """A device with its category's name and whether it is in calibration today."""
    equipment = view.equipment
    return pb.Equipment(
        id=equipment.id, office_id=equipment.office_id, category=equipment.category,
        category_name=view.category_name, model=equipment.model, serial_no=equipment.serial_no,
        status=pb.EquipmentStatus.Value(STATUS + equipment.status), needs_calibration=equipment.needs_calibration,
        last_calibrated_on=date_to_proto(equipment.last_calibrated_on),
        calibration_due=date_to_proto(equipment.calibration_due), in_calibration=view.in_calibration,
        create_time=_timestamp(equipment.created_at), version=equipment.version)


def list_equipment_response(result: ListResult[EquipmentView]) -> pb.ListEquipmentResponse:
    """A page of devices."""
    return pb.ListEquipmentResponse(equipment=[equipment_to_proto(e) for e in result.items],
                                    next_page_token=result.next_page_token)


def configuration_to_proto(office_id: str, figures: Sequence[CategoryFigures]) -> pb.EquipmentConfiguration:
    """An office's equipment against the standard configuration, category by category."""
    return pb.EquipmentConfiguration(office_id=office_id, categories=[
        pb.CategoryConfiguration(category=f.category.code, name=f.category.name, required=f.category.per_office,
                                 held=f.held, usable=f.usable, complete=f.complete) for f in figures])


# ---------------------------------------------------------------- rapid tests


def rapid_test_input(request: pb.RecordTestRequest) -> RapidTestInput:
    """A RecordTest request as the RapidTests use case takes it."""
    sample = request.sample
    return RapidTestInput(
        office_id=request.office_id,
        origin=enum_name(pb.TestOrigin, request.origin, "origin", ORIGIN) or "",
        sample=SampleInput(name=sample.name, vendor_name=sample.vendor_name, vendor_uscc=sample.vendor_uscc,
                           market=sample.market, stall=sample.stall),
        item=request.item, method=request.method, equipment_id=request.equipment_id, reading=request.reading,
        result=enum_name(pb.TestResult, request.result, "result", RESULT, required=False),
        tested_at=_instant(request, "tested_at"))


def retest_result(request: pb.ConfirmResultRequest) -> str | None:
    """The re-test's result a ConfirmResult request carries; None when there was none."""
    return enum_name(pb.TestResult, request.retest_result, "retest_result", RESULT, required=False)


def test_state_term(terms: Terms) -> str | None:
    """The filter's state term as a rapid test's state."""
    return _enum_term(terms, "state", pb.TestState, STATE)


def tested_on_term(terms: Terms) -> dt.date | None:
    """The filter's tested_on term as a day."""
    if "tested_on" not in terms:
        return None
    raw = terms["tested_on"]
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidArgument.of("filter", f"tested_on: {raw!r} is not a date (YYYY-MM-DD)") from None


def test_to_proto(view: RapidTestView) -> pb.RapidTest:
    """A rapid test with its item's name, its state and its re-test window."""
    test = view.test
    return pb.RapidTest(
        id=test.id, office_id=test.office_id, origin=pb.TestOrigin.Value(ORIGIN + test.origin),
        sample=pb.Sample(name=test.sample_name, vendor_name=test.vendor_name, vendor_uscc=test.vendor_uscc,
                         market=test.market, stall=test.stall),
        item=test.item, item_name=view.item_name, method=test.method,
        equipment_id=test.equipment_id, reading=test.reading, unit=test.unit,
        result=pb.TestResult.Value(RESULT + test.result), state=pb.TestState.Value(STATE + test.state),
        tested_at=_timestamp(test.tested_at), retest_deadline=_timestamp(test.retest_deadline),
        retest_method=test.retest_method, retest_request_time=_timestamp(test.retest_requested_at),
        retest_result=pb.TestResult.Value(RESULT + test.retest_result) if test.retest_result else 0,
        confirm_time=_timestamp(test.confirmed_at), kg_destroyed=test.kg_destroyed, version=test.version)


def list_tests_response(result: ListResult[RapidTestView]) -> pb.ListTestsResponse:
    """A page of rapid tests."""
    return pb.ListTestsResponse(tests=[test_to_proto(t) for t in result.items], next_page_token=result.next_page_token)


def month_to_proto(figures: MonthFigures) -> pb.RoomMonth:
    """One office's (or the total's) month of rapid tests."""
    return pb.RoomMonth(office_id=figures.office_id, batches=figures.batches, passed=figures.passed,
                        failed=figures.failed, pending=figures.pending, kg_destroyed=figures.kg_destroyed,
                        pass_rate=figures.pass_rate)


def monthly_report_to_proto(year: int, month: int, report: MonthReport) -> pb.MonthlyReportResponse:
    """The monthly report: a row per office and the total."""
    return pb.MonthlyReportResponse(year=year, month=month, rooms=[month_to_proto(r) for r in report.rooms],
                                    total=month_to_proto(report.total))


def daily_notice_to_proto(notice: DailyNotice) -> pb.DailyNotice:
    """The day's notice (结果公示): a line per test and the counts the public reads."""
    lines = [pb.NoticeLine(sample_name=line.test.sample_name, vendor_name=line.test.vendor_name,
                           market=line.test.market, stall=line.test.stall, item_name=line.item_name,
                           state=pb.TestState.Value(STATE + line.test.state)) for line in notice.lines]
    return pb.DailyNotice(office_id=notice.office_id, day=date_to_proto(notice.day), lines=lines,
                          batches=len(notice.lines), passed=notice.passed, positive=len(notice.lines) - notice.passed)


# ---------------------------------------------------------------- custody


def check_in_input(request: pb.CheckInRequest) -> CheckInInput:
    """A CheckIn request as the Custody use case takes it."""
    return CheckInInput(office_id=request.office_id, case_id=request.case_id, description=request.description,
                        quantity=request.quantity, unit=request.unit, location=request.location,
                        signed_by=list(request.signed_by), note=request.note)


def disposal_method(request: pb.DisposeRequest) -> str:
    """How a Dispose request disposes of the goods, in the domain's words."""
    return enum_name(pb.DisposalMethod, request.method, "method", METHOD) or ""


def custody_state_term(terms: Terms) -> str | None:
    """The filter's state term as a custody item's state."""
    return _enum_term(terms, "state", pb.CustodyState, CUSTODY_STATE)


def custody_to_proto(view: CustodyView) -> pb.CustodyItem:
    """A custody item, with its trail when the view carries one."""
    item = view.item
    message = pb.CustodyItem(
        id=item.id, office_id=item.office_id, case_id=item.case_id, description=item.description,
        quantity=item.quantity, unit=item.unit, location=item.location,
        state=pb.CustodyState.Value(CUSTODY_STATE + item.state),
        disposal_method=pb.DisposalMethod.Value(METHOD + item.disposal_method) if item.disposal_method else 0,
        create_time=_timestamp(item.created_at), dispose_time=_timestamp(item.disposed_at),
        trail_length=item.trail_length, trail_head=item.trail_head, version=item.version)
    for entry in view.trail:
        record = entry.record
        trail = message.trail.add(
            sequence=entry.row.sequence, step=STEPS.get(str(record.get("step", "")), 0),
            location=str(record.get("location", "")),
            signed_by=[str(s) for s in record.get("signed_by", [])], note=str(record.get("note", "")),
            previous_hash=entry.row.previous_hash, hash=entry.row.hash)
        at = str(record.get("at", ""))
        if at:
            with contextlib.suppress(ValueError):  # an altered record; VerifyCustody names it
                trail.record_time.FromDatetime(dt.datetime.fromisoformat(at.replace("Z", "+00:00")))
    return message


def list_custody_items_response(result: ListResult[CustodyView]) -> pb.ListCustodyItemsResponse:
    """A page of custody items (without their trails)."""
    return pb.ListCustodyItemsResponse(items=[custody_to_proto(v) for v in result.items],
                                       next_page_token=result.next_page_token)


def verification_to_proto(item_id: str, result: hash_chain.Verification) -> pb.VerifyCustodyResponse:
    """Whether the item's trail is intact, and if not, the first step that was altered and how."""
    broken = result.first_break
    if broken is None:
        return pb.VerifyCustodyResponse(item_id=item_id, intact=True, records_checked=result.records_checked)
    return pb.VerifyCustodyResponse(item_id=item_id, intact=False, records_checked=result.records_checked,
                                    broken_sequence=broken.sequence, problem=PROBLEMS[broken.problem],
                                    detail=broken.detail)
