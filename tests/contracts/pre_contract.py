"""Events in the form the publishers wrote before the contracts were typed, as the old EventWriter
wrapped them (bare type name, the publisher's dictionary as data): captured data, real envelopes."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import uuid
from pathlib import Path

from google.protobuf.message import Message

CAPTURED = Path(__file__).with_name("pre_contract_events.json")

# Where each aggregate's id sat in the old dictionaries.
_AGGREGATE_KEY = {"office": "id", "officer": "id", "task": "id", "complaint": "complaint_id",
                  "incident": "incident_id", "rapid_test": "test_id", "equipment": "equipment_id",
                  "case": "case_id", "inspection": "inspection_id", "indicators": "office_id"}


def captured() -> list[dict]:
    """Every captured pre-contract event: source, type, aggregate_type and data."""
    return json.loads(CAPTURED.read_text(encoding="utf-8"))["events"]


def sample(source: str, event_type: str) -> dict:
    return next(e for e in captured() if (e["source"], e["type"]) == (source, event_type))


def message_class(source: str, event_type: str) -> type[Message]:
    """The contract message that replaced a pre-contract event type."""
    package = "common" if event_type == "IndicatorsChanged" else source
    return getattr(importlib.import_module(f"supervision.{package}.v1.events_pb2"), event_type)


def envelope(source: str, event_type: str, data: dict | None = None, *, version: int = 1,
             time: dt.datetime | None = None, aggregate_id: str = "") -> dict:
    """The wire form the old EventWriter.record produced for this event."""
    found = sample(source, event_type)
    data = dict(found["data"] if data is None else data)
    kind = found["aggregate_type"]
    aggregate_id = aggregate_id or ("district" if kind == "scheme" else str(data.get(_AGGREGATE_KEY[kind], "")))
    time = time or dt.datetime(2026, 8, 14, 2, 0, tzinfo=dt.UTC)
    return {"id": str(uuid.uuid4()), "source": source, "type": event_type, "subject": f"{kind}/{aggregate_id}",
            "time": time.isoformat().replace("+00:00", "Z"), "office_id": str(data.get("office_id", "")),
            "aggregate_id": aggregate_id, "aggregate_version": version, "traceparent": "", "data": data}
