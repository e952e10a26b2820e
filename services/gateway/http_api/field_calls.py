"""The field app's calls to mobile_enforcement, command_center and facilities: blocking gRPC (run them
with asyncio.to_thread), made with the caller's token so that the services apply the caller's rights,
and their refusals turned into the gateway's errors with Chinese first (services.gateway.domain.
field_messages). A version conflict (ABORTED) becomes Conflict carrying the inspection as it is now."""

from __future__ import annotations

import datetime as dt

import grpc
from google.protobuf import json_format

from services.common.clock import shanghai_today
from services.common.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from services.gateway.domain.field_messages import translated
from services.gateway.upstream import COMMAND_CENTER, Upstream, UpstreamUnavailable, _field_violations

MOBILE_ENFORCEMENT, FACILITIES = "mobile_enforcement", "facilities"
SERVICE_NAMES = {MOBILE_ENFORCEMENT: "移动执法", COMMAND_CENTER: "监管指挥中心", FACILITIES: "软硬设施"}
LIST_PAGE = 200
# The most pages of a list the app is shown at once (an office's officers, open tasks, checklists).
MAX_PAGES = 10
# Issuing or signing a document renders its PDF: far longer than a read (INDICATOR_SOURCE_TIMEOUT_SECONDS).
DOCUMENT_SECONDS = 60.0


class Conflict(Aborted):
    """Someone changed the record meanwhile (ABORTED): `current` is the inspection as it is now, or None."""

    def __init__(self, message: str, current: dict | None = None):
        super().__init__(message)
        self.current = current


def as_json(message) -> dict:
    """A proto message as the app reads it: field names as in the proto, enums by name, defaults included."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


def refusal(error: grpc.RpcError, service: str) -> Exception:
    """A service's refusal as the gateway's error; an outage as UpstreamUnavailable (503)."""
    code, details = error.code(), error.details() or ""
    name = SERVICE_NAMES.get(service, service)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument(f"{name}服务拒绝了请求，请检查填写的内容 / {service} refused the request: {details}",
                               translated(_field_violations(error)))
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(f"未找到 / not found: {details}")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied(f"无权操作：记录属于其他执法单位，或超出您的权限 / permission denied: {details}")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated(f"身份验证失败，请重新登录 / not authenticated: {details}")
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return FailedPrecondition(f"当前状态不允许此操作 / {details}", translated(_field_violations(error)))
    if code == grpc.StatusCode.ALREADY_EXISTS:
        return AlreadyExists(f"已经存在 / already exists: {details}")
    if code == grpc.StatusCode.ABORTED:
        return Conflict(f"记录已被他人修改，请查看最新内容后再提交 / changed meanwhile: {details}")
    return UpstreamUnavailable(f"{name}服务暂时不可用，请稍后再试 / {service} is unavailable ({code.name})")


class FieldServices:
    """The services' APIs the field app needs, for one caller (`authorization`: their bearer header,
    None for the gateway's own identity when AUTH_MODE=off)."""

    def __init__(self, upstream: Upstream, authorization: str | None):
        self.upstream = upstream
        self.authorization = authorization

    def _call(self, service: str, stub_name: str, method: str, request, timeout: float | None = None):
        if not self.upstream.has(service):
            raise UpstreamUnavailable(f"{SERVICE_NAMES.get(service, service)}服务未配置 / {service} is not configured")
        module = _stubs(service)
        try:
            return self.upstream.call(service, getattr(module, stub_name), method, request, timeout=timeout,
                                      authorization=self.authorization)
        except grpc.RpcError as error:
            raise refusal(error, service) from None

    def me(self, method: str, request):
        """One call to mobile_enforcement's InspectionService."""
        return self._call(MOBILE_ENFORCEMENT, "InspectionServiceStub", method, request)

    # ------------------------------------------------------------ command_center

    def officer(self, officer_id: str):
        """The Officer, or None when command_center knows none by that id."""
        from supervision.command_center.v1 import command_center_pb2 as pb

        try:
            return self._call(COMMAND_CENTER, "OfficerServiceStub", "GetOfficer", pb.GetOfficerRequest(id=officer_id))
        except NotFound:
            return None

    def office_name(self, office_id: str) -> str:
        """The office's name ("" when it cannot be read)."""
        from supervision.command_center.v1 import command_center_pb2 as pb

        try:
            return self._call(COMMAND_CENTER, "OfficeServiceStub", "GetOffice", pb.GetOfficeRequest(id=office_id)).name
        except (NotFound, PermissionDenied):
            return ""

    def officers(self, office_id: str = "") -> list:
        """The office's officers (every office's when empty)."""
        from supervision.command_center.v1 import command_center_pb2 as pb

        terms = f'office_id = "{_quoted(office_id)}"' if office_id else ""
        return self._pages(COMMAND_CENTER, "OfficerServiceStub", "ListOfficers",
                           lambda token: pb.ListOfficersRequest(page_size=LIST_PAGE, page_token=token, filter=terms),
                           "officers")

    def open_tasks(self, office_id: str) -> list:
        """The office's supervision tasks not yet completed."""
        from supervision.command_center.v1 import command_center_pb2 as pb

        tasks = self._pages(COMMAND_CENTER, "TaskServiceStub", "ListTasks",
                            lambda token: pb.ListTasksRequest(page_size=LIST_PAGE, page_token=token,
                                                              filter=f'office_id = "{_quoted(office_id)}"'), "tasks")
        return [task for task in tasks if task.state != pb.TASK_STATE_COMPLETED]

    # ------------------------------------------------------------ mobile_enforcement

    def inspection(self, inspection_id: str):
        """The Inspection."""
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        return self.me("GetInspection", pb.GetInspectionRequest(id=inspection_id))

    def acted(self, method: str, request, inspection_id: str):
        """An action on an inspection; a version conflict carries the inspection as it is now."""
        try:
            return self.me(method, request)
        except Conflict as conflict:
            try:
                conflict.current = as_json(self.inspection(inspection_id))
            except Exception:  # noqa: BLE001 - the conflict is the answer; the current state is a courtesy
                conflict.current = None
            raise conflict from None

    def assignments(self, office_id: str, officer_id: str):
        """The open inspections of the office for this officer (theirs and nobody's)."""
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        return self.me("ListAssignments", pb.ListAssignmentsRequest(office_id=office_id, officer_id=officer_id,
                                                                    page_size=LIST_PAGE)).assignments

    def entities(self, office_id: str, search: str, page_token: str):
        """A page of the office's entities, those matching `search` when given."""
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        terms = f'office_id = "{_quoted(office_id)}"' + (f' AND search = "{_quoted(search)}"' if search else "")
        return self._call(MOBILE_ENFORCEMENT, "EntityServiceStub", "ListEntities",
                          pb.ListEntitiesRequest(page_size=50, page_token=page_token, filter=terms))

    def checklists_in_force(self, today: dt.date | None = None) -> list:
        """Every category's checklist version in force today."""
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        today = today or shanghai_today()
        every = self._pages(MOBILE_ENFORCEMENT, "ChecklistServiceStub", "ListChecklists",
                            lambda token: pb.ListChecklistsRequest(page_size=LIST_PAGE, page_token=token), "checklists")
        in_force: dict[int, object] = {}
        for checklist in every:
            day = checklist.effective_from
            if day.year and dt.date(day.year, day.month, day.day) > today:
                continue
            held = in_force.get(checklist.category)
            if held is None or checklist.version > held.version:
                in_force[checklist.category] = checklist
        return [in_force[category] for category in sorted(in_force)]

    def document(self, method: str, request):
        """One call to mobile_enforcement's DocumentService."""
        return self._call(MOBILE_ENFORCEMENT, "DocumentServiceStub", method, request, timeout=DOCUMENT_SECONDS)

    # ------------------------------------------------------------ facilities

    def facilities(self, stub_name: str, method: str, request):
        """One call to facilities."""
        return self._call(FACILITIES, stub_name, method, request)

    def _pages(self, service: str, stub_name: str, method: str, make_request, field: str) -> list:
        found, token = [], ""
        for _ in range(MAX_PAGES):
            page = self._call(service, stub_name, method, make_request(token))
            found.extend(getattr(page, field))
            token = page.next_page_token
            if not token:
                break
        return found


def _quoted(value: str) -> str:
    """A value inside a filter's double quotes."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _stubs(service: str):
    if service == MOBILE_ENFORCEMENT:
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as module
    elif service == COMMAND_CENTER:
        from supervision.command_center.v1 import command_center_pb2_grpc as module
    else:
        from supervision.facilities.v1 import facilities_pb2_grpc as module
    return module
