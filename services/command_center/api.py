"""command_center's gRPC servicers: proto <-> domain, nothing more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from services.command_center.domain import offices
from services.command_center.domain.center import CommandCenter, TaskView
from services.command_center.domain.offices import (
    UPDATABLE_OFFICE_FIELDS,
    UPDATABLE_OFFICER_FIELDS,
    OfficeInput,
    OfficerInput,
    OfficeView,
)
from services.command_center.domain.tasks import TaskInput
from services.command_center.models import DutyItem, Officer
from services.common.context import current_caller
from services.common.convert import date_from_proto, date_to_proto, enum_filter, enum_name, update_paths
from services.common.paging import parse_filter, parse_page
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc

GROUP = "GROUP_KIND_"
LEVEL = "RESPONSIBLE_LEVEL_"
STATE = "TASK_STATE_"
FORMAT = "DUTY_FILE_FORMAT_"


def office_to_proto(view: OfficeView) -> pb.Office:
    office = view.office
    message = pb.Office(id=office.id, name=office.name, district=office.district, streets=view.streets,
                        version=office.version,
                        groups=[pb.Group(kind=pb.GroupKind.Value(GROUP + g.kind), name=g.name,
                                         officer_count=g.officer_count, certified_count=g.certified_count)
                                for g in view.groups])
    message.create_time.FromDatetime(office.created_at)
    message.update_time.FromDatetime(office.updated_at)
    return message


def officer_to_proto(officer: Officer, today: dt.date) -> pb.Officer:
    message = pb.Officer(id=officer.id, name=officer.name, office_id=officer.office_id,
                         group=pb.GroupKind.Value(GROUP + officer.group), certificate_no=officer.certificate_no,
                         certificate_expires=date_to_proto(officer.certificate_expires),
                         certificate_valid=offices.certificate_valid(officer, today),
                         version=officer.version)
    message.create_time.FromDatetime(officer.created_at)
    message.update_time.FromDatetime(officer.updated_at)
    return message


def task_to_proto(view: TaskView) -> pb.Task:
    task = view.task
    message = pb.Task(id=task.id, office_id=task.office_id, title=task.title, description=task.description,
                      source=task.source, source_ref=task.source_ref, due_date=date_to_proto(task.due_date),
                      state=pb.TaskState.Value(STATE + task.state), overdue=task.overdue, version=task.version,
                      completed_by=task.completed_by)
    message.create_time.FromDatetime(task.created_at)
    if task.completed_at:
        message.complete_time.FromDatetime(task.completed_at)
    for entry in view.progress:
        progress = message.progress.add(note=entry.note, reported_by=entry.reported_by)
        progress.report_time.FromDatetime(entry.reported_at)
    return message


def duty_item_to_proto(item: DutyItem) -> pb.DutyItem:
    return pb.DutyItem(code=item.code, title=item.title, category=item.category, legal_basis=item.legal_basis,
                       responsible_level=pb.ResponsibleLevel.Value(LEVEL + item.responsible_level),
                       group=pb.GroupKind.Value(GROUP + item.group) if item.group else 0)


def _office_input(message: pb.Office) -> OfficeInput:
    return OfficeInput(id=message.id, name=message.name, district=message.district, streets=list(message.streets))


def _officer_input(message: pb.Officer, *, group_required: bool, fields: Collection[str] = ()) -> OfficerInput:
    """`fields`: an update's mask; its other fields are ignored (AIP-134), so they are not read either."""
    read_date = not fields or "certificate_expires" in fields
    return OfficerInput(
        id=message.id, name=message.name, office_id=message.office_id,
        group=enum_name(pb.GroupKind, message.group, "officer.group", GROUP, required=group_required) or "",
        certificate_no=message.certificate_no.strip(),
        certificate_expires=date_from_proto(message.certificate_expires, "officer.certificate_expires")
        if read_date else None)


class OfficeApi(pb_grpc.OfficeServiceServicer):
    def __init__(self, center: CommandCenter):
        self.center = center
        # GetOffice returns the domain's cached view object while it is valid; converting it once
        # per view instead of per call keeps the hot read cheap. Keyed by identity, view kept alive.
        self._protos: dict[int, tuple[OfficeView, pb.Office]] = {}

    def _proto(self, view: OfficeView) -> pb.Office:
        cached = self._protos.get(id(view))
        if cached is not None and cached[0] is view:
            return cached[1]
        if len(self._protos) >= 4096:
            self._protos.clear()
        message = office_to_proto(view)
        self._protos[id(view)] = (view, message)
        return message

    def CreateOffice(self, request, context):
        view = self.center.create_office(current_caller(), request.request_id, _office_input(request.office))
        return office_to_proto(view)

    def GetOffice(self, request, context):
        return self._proto(self.center.get_office(current_caller(), request.id))

    def ListOffices(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"district": str, "street": str})
        result = self.center.list_offices(current_caller(), page, terms.get("district"), terms.get("street"))
        return pb.ListOfficesResponse(offices=[office_to_proto(v) for v in result.items],
                                      next_page_token=result.next_page_token)

    def UpdateOffice(self, request, context):
        mask = update_paths(request.update_mask, UPDATABLE_OFFICE_FIELDS)
        view = self.center.update_office(current_caller(), _office_input(request.office), mask,
                                         request.expected_version)
        return office_to_proto(view)


class OfficerApi(pb_grpc.OfficerServiceServicer):
    def __init__(self, center: CommandCenter):
        self.center = center

    def RegisterOfficer(self, request, context):
        officer = self.center.register_officer(current_caller(), request.request_id,
                                               _officer_input(request.officer, group_required=True))
        return officer_to_proto(officer, self.center.today())

    def GetOfficer(self, request, context):
        return officer_to_proto(self.center.get_officer(current_caller(), request.id), self.center.today())

    def UpdateOfficer(self, request, context):
        mask = update_paths(request.update_mask, UPDATABLE_OFFICER_FIELDS)
        data = _officer_input(request.officer, group_required="group" in mask, fields=mask)
        officer = self.center.update_officer(current_caller(), data, mask, request.expected_version)
        return officer_to_proto(officer, self.center.today())

    def ListOfficers(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "group": str, "certificate_valid": bool})
        group = enum_filter(pb.GroupKind, str(terms["group"]), "group", GROUP) if "group" in terms else None
        result = self.center.list_officers(current_caller(), page, terms.get("office_id"), group,
                                           terms.get("certificate_valid"))
        today = self.center.today()
        return pb.ListOfficersResponse(officers=[officer_to_proto(o, today) for o in result.items],
                                       next_page_token=result.next_page_token)


class DutyListApi(pb_grpc.DutyListServiceServicer):
    def __init__(self, center: CommandCenter):
        self.center = center

    def ImportDutyList(self, request, context):
        file_format = enum_name(pb.DutyFileFormat, request.format, "format", FORMAT)
        imported, total = self.center.import_duty_list(current_caller(), request.request_id, request.content,
                                                       file_format, request.replace)
        return pb.ImportDutyListResponse(imported_count=imported, total_count=total)

    def ListDutyItems(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"category": str, "responsible_level": str, "group": str})
        level = (enum_filter(pb.ResponsibleLevel, str(terms["responsible_level"]), "responsible_level", LEVEL)
                 if "responsible_level" in terms else None)
        group = enum_filter(pb.GroupKind, str(terms["group"]), "group", GROUP) if "group" in terms else None
        result = self.center.list_duty_items(page, terms.get("category"), level, group)
        return pb.ListDutyItemsResponse(items=[duty_item_to_proto(i) for i in result.items],
                                        next_page_token=result.next_page_token)


class TaskApi(pb_grpc.TaskServiceServicer):
    def __init__(self, center: CommandCenter):
        self.center = center

    def CreateTask(self, request, context):
        task = request.task
        data = TaskInput(office_id=task.office_id, title=task.title, description=task.description,
                         source=task.source or "bureau", source_ref=task.source_ref,
                         due_date=date_from_proto(task.due_date, "task.due_date", required=True))
        return task_to_proto(self.center.create_task(current_caller(), request.request_id, data))

    def GetTask(self, request, context):
        return task_to_proto(self.center.get_task(current_caller(), request.id))

    def AcceptTask(self, request, context):
        return task_to_proto(self.center.accept_task(current_caller(), request.id))

    def ReportTaskProgress(self, request, context):
        return task_to_proto(self.center.report_progress(current_caller(), request.id, request.note))

    def CompleteTask(self, request, context):
        return task_to_proto(self.center.complete_task(current_caller(), request.id, request.note))

    def ListTasks(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "state": str, "overdue": bool, "source": str})
        state = enum_filter(pb.TaskState, str(terms["state"]), "state", STATE) if "state" in terms else None
        result = self.center.list_tasks(current_caller(), page, terms.get("office_id"), state, terms.get("overdue"),
                                        terms.get("source"))
        return pb.ListTasksResponse(tasks=[task_to_proto(v) for v in result.items],
                                    next_page_token=result.next_page_token)
