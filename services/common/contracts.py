"""Event contracts: how a typed event message is written into an envelope and read back out.

Every event is a protobuf message of its publisher (protos/supervision/<publisher>/v1/events.proto).
The envelope's `type` is the message's full name and its `data` the message's proto3 JSON mapping
with the proto field names, so the outbox, the broker and a person reading either see the same
readable object. A consumer decodes with the message class its subscription names; fields it does
not know (a publisher one version ahead) are ignored, as protobuf's own evolution rules expect.

Events written before the contracts were typed carry the bare name ("OfficeRegistered") and the
publisher's own dictionary: services/common/legacy_events.py reads those into the same messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2

from services.common.errors import InvalidArgument

M = TypeVar("M", bound=Message)

# Outbox, inbox and dead-letter rows keep the type in a column of this width.
MAX_TYPE_NAME = 64


class UndecodableEvent(ValueError):
    """The envelope's data is not a valid instance of the subscription's message."""

    reason = "undecodable"


class UnknownEventType(UndecodableEvent):
    """The envelope names a type the subscription does not consume (nor its pre-contract name)."""

    reason = "unknown_type"


def type_name(message: Message | type[Message]) -> str:
    """The full protobuf name of an event message (the envelope's `type`)."""
    return message.DESCRIPTOR.full_name


def routing_key(event_type: str) -> str:
    """The broker's routing key (nameko's event type): the message's short name."""
    return event_type.rsplit(".", 1)[-1]


def encode(message: Message) -> dict[str, Any]:
    """The message's proto3 JSON mapping, with the proto field names (the envelope's `data`)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def decode(message_class: type[M], event_type: str, data: Any, *,
           legacy: Callable[[type[M], Any], M] | None = None) -> M:
    """The typed message an envelope carries. `legacy(message_class, data)` reads the pre-contract
    form; without it such an event is refused like any unknown type."""
    if event_type == type_name(message_class):
        if not isinstance(data, dict):
            raise UndecodableEvent(f"{event_type}: data is {type(data).__name__}, not an object")
        try:
            return json_format.ParseDict(data, message_class(), ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            raise UndecodableEvent(f"{event_type}: {exc}") from None
    if legacy is not None and event_type == message_class.DESCRIPTOR.name:
        return legacy(message_class, data)
    raise UnknownEventType(f"{event_type!r} is not {type_name(message_class)}")


# ---------------------------------------------------------------------- field helpers

def date_of(day: dt.date | None) -> date_pb2.Date | None:
    """A google.type.Date for a calendar day; None stays unset."""
    return date_pb2.Date(year=day.year, month=day.month, day=day.day) if day is not None else None


def day_of(message: date_pb2.Date, field: str = "date") -> dt.date | None:
    """The calendar day of a google.type.Date; None when it is unset (all zero). A day that does not
    exist (2027-02-30) is refused as InvalidArgument, so a consumer parks the event instead of
    failing on it at every redelivery."""
    if not (message.year and message.month and message.day):
        return None
    try:
        return dt.date(message.year, message.month, message.day)
    except ValueError:
        raise InvalidArgument.of(field, f"{message.year}-{message.month}-{message.day} is not a calendar day") from None


def timestamp_of(instant: dt.datetime | None) -> Timestamp | None:
    """A Timestamp for an aware instant; None stays unset."""
    if instant is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(instant.astimezone(dt.UTC))
    return stamp


def instant_of(message: Timestamp, present: bool = True) -> dt.datetime | None:
    """The aware UTC instant of a Timestamp; None when `present` is False (an unset field)."""
    if not present:
        return None
    return message.ToDatetime(tzinfo=dt.UTC)
