"""facilities' gRPC servicers: each method calls one use case as the current caller and maps its
request and answer through messages.py."""

from __future__ import annotations

from services.common.context import current_caller
from services.common.paging import parse_filter, parse_page
from services.facilities import messages
from services.facilities.domain.custody import Custody
from services.facilities.domain.equipment import Inventory
from services.facilities.domain.rapid_tests import RapidTests
from services.facilities.domain.reports import Reports
from services.facilities.domain.rooms import Rooms
from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc


class RoomApi(pb_grpc.RoomServiceServicer):
    def __init__(self, rooms: Rooms):
        self.rooms = rooms

    def ListRooms(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "kind": str, "compliant": bool})
        result = self.rooms.list_rooms(current_caller(), page, terms.get("office_id"), terms.get("kind"),
                                       terms.get("compliant"))
        return messages.list_rooms_response(result)

    def RecordRoomCheck(self, request, context):
        check = self.rooms.record_check(current_caller(), request.request_id, messages.room_check_input(request.check))
        return messages.room_check_to_proto(check)

    def RecordFourUnifiedCheck(self, request, context):
        check = self.rooms.record_four_unified(current_caller(), request.request_id,
                                               messages.four_unified_input(request.check))
        return messages.four_unified_to_proto(check)

    def ListFourUnifiedChecks(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "aspect": str, "passed": bool})
        aspect = messages.aspect_term(terms)
        result = self.rooms.list_four_unified(current_caller(), page, terms.get("office_id"), aspect,
                                              terms.get("passed"))
        return messages.list_four_unified_response(result)


class EquipmentApi(pb_grpc.EquipmentServiceServicer):
    def __init__(self, inventory: Inventory):
        self.inventory = inventory

    def RegisterEquipment(self, request, context):
        equipment = self.inventory.register(current_caller(), request.request_id,
                                            messages.equipment_input(request.equipment))
        return messages.equipment_to_proto(equipment)

    def GetEquipment(self, request, context):
        return messages.equipment_to_proto(self.inventory.get(current_caller(), request.id))

    def RecordCalibration(self, request, context):
        equipment = self.inventory.record_calibration(
            current_caller(), request.equipment_id, messages.day_of(request, "calibrated_on"), request.certificate_no,
            messages.day_of(request, "calibration_due"))
        return messages.equipment_to_proto(equipment)

    def SetEquipmentStatus(self, request, context):
        equipment = self.inventory.set_status(current_caller(), request.id, messages.equipment_status(request))
        return messages.equipment_to_proto(equipment)

    def ListEquipment(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "category": str, "status": str,
                                              "in_calibration": bool})
        status = messages.status_term(terms)
        result = self.inventory.list(current_caller(), page, terms.get("office_id"), terms.get("category"), status,
                                     terms.get("in_calibration"))
        return messages.list_equipment_response(result)

    def GetEquipmentConfiguration(self, request, context):
        figures = self.inventory.configuration(current_caller(), request.office_id)
        return messages.configuration_to_proto(request.office_id, figures)


class RapidTestApi(pb_grpc.RapidTestServiceServicer):
    def __init__(self, rapid_tests: RapidTests, reports: Reports):
        self.rapid_tests = rapid_tests
        self.reports = reports

    def RecordTest(self, request, context):
        test = self.rapid_tests.record(current_caller(), request.request_id, messages.rapid_test_input(request))
        return messages.test_to_proto(test)

    def GetTest(self, request, context):
        return messages.test_to_proto(self.rapid_tests.get(current_caller(), request.id))

    def RequestRetest(self, request, context):
        test = self.rapid_tests.request_retest(current_caller(), request.test_id, request.retest_method)
        return messages.test_to_proto(test)

    def ConfirmResult(self, request, context):
        test = self.rapid_tests.confirm(current_caller(), request.test_id, messages.retest_result(request),
                                        request.retest_waived, request.kg_destroyed)
        return messages.test_to_proto(test)

    def ListTests(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "item": str, "state": str, "tested_on": str})
        state, tested_on = messages.test_state_term(terms), messages.tested_on_term(terms)
        result = self.rapid_tests.list(current_caller(), page, terms.get("office_id"), terms.get("item"), state,
                                       tested_on)
        return messages.list_tests_response(result)

    def MonthlyReport(self, request, context):
        report = self.reports.monthly(current_caller(), request.office_id, request.year, request.month)
        return messages.monthly_report_to_proto(request.year, request.month, report)

    def GetDailyNotice(self, request, context):
        notice = self.reports.daily_notice(current_caller(), request.office_id, messages.day_of(request, "day"))
        return messages.daily_notice_to_proto(notice)


class CustodyApi(pb_grpc.CustodyServiceServicer):
    def __init__(self, custody: Custody):
        self.custody = custody

    def CheckIn(self, request, context):
        return messages.custody_to_proto(self.custody.check_in(current_caller(), request.request_id,
                                                               messages.check_in_input(request)))

    def Move(self, request, context):
        return messages.custody_to_proto(self.custody.move(current_caller(), request.item_id, request.to_location,
                                                           list(request.signed_by), request.note))

    def Dispose(self, request, context):
        return messages.custody_to_proto(self.custody.dispose(current_caller(), request.item_id,
                                                              messages.disposal_method(request),
                                                              list(request.signed_by), request.note))

    def GetCustodyItem(self, request, context):
        return messages.custody_to_proto(self.custody.get(current_caller(), request.id))

    def ListCustodyItems(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "case_id": str, "state": str})
        state = messages.custody_state_term(terms)
        result = self.custody.list(current_caller(), page, terms.get("office_id"), terms.get("case_id"), state)
        return messages.list_custody_items_response(result)

    def VerifyCustody(self, request, context):
        return messages.verification_to_proto(request.item_id, self.custody.verify(current_caller(), request.item_id))
