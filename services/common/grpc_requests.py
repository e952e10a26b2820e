"""Requests the servicers never see: bytes that do not decode as the method's message, and strings
holding U+0000. Both are refused as INVALID_ARGUMENT inside the call, where a status can be given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from services.common import errors


@dataclass(frozen=True)
class Undecodable:
    """What arrived instead of a request message: refused in the call, where a status can be given
    (a deserializer that raises makes gRPC answer INTERNAL)."""

    reason: str


def lenient(deserializer: Callable[[bytes], object] | None) -> Callable[[bytes], object] | None:
    """`deserializer`, giving an Undecodable for bytes that are not its message instead of raising."""
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> object:
        try:
            return deserializer(data)
        except DecodeError as error:
            return Undecodable(str(error))

    return deserialize


def refuse_unusable(request: object) -> None:
    """Raises InvalidArgument for a request that did not decode or holds U+0000 in a string."""
    if isinstance(request, Undecodable):
        raise errors.InvalidArgument(f"the request could not be decoded: {request.reason}")
    if isinstance(request, Message) and (fields := _strings_holding_nul(request)):
        # PostgreSQL text cannot hold U+0000 and no field of ours has a use for it.
        raise errors.InvalidArgument("strings must not contain the character U+0000",
                                     [errors.FieldViolation(field, "must not contain U+0000") for field in fields])


def _strings_holding_nul(message: Message, prefix: str = "") -> list[str]:
    found: list[str] = []
    for field, value in message.ListFields():
        path = prefix + field.name
        if field.type == FieldDescriptor.TYPE_STRING:
            if any("\0" in item for item in (value if field.is_repeated else (value,))):
                found.append(path)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                for key, item in value.items():
                    if (isinstance(key, str) and "\0" in key) or (isinstance(item, str) and "\0" in item):
                        found.append(f"{path}[{key!r}]")
                    elif isinstance(item, Message):
                        found += _strings_holding_nul(item, f"{path}[{key!r}].")
            elif field.is_repeated:
                for index, item in enumerate(value):
                    found += _strings_holding_nul(item, f"{path}[{index}].")
            else:
                found += _strings_holding_nul(value, path + ".")
    return found
