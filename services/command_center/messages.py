"""command_center's messages: proto requests -> domain inputs, domain records -> proto."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from google.protobuf.field_mask_pb2 import FieldMask

from services.command_center.domain.officers import UPDATABLE_OFFICER_FIELDS, OfficerInput, certificate_valid
from services.command_center.domain.offices import UPDATABLE_OFFICE_FIELDS, OfficeInput, OfficeView
from services.command_center.domain.tasks import TaskInput, TaskView
from services.command_center.models import DutyItem, Officer
from services.common.convert import date_from_proto, date_to_proto, enum_filter, enum_name, update_paths
from services.common.paging import ListResult
from supervision.command_center.v1 import command_center_pb2 as pb

GROUP = "GROUP_KIND_"
LEVEL = "RESPONSIBLE_LEVEL_"
STATE = "TASK_STATE_"
FORMAT = "DUTY_FILE_FORMAT_"


def office_to_proto(view: OfficeView) -> pb.Office:
    office = view.office
    message = pb.Office(id=office.id, name=office.name, district=office.district, streets=view.streets,
                        version=office.version, duty_scopes=view.duty_scopes,
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
                         certificate_valid=certificate_valid(officer, today),
                         version=officer.version)
    message.create_time.FromDatetime(officer.created_at)
    message.update_time.FromDatetime(officer.updated_at)
    return message


def task_to_proto(view: TaskView) -> pb.Task:
    task = view.task
    message = pb.Task(id=task.id, office_id=task.office_id, title=task.title, description=task.description,
                      source=task.source, source_ref=task.source_ref, due_date=date_to_proto(task.due_date),
                      state=pb.TaskState.Value(STATE + task.state), overdue=task.overdue, version=task.version,
                      completed_by=task.completed_by, due_date_provisional=task.due_date_provisional)
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
                       group=pb.GroupKind.Value(GROUP + item.group) if item.group else 0,
                       applies_to=item.applies_to, placeholder=item.placeholder)


def office_input(message: pb.Office) -> OfficeInput:
    return OfficeInput(id=message.id, name=message.name, district=message.district, streets=list(message.streets),
                       duty_scopes=[scope.strip() for scope in message.duty_scopes])


def officer_input(message: pb.Officer, *, group_required: bool, fields: Collection[str] = ()) -> OfficerInput:
    """`fields`: an update's mask; its other fields are ignored (AIP-134), so they are not read either."""
    read_date = not fields or "certificate_expires" in fields
    return OfficerInput(
        id=message.id, name=message.name, office_id=message.office_id,
        group=enum_name(pb.GroupKind, message.group, "officer.group", GROUP, required=group_required) or "",
        certificate_no=message.certificate_no.strip(),
        certificate_expires=date_from_proto(message.certificate_expires, "officer.certificate_expires")
        if read_date else None)


def task_input(message: pb.Task) -> TaskInput:
    return TaskInput(office_id=message.office_id, title=message.title, description=message.description,
                     source=message.source or "bureau", source_ref=message.source_ref,
                     due_date=date_from_proto(message.due_date, "task.due_date", required=True))


def group_filter(terms: dict[str, object]) -> str | None:
    """The `group` term of a filter as the domain names it, None when absent."""
    return enum_filter(pb.GroupKind, str(terms["group"]), "group", GROUP) if "group" in terms else None


def level_filter(terms: dict[str, object]) -> str | None:
    """The `responsible_level` term of a filter as the domain names it, None when absent."""
    if "responsible_level" not in terms:
        return None
    return enum_filter(pb.ResponsibleLevel, str(terms["responsible_level"]), "responsible_level", LEVEL)


def state_filter(terms: dict[str, object]) -> str | None:
    """The `state` term of a filter as the domain names it, None when absent."""
    return enum_filter(pb.TaskState, str(terms["state"]), "state", STATE) if "state" in terms else None


def file_format(value: int) -> str:
    """The duty-list file format (CSV, YAML) a request names."""
    return enum_name(pb.DutyFileFormat, value, "format", FORMAT) or ""  # required: never None


def office_mask(mask: FieldMask) -> list[str]:
    """An UpdateOffice's mask as the office fields it names."""
    return update_paths(mask, UPDATABLE_OFFICE_FIELDS)


def officer_mask(mask: FieldMask) -> list[str]:
    """An UpdateOfficer's mask as the officer fields it names."""
    return update_paths(mask, UPDATABLE_OFFICER_FIELDS)


def list_offices_response(result: ListResult[OfficeView]) -> pb.ListOfficesResponse:
    return pb.ListOfficesResponse(offices=[office_to_proto(v) for v in result.items],
                                  next_page_token=result.next_page_token)


def list_officers_response(result: ListResult[Officer], today: dt.date) -> pb.ListOfficersResponse:
    return pb.ListOfficersResponse(officers=[officer_to_proto(o, today) for o in result.items],
                                   next_page_token=result.next_page_token)


def list_duty_items_response(result: ListResult[DutyItem]) -> pb.ListDutyItemsResponse:
    return pb.ListDutyItemsResponse(items=[duty_item_to_proto(i) for i in result.items],
                                    next_page_token=result.next_page_token)


def list_tasks_response(result: ListResult[TaskView]) -> pb.ListTasksResponse:
    return pb.ListTasksResponse(tasks=[task_to_proto(v) for v in result.items],
                                next_page_token=result.next_page_token)
