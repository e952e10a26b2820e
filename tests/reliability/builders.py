"""Deterministic requests built from real records: the same request every run, aimed at one office.

`plausible(method, harvest, office, variant)` fills each field of a request from what the services
returned (an id of a record of `office`, an officer of it, a complaint as stored, a due date ahead),
so most requests pass validation; aimed at another office than the caller's, they probe scoping.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from tests.reliability.catalog import Method
from tests.reliability.district import Harvest

MAX_DEPTH = 3


def _office_fields(message: Message) -> list[FieldDescriptor]:
    return [f for f in message.DESCRIPTOR.fields if f.type == FieldDescriptor.TYPE_STRING and not f.is_repeated
            and (f.name == "office_id" or (f.name == "id" and message.DESCRIPTOR.name == "Office"))]


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _ids_of(harvest: Harvest, name: str, office: str, resource: str = "") -> list[str]:
    """Ids for a field `name`: a top-level `id` names the method's resource (its answer's type); `<x>_id`
    the type whose name ends with x (item_id: CustodyItem); preferably records of `office`."""
    if name == "id" and resource:
        seen = list(harvest.ids_of_type.get(resource, []))
    else:
        stem = name.removesuffix("_ids").removesuffix("_id")
        seen = [i for type_name, ids in harvest.ids_of_type.items() if _snake(type_name).endswith(stem)
                for i in ids]
    seen = seen or [v for v in harvest.values.get(name, []) if isinstance(v, str)]
    mine = [v for v in seen if harvest.office_of.get(v) == office]
    return mine or [v for v in seen if v not in harvest.office_of] or seen


def _pick(values: list, variant: int):
    return values[variant % len(values)] if values else None


def _string(name: str, message_name: str, harvest: Harvest, office: str, variant: int, resource: str = "") -> str:
    if name == "request_id":
        return f"chaos-{uuid.uuid4().hex}"
    if name == "office_id" or (name == "id" and message_name == "Office"):
        return office
    if name == "filter":
        return f'office_id = "{office}"' if variant % 2 == 0 else ""
    if name == "page_token":
        return ""
    if name == "id" or name.endswith("_id"):
        return _pick(_ids_of(harvest, name, office, resource), variant) or f"chaos-{name}"
    if name == "subject":  # an evidence trail's owner, "case/<id>" or "inspection/<id>", of the office
        kind = ("case", "inspection")[variant % 2]
        record = _pick(_ids_of(harvest, f"{kind}_id", office), variant // 2)
        return f"{kind}/{record}" if record else f"{kind}/chaos"
    value = _pick([v for v in harvest.values.get(name, []) if isinstance(v, str)], variant)
    return value if value is not None else "chaos"


def _instance(descriptor: Descriptor, harvest: Harvest, office: str, variant: int) -> Message | None:
    cls = message_factory.GetMessageClass(descriptor)
    seen = [cls.FromString(raw) for raw in harvest.messages.get(descriptor.full_name, [])]
    if not seen:
        return None
    office_fields = {f.name for f in descriptor.fields} & {"office_id"}
    if office_fields:
        mine = [m for m in seen if m.office_id == office]
        seen = mine or seen
    message = cls()
    message.CopyFrom(_pick(seen, variant))
    for field in _office_fields(message):
        setattr(message, field.name, office)
    return message


def _special(descriptor: Descriptor, variant: int) -> Message | None:
    from services.common.clock import shanghai_today

    cls = message_factory.GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        stamp = cls()
        stamp.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        return stamp
    if descriptor.full_name == "google.type.Date":
        # Today (a check done, a calibration made), or a month ahead (a due date).
        day = shanghai_today() + dt.timedelta(days=30 * (variant % 2))
        return cls(year=day.year, month=day.month, day=day.day)
    return None


def fill(descriptor: Descriptor, harvest: Harvest, office: str, variant: int = 0, depth: int = 0,
         resource: str = "") -> Message:
    """A request (depth 0) or nested message; `resource`: the type the method answers with."""
    special = _special(descriptor, variant)
    if special is not None:
        return special
    harvested = _instance(descriptor, harvest, office, variant) if depth > 0 else None
    if harvested is not None:
        return harvested
    message = message_factory.GetMessageClass(descriptor)()
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry or depth >= MAX_DEPTH:
                continue
            value = fill(field.message_type, harvest, office, variant, depth + 1)
            if field.is_repeated:
                getattr(message, field.name).add().CopyFrom(value)
            else:
                getattr(message, field.name).CopyFrom(value)
            continue
        if field.is_repeated:
            if field.name in ("office_ids",):
                getattr(message, field.name).append(office)
                continue
            seen = harvest.values.get(field.name, [])
            if field.type == FieldDescriptor.TYPE_STRING:
                seen = [v for v in seen if isinstance(v, str)]
                if field.name.endswith("_by"):  # people who sign or approve: officers of the office
                    officers = harvest.ids_of_type.get("Officer", [])
                    seen = [o for o in officers if harvest.office_of.get(o) == office] or seen
                elif field.name.endswith("_ids"):
                    seen = _ids_of(harvest, field.name, office) or seen
            with contextlib.suppress(TypeError, ValueError):
                getattr(message, field.name).extend(seen[variant:variant + 2] or seen[:2])
            continue
        with contextlib.suppress(TypeError, ValueError):
            setattr(message, field.name, _scalar(field, descriptor.name, harvest, office, variant,
                                                 resource if depth == 0 else ""))
    return message


def _scalar(field: FieldDescriptor, message_name: str, harvest: Harvest, office: str, variant: int,
            resource: str = ""):
    if field.type == FieldDescriptor.TYPE_STRING:
        return _string(field.name, message_name, harvest, office, variant, resource)
    seen = [v for v in harvest.values.get(field.name, []) if not isinstance(v, str | bytes)]
    if field.type == FieldDescriptor.TYPE_ENUM:
        defined = [v.number for v in field.enum_type.values if v.number != 0]
        valid = [v for v in seen if v in defined]
        return _pick(valid or defined, variant) or 0
    if field.type == FieldDescriptor.TYPE_BYTES:
        raw = [v for v in harvest.values.get(field.name, []) if isinstance(v, bytes)]
        return _pick(raw, variant) or b""
    if field.type == FieldDescriptor.TYPE_BOOL:
        return bool(_pick(seen, variant)) if seen else False
    value = _pick(seen, variant)
    if value is None:
        return 1.0 if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT) else 0
    return value


def fresh_ids(request: Message) -> Message:
    """The request with a new id for each resource it carries (Office.id, Officer.id, ...): a create
    that would meet ALREADY_EXISTS with a harvested record makes a new one instead."""
    copy = type(request)()
    copy.CopyFrom(request)
    for field, value in copy.ListFields():
        if field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated \
                and "id" in value.DESCRIPTOR.fields_by_name \
                and value.DESCRIPTOR.fields_by_name["id"].type == FieldDescriptor.TYPE_STRING:
            value.id = f"CX-{uuid.uuid4().hex[:6].upper()}"
    return copy


def _fresh_request(request: Message) -> Message:
    fresh = fresh_ids(request)
    if "request_id" in fresh.DESCRIPTOR.fields_by_name:
        fresh.request_id = f"chaos-{uuid.uuid4().hex}"
    return fresh


def plausible(method: Method, harvest: Harvest, office: str, variants: int = 2) -> list[Message]:
    """The empty request, then `variants` requests filled from real records of `office`, then the
    first of them again with fresh resource ids (when it carries a resource)."""
    requests = [method.request_class()]
    seen = {requests[0].SerializeToString()}
    filled = [fill(method.input, harvest, office, variant, resource=method.output.name) for variant in range(variants)]
    for request in [*filled, *(_fresh_request(r) for r in filled[:1])]:
        if request.SerializeToString() not in seen:
            seen.add(request.SerializeToString())
            requests.append(request)
    return requests
