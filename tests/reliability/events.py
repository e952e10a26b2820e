"""Events to deliver by hand: real envelopes from the demo district's outboxes, turned into new ones
(a new id, a newer version, a changed name) so that a consumer that has seen the demo applies them,
and a reference of what applying one does to a store (the same Consumer.handle the worker runs)."""

from __future__ import annotations

import copy
import importlib
import json
import re
import uuid

from services.common.consumer import Subscription
from services.common.db import Store
from tests.reliability import catalog
from tests.reliability.cluster import outbox_events, plain_url, query, tables


def samples(templates: dict[str, str], databases, service: str) -> list[tuple[Subscription, dict]]:
    """(subscription, a real envelope of its type) for each subscription of `service` whose source
    published such an event in the demo district."""
    found = []
    for subscription in catalog.spec(service).subscriptions:
        if subscription.source not in templates:
            continue
        events = outbox_events(databases.url(templates[subscription.source]), subscription.type_name)
        if events:
            found.append((subscription, events[len(events) // 2]))
    return found


def renewed(envelope: dict, subscription: Subscription, version_bump: int = 1000, tag: str = "") -> dict:
    """The same fact as a new event: new id, a version above any applied, a visibly changed name; an
    unversioned fact (an overdue notice) about a new record."""
    event = copy.deepcopy(envelope)
    event["id"] = str(uuid.uuid4())
    tag = tag or uuid.uuid4().hex[:4]
    data = event.setdefault("data", {})
    for key in ("name", "title"):
        if isinstance(data.get(key), str):
            data[key] = f"{data[key]}（{tag}）"
    if subscription.versioned:
        event["aggregate_version"] = int(event.get("aggregate_version") or 0) + version_bump
    else:
        fresh = f"chaos-{tag}"
        for key, value in list(data.items()):
            if key.endswith("_id") and key != "office_id" and isinstance(value, str):
                data[key] = fresh
        if event.get("aggregate_id"):
            event["aggregate_id"] = fresh
            event["subject"] = f"{event['subject'].split('/', 1)[0]}/{fresh}"
    return event


def consumer_for(service: str, url: str):
    """The service's own Consumer on a store, in this process (no nameko: Consumer.handle directly)."""
    from services.common.config import Settings

    module = importlib.import_module(f"services.{service}.service")
    store = Store(plain_url(url))
    runtime = module.build(Settings.from_env({"LOG_FORMAT": "text", "DEMO_DATA": "false"}), store)
    return runtime, runtime.consumer()


def counts(url: str) -> dict[str, int]:
    """Rows per table, without what a worker's indicator refresher adds on its own schedule."""
    found = {}
    for table in tables(url):
        if table.startswith("alembic_version") or table == "indicator_snapshots":
            continue
        where = " WHERE event_type <> 'supervision.common.v1.IndicatorsChanged'" if table == "outbox" else ""
        found[table] = query(url, f'SELECT count(*) FROM "{table}"{where}')[0][0]
    return found


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")


def _normal(value):
    if isinstance(value, str):
        if _INSTANT.match(value):
            return "<time>"  # when it was applied, not what
        return _UUID.sub("<uuid>", value)
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def content(url: str) -> dict[str, list[str]]:
    """Each table's rows, sorted, with times and generated ids blanked: two stores that applied the same
    events to the same effect compare equal, whenever and in whichever order it happened."""
    found = {}
    for table in tables(url):
        if table.startswith("alembic_version") or table in ("indicator_snapshots", "outbox"):
            continue
        rows = query(url, f'SELECT row_to_json(x) FROM "{table}" x')
        found[table] = sorted(json.dumps(_normal(r[0]), sort_keys=True, ensure_ascii=False) for r in rows)
    return found


def differences(left: dict[str, list[str]], right: dict[str, list[str]], limit: int = 3) -> list[str]:
    out = []
    for table in sorted(set(left) | set(right)):
        a, b = set(left.get(table, [])), set(right.get(table, []))
        if a != b:
            out.append(f"{table}: only in one {sorted(a - b)[:limit]} / only in the other {sorted(b - a)[:limit]}")
    return out
