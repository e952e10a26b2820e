"""Bugs this suite found in services/* and that are not fixed yet.

Each has a test of its own marked xfail(strict=True) (named in `test`), which fails for as long as
the bug is there. The generated-request tests tolerate the bug's symptoms only while its
reproduction (`present`) still shows it in the service under test: once it is fixed the tolerance
lapses by itself, and a regression fails the suite again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from tests.reliability import stats
from tests.reliability.catalog import Method
from tests.reliability.district import District, walk

NUL = "\x00"


def has_nul(message: Message) -> bool:
    found = []

    def visit(m: Message) -> None:
        for field, value in m.ListFields():
            if field.type == FieldDescriptor.TYPE_STRING:
                values = list(value) if field.is_repeated else [value]
                if field.message_type is None and any(NUL in v for v in values if isinstance(v, str)):
                    found.append(field.name)
            elif field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry \
                    and any(isinstance(k, str) and NUL in k for k in value):
                found.append(field.name)

    walk(message, visit)
    return bool(found)


def with_nul_strings(method: Method) -> Message:
    """The method's request with every top-level string field (and repeated string) holding a NUL."""
    request = method.request_class()
    for field in method.input.fields:
        if field.type != FieldDescriptor.TYPE_STRING:
            continue
        if field.is_repeated:
            getattr(request, field.name).append("MH01\x00")
        else:
            setattr(request, field.name, "a\x00b")
    return request


def nul_answers(district: District, service: str) -> list[str]:
    """Methods of `service` that answer INTERNAL to strings holding U+0000."""
    target = district.targets[service]
    found = []
    for method in target.spec.methods:
        request = with_nul_strings(method)
        if request.ByteSize() == 0:
            continue
        outcome = target.call(method, request, district.leader.metadata)
        if outcome.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
            found.append(f"{method.path}: {outcome.code.name}")
    return found


def duplicate_task_source(district: District) -> grpc.StatusCode | None:
    """CreateTask for a source record that already has a task (a second bureau task with the same
    source_ref): the unique index refuses it, and the error reaches the caller as INTERNAL."""
    target = district.targets.get("command_center")
    if target is None:
        return None
    methods = {m.name: m for m in target.spec.methods}
    if "CreateTask" not in methods or "ListTasks" not in methods:
        return None
    listed = target.call(methods["ListTasks"], methods["ListTasks"].request_class(), district.leader.metadata)
    existing = next((t for t in (listed.response.tasks if listed.ok else []) if t.source_ref), None)
    if existing is None:
        return None
    request = methods["CreateTask"].request_class()
    request.task.CopyFrom(existing)
    request.task.ClearField("id")
    request.request_id = ""
    return target.call(methods["CreateTask"], request, district.leader.metadata).code


def replay_leaks(district: District, service: str, limit: int = 3) -> list[str]:
    """Creates made by the bureau leader for another office's records, then sent again with the same
    request_id by an office user of the first office: what the office user got back of them."""
    from tests.reliability.builders import plausible
    from tests.reliability.district import office_ids_in

    target = district.targets[service]
    harvest = district.harvest.snapshot()
    leaks = []
    for method in target.spec.methods:
        if method.server_streaming or "request_id" not in method.input.fields_by_name:
            continue
        offices = [o for o in harvest.offices() if o != district.own_office][:3]
        for request in [r for office in offices for r in plausible(method, harvest, office)[1:]]:
            first = target.call(method, request, district.leader.metadata)
            if not first.ok or not set().union(*(office_ids_in(m, district.own_office) for m in first.messages())):
                continue
            for role in ("office_head", "officer"):
                user = district.office_user(role)
                again = target.call(method, request, user.metadata)
                stats.count("access: create requests sent again (same request_id) by another office's user")
                shown = set().union(*(office_ids_in(m, user.office_id) for m in again.messages())) \
                    if again.ok else set()
                if shown:
                    leaks.append(f"{method.path}: {role} of {user.office_id} got the record of {sorted(shown)} "
                                 f"by sending its request_id again")
            break
        if len(leaks) >= limit:
            break
    return leaks


@dataclass(frozen=True)
class KnownBug:
    name: str
    test: str
    # Does this violation (of a generated request to `method`) look like the bug?
    matches: Callable[[Method, object], bool]
    # Is the bug still there in `service`?
    present: Callable[[District, str], bool]


KNOWN_BUGS = [
    KnownBug(
        "strings holding U+0000 reach PostgreSQL and come back INTERNAL",
        "tests/reliability/test_bad_input.py::test_strings_holding_nul_are_invalid_argument",
        lambda method, v: v.code in ("INTERNAL", "UNKNOWN") and has_nul(v.request),
        lambda district, service: bool(nul_answers(district, service)),
    ),
    KnownBug(
        "CreateTask for a source record that already has a task answers INTERNAL",
        "tests/reliability/test_bad_input.py::test_create_task_for_a_source_that_has_a_task_is_already_exists",
        lambda method, v: method.id == "command_center:TaskService.CreateTask" and v.code == "INTERNAL",
        lambda district, service: duplicate_task_source(district) == grpc.StatusCode.INTERNAL,
    ),
]

KNOWN_BUGS.append(KnownBug(
    "a request_id sent again returns the first result to any caller, whichever office it belongs to",
    "tests/reliability/test_access.py::test_a_request_id_sent_again_by_another_office_reveals_nothing",
    lambda method, v: v.rule == "office user was shown another office"
    and "request_id" in v.request.DESCRIPTOR.fields_by_name and bool(v.request.request_id),
    lambda district, service: bool(replay_leaks(district, service, limit=1)),
))

_presence: dict[tuple[str, str], bool] = {}


def tolerated_in(district: District, method: Method) -> Callable[[object], bool]:
    def tolerated(violation) -> bool:
        for bug in KNOWN_BUGS:
            if not bug.matches(method, violation):
                continue
            key = (bug.name, method.service)
            if key not in _presence:
                _presence[key] = bug.present(district, method.service)
            if _presence[key]:
                return True
        return False

    return tolerated
