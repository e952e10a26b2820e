"""Hypothesis strategies for any protobuf request, built from its descriptor.

Half of what they draw is hostile (unicode of every plane, NUL, 70 KB strings, negative and extreme
numbers, enum numbers the contract does not define, NaN, timestamps beyond year 9999, long repeated
fields, maps); the other half comes from the harvest (ids, offices and whole messages the services
returned), so generated requests also get past validation and reach the stores and state machines.
"""

from __future__ import annotations

import base64
import contextlib

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from tests.reliability.district import Harvest

MAX_DEPTH = 3
WEIRD_STRINGS = [
    "", " ", "\t\n", "\x00", "a\x00b", "'", '"', "\\", "' OR '1'='1' --", "%s%s%n", "{0}", "../../etc/passwd",
    "\u202e\u0645\u0631\u062d\u0628\u0627", "\ufeff", "\u200b", "😀" * 8, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "null", "None", "undefined",
    "-1", "0", "NaN", "1e309", "9" * 40, "{}", "[]", "<script>alert(1)</script>", "${jndi:ldap://x}",
    "MH01 ", " MH01", "mh01", "_district_queue", "页" * 300, "k:", "azo6", "a" * 129,
    'office_id = "MH02"', "state = COMPLAINT_STATE_RECEIVED AND", "a = ", "= =", 'x = "unterminated',
]
# Rare: big values that still fit in one message.
HUGE_STRINGS = ["x" * 70_000, "界" * 30_000]

INT_BOUNDS = {
    FieldDescriptor.TYPE_INT32: (-(2 ** 31), 2 ** 31 - 1), FieldDescriptor.TYPE_SINT32: (-(2 ** 31), 2 ** 31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2 ** 31), 2 ** 31 - 1), FieldDescriptor.TYPE_UINT32: (0, 2 ** 32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2 ** 32 - 1), FieldDescriptor.TYPE_INT64: (-(2 ** 63), 2 ** 63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2 ** 63), 2 ** 63 - 1), FieldDescriptor.TYPE_SFIXED64: (-(2 ** 63), 2 ** 63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2 ** 64 - 1), FieldDescriptor.TYPE_FIXED64: (0, 2 ** 64 - 1),
}


def _text() -> st.SearchStrategy[str]:
    # Any code point a protobuf string may carry (valid UTF-8: no surrogates).
    return st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def string_values(name: str, harvest: Harvest) -> st.SearchStrategy[str]:
    seen = [v for v in harvest.values.get(name, []) if isinstance(v, str)]
    choices = [st.sampled_from(WEIRD_STRINGS), _text()]
    if seen:
        # Weighted towards what the services know: ids that exist, offices, real values.
        choices = [st.sampled_from(seen)] * 3 + choices
    if name == "page_token":
        choices.append(st.binary(max_size=30).map(lambda b: base64.urlsafe_b64encode(b).decode()))
        choices.append(st.text("k:0123456789abcdef-", max_size=40).map(
            lambda t: base64.urlsafe_b64encode(t.encode()).decode()))
    common = st.one_of(*choices)
    # One string in forty is big (70 KB): it still fits a message but not a column.
    return st.integers(0, 39).flatmap(lambda n: st.sampled_from(HUGE_STRINGS) if n == 0 else common)


def int_values(field: FieldDescriptor, harvest: Harvest) -> st.SearchStrategy[int]:
    low, high = INT_BOUNDS[field.type]
    edges = [v for v in (0, 1, -1, 2, 10, 50, 1000, 1001, 5000, high, low, high - 1, low + 1) if low <= v <= high]
    seen = [v for v in harvest.values.get(field.name, []) if isinstance(v, int) and not isinstance(v, bool)]
    return st.one_of(st.sampled_from(edges), st.integers(low, high), st.integers(max(low, -100), min(high, 100)),
                     *([st.sampled_from(seen)] if seen else []))


def enum_values(field: FieldDescriptor) -> st.SearchStrategy[int]:
    defined = [v.number for v in field.enum_type.values]
    return st.one_of(st.sampled_from(defined), st.sampled_from(defined), st.integers(-3, max(defined) + 3),
                     st.integers(-(2 ** 31), 2 ** 31 - 1))


def scalar_values(field: FieldDescriptor, harvest: Harvest) -> st.SearchStrategy:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return string_values(field.name, harvest)
    if kind == FieldDescriptor.TYPE_BYTES:
        seen = [v for v in harvest.values.get(field.name, []) if isinstance(v, bytes)]
        return st.one_of(st.binary(max_size=64), st.sampled_from([b"", b"\x00", b"\xff\xfe", "代码,标题\n".encode(),
                                                                  b"a,b,c\n" * 2000]),
                         _text().map(lambda s: s.encode()), *([st.sampled_from(seen)] if seen else []))
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        width = 32 if kind == FieldDescriptor.TYPE_FLOAT else 64
        return st.one_of(st.floats(width=width), st.sampled_from([0.0, -0.0, -1.0, 1e-9, 1e9, 1e300]),
                         st.floats(-1000, 1000, width=width))
    if kind == FieldDescriptor.TYPE_ENUM:
        return enum_values(field)
    return int_values(field, harvest)


def _timestamp(draw) -> dict:
    seconds = draw(st.one_of(st.integers(-62135596800, 253402300799), st.integers(1_600_000_000, 1_900_000_000),
                             st.sampled_from([0, -1, -62135596801, 253402300800, 2 ** 62, -(2 ** 62)])))
    nanos = draw(st.one_of(st.just(0), st.integers(0, 999_999_999), st.sampled_from([-1, 1_000_000_000, 2 ** 31 - 1])))
    return {"seconds": seconds, "nanos": nanos}


def _date(draw) -> dict:
    pick = st.one_of(st.integers(0, 31), st.integers(-(2 ** 31), 2 ** 31 - 1))
    return {"year": draw(st.one_of(st.integers(1990, 2035), st.sampled_from([0, 1, 9999, 10000, -1]), pick)),
            "month": draw(st.one_of(st.integers(1, 12), pick)), "day": draw(st.one_of(st.integers(1, 28), pick))}


def _fill_scalar(draw, message: Message, field: FieldDescriptor, harvest: Harvest) -> None:
    values = scalar_values(field, harvest)
    if field.is_repeated:
        size = draw(st.one_of(st.integers(0, 4), st.sampled_from([0, 1, 2, 300])))
        seen = harvest.values.get(field.name, [])
        items = draw(st.lists(values, min_size=min(size, 4), max_size=min(size, 4))) if size <= 4 else \
            [draw(values)] * size
        if seen and draw(st.booleans()):
            items = draw(st.lists(st.sampled_from(seen), max_size=4))
        with contextlib.suppress(TypeError, ValueError):  # a harvested value of another type, same name
            getattr(message, field.name).extend(items)
        return
    value = draw(values)
    with contextlib.suppress(TypeError, ValueError):
        setattr(message, field.name, value)


def _fill_message(draw, message: Message, field: FieldDescriptor, harvest: Harvest, depth: int) -> None:
    sub_type = field.message_type
    if sub_type.GetOptions().map_entry:
        key_field, value_field = sub_type.fields_by_name["key"], sub_type.fields_by_name["value"]
        target = getattr(message, field.name)
        for _ in range(draw(st.integers(0, 3))):
            key = draw(scalar_values(key_field, harvest))
            try:
                if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                    target[key].CopyFrom(draw(messages(value_field.message_type, harvest, depth + 1)))
                else:
                    target[key] = draw(scalar_values(value_field, harvest))
            except (TypeError, ValueError):
                pass
        return
    if field.is_repeated:
        for _ in range(draw(st.one_of(st.integers(0, 3), st.sampled_from([0, 1, 200])))):
            getattr(message, field.name).add().CopyFrom(draw(messages(sub_type, harvest, depth + 1)))
        return
    getattr(message, field.name).CopyFrom(draw(messages(sub_type, harvest, depth + 1)))


def messages(descriptor: Descriptor, harvest: Harvest, depth: int = 0) -> st.SearchStrategy[Message]:
    @st.composite
    def build(draw) -> Message:
        cls = message_factory.GetMessageClass(descriptor)
        if descriptor.full_name == "google.protobuf.Timestamp":
            return cls(**_timestamp(draw))
        if descriptor.full_name == "google.type.Date":
            return cls(**_date(draw))
        seen = harvest.messages.get(descriptor.full_name, [])
        fields = list(descriptor.fields)
        if seen and draw(st.integers(0, 2)) > 0:
            message = cls.FromString(draw(st.sampled_from(seen)))
            chosen = draw(st.lists(st.sampled_from(fields), max_size=2, unique_by=lambda f: f.number)) if fields \
                else []
        else:
            message = cls()
            chosen = [f for f in fields if draw(st.booleans())]
        for field in chosen:
            message.ClearField(field.name)
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                if depth >= MAX_DEPTH:
                    continue
                _fill_message(draw, message, field, harvest, depth)
            else:
                _fill_scalar(draw, message, field, harvest)
        return message

    return build()
