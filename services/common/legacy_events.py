"""Reading events written before the contracts were typed (upgrade in place).

Until the contracts, an event's `type` was its bare name ("OfficeRegistered") and its `data` a
dictionary the publisher wrote by hand. Such events may still sit in outboxes (published after the
upgrade as they are), in queues, or come back from a dead letter; consumers read them into the
same typed message as a new event, with the effect the event had before the upgrade.

The old dictionaries used, for most fields, the names the messages now have; this module fills a
message field by field from them, converting ISO dates and instants, and applies what differs per
event type (renamed keys, officer credit and timeliness derived the way the consumers used to
derive them). A value of the wrong kind makes the event undecodable: it is parked, not guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.common.clock import shanghai_date
from services.common.contracts import UndecodableEvent, date_of, timestamp_of, type_name
from services.common.scoring_messages import scheme_message_from_dict
from supervision.common.v1.events_pb2 import StatutoryClock

# Who did the work when no officer did: never credited to an officer.
SYSTEM_SUBJECTS = frozenset({"", "system"})

# Per message: field -> the key the pre-contract dictionary used for it.
_RENAMED: dict[str, dict[str, str]] = {}
# Per message: what the pre-contract form implied beyond its keys. The message is Any: each derivation
# is registered for one event type by its full name and reads and writes that type's own fields.
Derivation = Callable[[Any, dict[str, Any], dt.datetime], None]
_DERIVED: dict[str, Derivation] = {}


def upgrade(message_class: type[Message], data: Any, *, aggregate_id: str = "", version: int = 0,
            office_id: str = "", time: dt.datetime | None = None) -> Message:
    """The typed message for a pre-contract event's data. The envelope's aggregate id, version and
    office fill the message's own fields of that meaning when the dictionary lacks them."""
    if not isinstance(data, dict):
        raise UndecodableEvent(f"{message_class.DESCRIPTOR.name}: data is {type(data).__name__}, not an object")
    name = type_name(message_class)
    renamed = _RENAMED.get(name, {})
    message = message_class()
    # The same message, its fields looked up by name on whichever event type this is.
    named: Any = message
    try:
        _fill(message, data, renamed)
        first = message.DESCRIPTOR.fields[0]
        if first.type == FieldDescriptor.TYPE_STRING and not getattr(message, first.name):
            setattr(message, first.name, aggregate_id)
        fields = message.DESCRIPTOR.fields_by_name
        if "version" in fields and not named.version:
            named.version = version
        if "office_id" in fields and not named.office_id:
            named.office_id = office_id
        derive = _DERIVED.get(name)
        if derive is not None:
            derive(named, data, time or dt.datetime.now(dt.UTC))
    except (TypeError, ValueError, AttributeError) as exc:
        raise UndecodableEvent(f"{message_class.DESCRIPTOR.name} (pre-contract form): {exc}") from None
    return message


def _fill(message: Message, data: dict[str, Any], renamed: dict[str, str]) -> None:
    for field in message.DESCRIPTOR.fields:
        key = renamed.get(field.name, field.name)
        value = data.get(key)
        if value is None or (value == "" and field.type != FieldDescriptor.TYPE_STRING):
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            if not isinstance(value, dict):
                raise TypeError(f"{key} must be an object")
            target = getattr(message, field.name)
            for map_key, map_value in value.items():
                target[str(map_key)] = _scalar(field.message_type.fields_by_name["value"].type, map_value, key)
        elif field.is_repeated:
            items = value
            if not isinstance(items, list | tuple):
                raise TypeError(f"{key} must be a list")
            target = getattr(message, field.name)
            for item in items:
                if field.message_type is not None:
                    _fill_message(target.add(), item, key)
                elif item not in ("", None):
                    target.append(_scalar(field.type, item, key))
        elif field.message_type is not None:
            _fill_message(getattr(message, field.name), value, key)
        else:
            setattr(message, field.name, _scalar(field.type, value, key))


def _fill_message(target: Message, value: Any, key: str) -> None:
    name = target.DESCRIPTOR.full_name
    if name == "google.type.Date":
        day = date_of(dt.date.fromisoformat(str(value)))
        if day is not None:  # always: date_of gives None only for None
            target.CopyFrom(day)
    elif name == "google.protobuf.Timestamp":
        instant = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if instant.tzinfo is None:
            raise ValueError(f"{key}: an instant needs its zone")
        stamp = timestamp_of(instant)
        if stamp is not None:  # always: timestamp_of gives None only for None
            target.CopyFrom(stamp)
    elif isinstance(value, dict):
        _fill(target, value, {})
    else:
        raise TypeError(f"{key} must be an object")


def _scalar(kind: int, value: Any, key: str) -> Any:
    """`value` as a field of this FieldDescriptor.TYPE_* takes it (Any: str, bool, int or float by `kind`)."""
    if kind == FieldDescriptor.TYPE_STRING:
        if isinstance(value, dict | list):
            raise TypeError(f"{key} must be text")
        return str(value)
    if kind == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise TypeError(f"{key} must be true or false")
        return value
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_UINT64,
                FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SINT32):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise TypeError(f"{key} must be an integer")
        return int(value)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        if isinstance(value, bool):
            raise TypeError(f"{key} must be a number")
        return float(value)
    raise TypeError(f"{key}: unsupported field kind {kind}")


# ---------------------------------------------------------------------- per event type

def _renames(full_name: str, **fields: str) -> None:
    _RENAMED[full_name] = fields


def _derives(full_name: str) -> Callable[[Derivation], Derivation]:
    def register(function: Derivation) -> Derivation:
        _DERIVED[full_name] = function
        return function

    return register


def _credit(message: Any, subject: object) -> None:
    """The pre-contract consumers credited whoever the event named as having done the work."""
    if isinstance(subject, str) and subject.strip() not in SYSTEM_SUBJECTS and not message.officer_ids:
        message.officer_ids.append(subject.strip())


# Offices, officers, tasks and plans used "id" for their own id.
for _name, _field in (("supervision.command_center.v1.OfficeRegistered", "office_id"),
                      ("supervision.command_center.v1.OfficeUpdated", "office_id"),
                      ("supervision.command_center.v1.OfficerRegistered", "officer_id"),
                      ("supervision.command_center.v1.OfficerUpdated", "officer_id"),
                      ("supervision.command_center.v1.TaskAssigned", "task_id"),
                      ("supervision.command_center.v1.TaskOverdue", "task_id"),
                      ("supervision.command_center.v1.TaskCompleted", "task_id"),
                      ("supervision.assessment.v1.ImprovementOpened", "plan_id"),
                      ("supervision.assessment.v1.ImprovementUpdated", "plan_id"),
                      ("supervision.assessment.v1.ImprovementCompleted", "plan_id"),
                      ("supervision.assessment.v1.ImprovementVerified", "plan_id"),
                      ("supervision.assessment.v1.ImprovementOverdue", "plan_id")):
    _renames(_name, **{_field: "id"})
_renames("supervision.mobile_enforcement.v1.PublicationOverdue", record_id="case_id")
_renames("supervision.facilities.v1.RoomNonCompliant", room_key="key")


@_derives("supervision.command_center.v1.TaskCompleted")
def _task_completed(message: Any, data: dict[str, Any], time: dt.datetime) -> None:
    _credit(message, data.get("completed_by"))
    message.completed_on.CopyFrom(date_of(shanghai_date(time)))
    if message.HasField("due_date"):
        message.clocks.append(StatutoryClock(clock="due_date", due_date=message.due_date, met=not message.overdue))


@_derives("supervision.complaints.v1.ComplaintResolved")
def _complaint_resolved(message: Any, data: dict[str, Any], time: dt.datetime) -> None:
    _credit(message, data.get("handled_by"))
    message.resolved_on.CopyFrom(date_of(shanghai_date(time)))


@_derives("supervision.mobile_enforcement.v1.InspectionCompleted")
def _inspection_completed(message: Any, data: dict[str, Any], time: dt.datetime) -> None:
    message.completed_on.CopyFrom(date_of(shanghai_date(time)))


@_derives("supervision.mobile_enforcement.v1.CaseClosed")
def _case_closed(message: Any, data: dict[str, Any], time: dt.datetime) -> None:
    message.closed_on.CopyFrom(date_of(shanghai_date(time)))


@_derives("supervision.mobile_enforcement.v1.PublicationOverdue")
def _publication_overdue(message: Any, data: dict[str, Any], time: dt.datetime) -> None:
    if not data.get("case_id") and data.get("inspection_id"):
        message.record_id = str(data["inspection_id"])


@_derives("supervision.assessment.v1.SchemeUpdated")
def _scheme_updated(message: Any, data: dict[str, Any], time: dt.datetime) -> None:
    """The old SchemeUpdated was the scheme's own dictionary (scoring.Scheme.to_dict), flat."""
    message.scheme.CopyFrom(scheme_message_from_dict(data))
