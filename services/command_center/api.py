"""command_center's gRPC servicers: each method calls one use case and maps through messages.py."""

from __future__ import annotations

from services.command_center import messages
from services.command_center.domain.duty_list import DutyList
from services.command_center.domain.officers import Officers
from services.command_center.domain.offices import Offices, OfficeView
from services.command_center.domain.tasks import Tasks
from services.command_center.domain.workspace import Workspace
from services.common.context import current_caller
from services.common.paging import parse_filter, parse_page
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc


class OfficeApi(pb_grpc.OfficeServiceServicer):
    def __init__(self, offices: Offices):
        self.offices = offices
        # GetOffice returns the domain's cached view object while it is valid; converting it once
        # per view instead of per call keeps the hot read cheap. Keyed by identity, view kept alive.
        self._protos: dict[int, tuple[OfficeView, pb.Office]] = {}

    def _proto(self, view: OfficeView) -> pb.Office:
        cached = self._protos.get(id(view))
        if cached is not None and cached[0] is view:
            return cached[1]
        if len(self._protos) >= 4096:
            self._protos.clear()
        message = messages.office_to_proto(view)
        self._protos[id(view)] = (view, message)
        return message

    def CreateOffice(self, request, context):
        view = self.offices.create_office(current_caller(), request.request_id, messages.office_input(request.office))
        return messages.office_to_proto(view)

    def GetOffice(self, request, context):
        return self._proto(self.offices.get_office(current_caller(), request.id))

    def ListOffices(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"district": str, "street": str})
        result = self.offices.list_offices(current_caller(), page, terms.get("district"), terms.get("street"))
        return messages.list_offices_response(result)

    def UpdateOffice(self, request, context):
        mask = messages.office_mask(request.update_mask)
        view = self.offices.update_office(current_caller(), messages.office_input(request.office), mask,
                                          request.expected_version)
        return messages.office_to_proto(view)


class OfficerApi(pb_grpc.OfficerServiceServicer):
    def __init__(self, officers: Officers, workspace: Workspace):
        self.officers = officers
        self.workspace = workspace  # today(), which a certificate's validity is shown for

    def RegisterOfficer(self, request, context):
        officer = self.officers.register_officer(current_caller(), request.request_id,
                                                 messages.officer_input(request.officer, group_required=True))
        return messages.officer_to_proto(officer, self.workspace.today())

    def GetOfficer(self, request, context):
        officer = self.officers.get_officer(current_caller(), request.id)
        return messages.officer_to_proto(officer, self.workspace.today())

    def UpdateOfficer(self, request, context):
        mask = messages.officer_mask(request.update_mask)
        data = messages.officer_input(request.officer, group_required="group" in mask, fields=mask)
        officer = self.officers.update_officer(current_caller(), data, mask, request.expected_version)
        return messages.officer_to_proto(officer, self.workspace.today())

    def ListOfficers(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "group": str, "certificate_valid": bool})
        result = self.officers.list_officers(current_caller(), page, terms.get("office_id"),
                                             messages.group_filter(terms), terms.get("certificate_valid"))
        return messages.list_officers_response(result, self.workspace.today())


class DutyListApi(pb_grpc.DutyListServiceServicer):
    def __init__(self, duty_list: DutyList):
        self.duty_list = duty_list

    def ImportDutyList(self, request, context):
        imported, total = self.duty_list.import_duty_list(current_caller(), request.request_id, request.content,
                                                          messages.file_format(request.format), request.replace)
        return pb.ImportDutyListResponse(imported_count=imported, total_count=total)

    def ListDutyItems(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"category": str, "responsible_level": str, "group": str,
                                              "applies_to": str, "office_id": str})
        result = self.duty_list.list_duty_items(page, terms.get("category"), messages.level_filter(terms),
                                                messages.group_filter(terms), terms.get("applies_to"),
                                                terms.get("office_id"))
        return messages.list_duty_items_response(result)


class TaskApi(pb_grpc.TaskServiceServicer):
    def __init__(self, tasks: Tasks):
        self.tasks = tasks

    def CreateTask(self, request, context):
        view = self.tasks.create_task(current_caller(), request.request_id, messages.task_input(request.task))
        return messages.task_to_proto(view)

    def GetTask(self, request, context):
        return messages.task_to_proto(self.tasks.get_task(current_caller(), request.id))

    def AcceptTask(self, request, context):
        return messages.task_to_proto(self.tasks.accept_task(current_caller(), request.id))

    def ReportTaskProgress(self, request, context):
        return messages.task_to_proto(self.tasks.report_progress(current_caller(), request.id, request.note))

    def CompleteTask(self, request, context):
        return messages.task_to_proto(self.tasks.complete_task(current_caller(), request.id, request.note))

    def ListTasks(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "state": str, "overdue": bool, "source": str})
        result = self.tasks.list_tasks(current_caller(), page, terms.get("office_id"), messages.state_filter(terms),
                                       terms.get("overdue"), terms.get("source"))
        return messages.list_tasks_response(result)
