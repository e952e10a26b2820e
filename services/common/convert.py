"""Conversions between protobuf well-known/common types and Python values, validated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from google.protobuf import field_mask_pb2, unknown_fields
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2

from services.common.errors import InvalidArgument, Violations

# AIP-134: a mask of exactly "*" replaces every updatable field.
FULL_REPLACEMENT = "*"


def date_from_proto(value: date_pb2.Date, field: str, *, required: bool = False) -> dt.date | None:
    """A google.type.Date as a calendar day; None when unset; INVALID_ARGUMENT naming `field` when no such day."""
    if value.year == 0 and value.month == 0 and value.day == 0:
        if required:
            raise InvalidArgument.of(field, "required")
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidArgument.of(field, f"{value.year:04d}-{value.month:02d}-{value.day:02d} is not a date") from None


def timestamp_from_proto(message: Message, name: str, field: str) -> dt.datetime | None:
    """message.<name> as an aware UTC datetime; None when unset; INVALID_ARGUMENT when out of range."""
    if not message.HasField(name):
        return None
    stamp: Timestamp = getattr(message, name)
    try:
        return stamp.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument.of(field, "is not a valid timestamp") from None


def date_to_proto(value: dt.date | None) -> date_pb2.Date:
    """A calendar day as a google.type.Date; None as the unset (all-zero) date."""
    if value is None:
        return date_pb2.Date()
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def enum_name(enum_type: EnumTypeWrapper, value: int, field: str, prefix: str, *, required: bool = True) -> str | None:
    """GROUP_KIND_GENERAL -> "GENERAL"; unspecified or unknown numbers -> INVALID_ARGUMENT (or None)."""
    if value == 0:
        if required:
            raise InvalidArgument.of(field, "required")
        return None
    try:
        name = enum_type.Name(value)
    except ValueError:
        raise InvalidArgument.of(field, f"unknown value {value}") from None
    return name.removeprefix(prefix)


def enum_filter(enum_type: EnumTypeWrapper, raw: str, field: str, prefix: str) -> str:
    """A filter term naming an enum value, with or without its prefix."""
    name = raw if raw.startswith(prefix) else prefix + raw
    try:
        enum_type.Value(name)
    except ValueError:
        raise InvalidArgument.of("filter", f"{field}: unknown value {raw!r}") from None
    if name.endswith("_UNSPECIFIED"):
        raise InvalidArgument.of("filter", f"{field}: {raw} is not a value to filter on")
    return name.removeprefix(prefix)


def update_paths(mask: field_mask_pb2.FieldMask, updatable: Sequence[str], field: str = "update_mask") -> list[str]:
    """The fields an Update request changes: its mask's paths, or all of `updatable` for an empty mask or "*".

    Checked before the store is read, so a malformed request is INVALID_ARGUMENT whether or not the
    record exists, and nothing is changed. Paths are relative to the resource (AIP-134): "name", not
    "office.name"; JSON clients may write them in lowerCamelCase, which the JSON mapping turns into these.
    """
    if len(unknown_fields.UnknownFieldSet(mask)):
        # A client built on the old contract (update_mask as repeated string) sends names that may parse
        # as a FieldMask holding only unknown fields: "ill_count" does. Read as empty, that mask would
        # update every field; refused instead.
        raise InvalidArgument.of(field, "is not a google.protobuf.FieldMask (a client of the contract before "
                                 "update_mask became a FieldMask?); send FieldMask{paths: [...]}")
    paths = list(mask.paths)
    if not paths or paths == [FULL_REPLACEMENT]:
        return list(updatable)
    violations = Violations()
    allowed = ", ".join(updatable)
    for path in paths:
        if path == FULL_REPLACEMENT:
            violations.add(field, f'"{FULL_REPLACEMENT}" replaces every field and must be the only path')
        elif path not in updatable:
            violations.add(field, f"{path!r} cannot be updated; allowed: {allowed}")
    violations.raise_if_any("invalid update_mask")
    # A path named twice changes its field once; the order of the first mention is kept for messages.
    return list(dict.fromkeys(paths))
