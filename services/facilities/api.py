"""facilities' gRPC servicers: proto <-> domain, nothing more."""

from __future__ import annotations

import contextlib
import datetime as dt

from google.protobuf import timestamp_pb2

from services.common import hash_chain
from services.common.context import current_caller
from services.common.convert import date_from_proto, date_to_proto, enum_filter, enum_name
from services.common.errors import InvalidArgument
from services.common.paging import parse_filter, parse_page
from services.facilities.domain.custody import CHECK_IN, DISPOSAL, MOVE, CheckInInput, Custody, CustodyView
from services.facilities.domain.equipment import EquipmentInput, Inventory, category_name, in_calibration
from services.facilities.domain.rapid_tests import RapidTesting, RapidTestInput, SampleInput
from services.facilities.domain.reports import MonthFigures, Reports
from services.facilities.domain.rooms import FourUnifiedInput, RoomCheckInput, Rooms, RoomView
from services.facilities.domain.workspace import Workspace
from services.facilities.models import Equipment, FourUnifiedCheck, RapidTest, RoomCheck
from supervision.facilities.v1 import facilities_pb2 as pb
from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc

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


def _timestamp(value: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(value)
    return message


def _instant_from_proto(message, field: str) -> dt.datetime | None:
    if not message.HasField(field):
        return None
    try:
        return getattr(message, field).ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument.of(field, "is not a valid timestamp") from None


def _date_filter(raw: object, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidArgument.of("filter", f"{field}: {raw!r} is not a date (YYYY-MM-DD)") from None


# ---------------------------------------------------------------- rooms


def room_to_proto(view: RoomView) -> pb.Room:
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
    return pb.RoomCheck(id=check.id, office_id=check.office_id, kind=check.kind, present=check.present,
                        area_m2=check.area_m2, requirements_met=check.requirements_met, findings=check.findings,
                        photo_refs=check.photo_refs, checked_by=check.checked_by,
                        checked_on=date_to_proto(check.checked_on), compliant=check.compliant,
                        problems=check.problems, create_time=_timestamp(check.created_at))


def four_unified_to_proto(check: FourUnifiedCheck) -> pb.FourUnifiedCheck:
    return pb.FourUnifiedCheck(id=check.id, office_id=check.office_id,
                               aspect=pb.FourUnifiedAspect.Value(ASPECT + check.aspect), passed=check.passed,
                               findings=check.findings, photo_refs=check.photo_refs, checked_by=check.checked_by,
                               checked_on=date_to_proto(check.checked_on), create_time=_timestamp(check.created_at))


class RoomApi(pb_grpc.RoomServiceServicer):
    def __init__(self, rooms: Rooms):
        self.rooms = rooms

    def ListRooms(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "kind": str, "compliant": bool})
        result = self.rooms.list_rooms(current_caller(), page, terms.get("office_id"), terms.get("kind"),
                                       terms.get("compliant"))
        return pb.ListRoomsResponse(rooms=[room_to_proto(v) for v in result.items],
                                    next_page_token=result.next_page_token)

    def RecordRoomCheck(self, request, context):
        check = request.check
        data = RoomCheckInput(office_id=check.office_id, kind=check.kind, present=check.present,
                              area_m2=check.area_m2, requirements_met=list(check.requirements_met),
                              findings=check.findings, photo_refs=list(check.photo_refs), checked_by=check.checked_by,
                              checked_on=date_from_proto(check.checked_on, "check.checked_on"))
        return room_check_to_proto(self.rooms.record_check(current_caller(), request.request_id, data))

    def RecordFourUnifiedCheck(self, request, context):
        check = request.check
        data = FourUnifiedInput(office_id=check.office_id,
                                aspect=enum_name(pb.FourUnifiedAspect, check.aspect, "check.aspect", ASPECT) or "",
                                passed=check.passed, findings=check.findings, photo_refs=list(check.photo_refs),
                                checked_by=check.checked_by,
                                checked_on=date_from_proto(check.checked_on, "check.checked_on"))
        return four_unified_to_proto(self.rooms.record_four_unified(current_caller(), request.request_id, data))

    def ListFourUnifiedChecks(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "aspect": str, "passed": bool})
        aspect = enum_filter(pb.FourUnifiedAspect, str(terms["aspect"]), "aspect", ASPECT) if "aspect" in terms \
            else None
        result = self.rooms.list_four_unified(current_caller(), page, terms.get("office_id"), aspect,
                                              terms.get("passed"))
        return pb.ListFourUnifiedChecksResponse(checks=[four_unified_to_proto(c) for c in result.items],
                                                next_page_token=result.next_page_token)


# ---------------------------------------------------------------- equipment


def equipment_to_proto(equipment: Equipment, workspace: Workspace) -> pb.Equipment:
    today = workspace.today()
    return pb.Equipment(
        id=equipment.id, office_id=equipment.office_id, category=equipment.category,
        category_name=category_name(workspace.standards.equipment.in_force(today), equipment.category),
        model=equipment.model, serial_no=equipment.serial_no,
        status=pb.EquipmentStatus.Value(STATUS + equipment.status), needs_calibration=equipment.needs_calibration,
        last_calibrated_on=date_to_proto(equipment.last_calibrated_on),
        calibration_due=date_to_proto(equipment.calibration_due), in_calibration=in_calibration(equipment, today),
        create_time=_timestamp(equipment.created_at), version=equipment.version)


class EquipmentApi(pb_grpc.EquipmentServiceServicer):
    def __init__(self, inventory: Inventory, workspace: Workspace):
        self.inventory = inventory
        self.workspace = workspace

    def RegisterEquipment(self, request, context):
        item = request.equipment
        data = EquipmentInput(
            office_id=item.office_id, category=item.category, model=item.model, serial_no=item.serial_no,
            last_calibrated_on=date_from_proto(item.last_calibrated_on, "equipment.last_calibrated_on"),
            calibration_due=date_from_proto(item.calibration_due, "equipment.calibration_due"))
        return equipment_to_proto(self.inventory.register(current_caller(), request.request_id, data), self.workspace)

    def GetEquipment(self, request, context):
        return equipment_to_proto(self.inventory.get(current_caller(), request.id), self.workspace)

    def RecordCalibration(self, request, context):
        equipment = self.inventory.record_calibration(
            current_caller(), request.equipment_id, date_from_proto(request.calibrated_on, "calibrated_on"),
            request.certificate_no, date_from_proto(request.calibration_due, "calibration_due"))
        return equipment_to_proto(equipment, self.workspace)

    def SetEquipmentStatus(self, request, context):
        status = enum_name(pb.EquipmentStatus, request.status, "status", STATUS) or ""
        return equipment_to_proto(self.inventory.set_status(current_caller(), request.id, status), self.workspace)

    def ListEquipment(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "category": str, "status": str,
                                              "in_calibration": bool})
        status = enum_filter(pb.EquipmentStatus, str(terms["status"]), "status", STATUS) if "status" in terms \
            else None
        result = self.inventory.list(current_caller(), page, terms.get("office_id"), terms.get("category"), status,
                                     terms.get("in_calibration"))
        return pb.ListEquipmentResponse(equipment=[equipment_to_proto(e, self.workspace) for e in result.items],
                                        next_page_token=result.next_page_token)

    def GetEquipmentConfiguration(self, request, context):
        figures = self.inventory.configuration(current_caller(), request.office_id)
        return pb.EquipmentConfiguration(office_id=request.office_id, categories=[
            pb.CategoryConfiguration(category=f.category.code, name=f.category.name, required=f.category.per_office,
                                     held=f.held, usable=f.usable, complete=f.complete) for f in figures])


# ---------------------------------------------------------------- rapid tests


def test_to_proto(test: RapidTest, workspace: Workspace) -> pb.RapidTest:
    item = workspace.standards.rapid_tests.in_force(test.tested_on).items.get(test.item)
    return pb.RapidTest(
        id=test.id, office_id=test.office_id, origin=pb.TestOrigin.Value(ORIGIN + test.origin),
        sample=pb.Sample(name=test.sample_name, vendor_name=test.vendor_name, vendor_uscc=test.vendor_uscc,
                         market=test.market, stall=test.stall),
        item=test.item, item_name=item.name if item else test.item, method=test.method,
        equipment_id=test.equipment_id, reading=test.reading, unit=test.unit,
        result=pb.TestResult.Value(RESULT + test.result), state=pb.TestState.Value(STATE + test.state),
        tested_at=_timestamp(test.tested_at), retest_deadline=_timestamp(test.retest_deadline),
        retest_method=test.retest_method, retest_request_time=_timestamp(test.retest_requested_at),
        retest_result=pb.TestResult.Value(RESULT + test.retest_result) if test.retest_result else 0,
        confirm_time=_timestamp(test.confirmed_at), kg_destroyed=test.kg_destroyed, version=test.version)


def month_to_proto(figures: MonthFigures) -> pb.RoomMonth:
    return pb.RoomMonth(office_id=figures.office_id, batches=figures.batches, passed=figures.passed,
                        failed=figures.failed, pending=figures.pending, kg_destroyed=figures.kg_destroyed,
                        pass_rate=figures.pass_rate)


class RapidTestApi(pb_grpc.RapidTestServiceServicer):
    def __init__(self, testing: RapidTesting, reports: Reports, workspace: Workspace):
        self.testing = testing
        self.reports = reports
        self.workspace = workspace

    def RecordTest(self, request, context):
        sample = request.sample
        data = RapidTestInput(
            office_id=request.office_id,
            origin=enum_name(pb.TestOrigin, request.origin, "origin", ORIGIN) or "",
            sample=SampleInput(name=sample.name, vendor_name=sample.vendor_name, vendor_uscc=sample.vendor_uscc,
                               market=sample.market, stall=sample.stall),
            item=request.item, method=request.method, equipment_id=request.equipment_id, reading=request.reading,
            result=enum_name(pb.TestResult, request.result, "result", RESULT, required=False),
            tested_at=_instant_from_proto(request, "tested_at"))
        return test_to_proto(self.testing.record(current_caller(), request.request_id, data), self.workspace)

    def GetTest(self, request, context):
        return test_to_proto(self.testing.get(current_caller(), request.id), self.workspace)

    def RequestRetest(self, request, context):
        test = self.testing.request_retest(current_caller(), request.test_id, request.retest_method)
        return test_to_proto(test, self.workspace)

    def ConfirmResult(self, request, context):
        retest_result = enum_name(pb.TestResult, request.retest_result, "retest_result", RESULT, required=False)
        test = self.testing.confirm(current_caller(), request.test_id, retest_result, request.retest_waived,
                                    request.kg_destroyed)
        return test_to_proto(test, self.workspace)

    def ListTests(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "item": str, "state": str, "tested_on": str})
        state = enum_filter(pb.TestState, str(terms["state"]), "state", STATE) if "state" in terms else None
        tested_on = _date_filter(terms["tested_on"], "tested_on") if "tested_on" in terms else None
        result = self.testing.list(current_caller(), page, terms.get("office_id"), terms.get("item"), state,
                                   tested_on)
        return pb.ListTestsResponse(tests=[test_to_proto(t, self.workspace) for t in result.items],
                                    next_page_token=result.next_page_token)

    def MonthlyReport(self, request, context):
        report = self.reports.monthly(current_caller(), request.office_id, request.year, request.month)
        return pb.MonthlyReportResponse(year=request.year, month=request.month,
                                        rooms=[month_to_proto(r) for r in report.rooms],
                                        total=month_to_proto(report.total))

    def GetDailyNotice(self, request, context):
        notice = self.reports.daily_notice(current_caller(), request.office_id, date_from_proto(request.day, "day"))
        lines = []
        for test in notice.lines:
            item = self.workspace.standards.rapid_tests.in_force(test.tested_on).items.get(test.item)
            lines.append(pb.NoticeLine(sample_name=test.sample_name, vendor_name=test.vendor_name, market=test.market,
                                       stall=test.stall, item_name=item.name if item else test.item,
                                       state=pb.TestState.Value(STATE + test.state)))
        return pb.DailyNotice(office_id=notice.office_id, day=date_to_proto(notice.day), lines=lines,
                              batches=len(notice.lines), passed=notice.passed,
                              positive=len(notice.lines) - notice.passed)


# ---------------------------------------------------------------- custody


def custody_to_proto(view: CustodyView) -> pb.CustodyItem:
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


class CustodyApi(pb_grpc.CustodyServiceServicer):
    def __init__(self, custody: Custody):
        self.custody = custody

    def CheckIn(self, request, context):
        data = CheckInInput(office_id=request.office_id, case_id=request.case_id, description=request.description,
                            quantity=request.quantity, unit=request.unit, location=request.location,
                            signed_by=list(request.signed_by), note=request.note)
        return custody_to_proto(self.custody.check_in(current_caller(), request.request_id, data))

    def Move(self, request, context):
        return custody_to_proto(self.custody.move(current_caller(), request.item_id, request.to_location,
                                                  list(request.signed_by), request.note))

    def Dispose(self, request, context):
        method = enum_name(pb.DisposalMethod, request.method, "method", METHOD) or ""
        return custody_to_proto(self.custody.dispose(current_caller(), request.item_id, method,
                                                     list(request.signed_by), request.note))

    def GetCustodyItem(self, request, context):
        return custody_to_proto(self.custody.get(current_caller(), request.id))

    def ListCustodyItems(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "case_id": str, "state": str})
        state = enum_filter(pb.CustodyState, str(terms["state"]), "state", CUSTODY_STATE) if "state" in terms \
            else None
        result = self.custody.list(current_caller(), page, terms.get("office_id"), terms.get("case_id"), state)
        return pb.ListCustodyItemsResponse(items=[custody_to_proto(v) for v in result.items],
                                           next_page_token=result.next_page_token)

    def VerifyCustody(self, request, context):
        result = self.custody.verify(current_caller(), request.item_id)
        broken = result.first_break
        if broken is None:
            return pb.VerifyCustodyResponse(item_id=request.item_id, intact=True,
                                            records_checked=result.records_checked)
        return pb.VerifyCustodyResponse(item_id=request.item_id, intact=False, records_checked=result.records_checked,
                                        broken_sequence=broken.sequence,
                                        problem=PROBLEMS[broken.problem],
                                        detail=broken.detail)

