"""`make events`: docs/events.md, the map of every event, generated from the code.

    .venv/bin/python tools/event_map.py [--check] [--output PATH]

Without --check it writes the map (default docs/events.md); with --check it writes nothing and
exits 1 when the file differs from what the code generates (`make lint` runs it).

Where each part of the map comes from:

- Events. Every top-level message of a protos/supervision/<publisher>/<version>/events.proto that
  no message of those files uses as a field type (StatutoryClock, PeriodRanking, GradingBasis are
  parts of events, not events), plus every message a subscription consumes, wherever it is
  declared. Excluded: supervision.common.v1.EventEnvelope, the wrapper every event travels in.
  Counting the recorded messages themselves would mean reading every EventWriter.record call;
  the rule above gives the same set from the contracts alone, and an event nobody consumes is
  still listed (with no consumers).
- Publisher. The package's second part (supervision.<publisher>.v1). The shared package
  (supervision.common.v1) has no service of its own: its IndicatorsChanged is recorded by
  services/common/indicators.py for every service whose runtime has an indicator refresher.
  Another shared event would need its publishers named here; until then the generator stops.
- Description. The comment directly above the message in its .proto file, on one line (the
  generated stubs carry no source info).
- Consumers. Each service of services.common.registry is built the way it builds itself,
  its service.py's `build(settings, store)`, with test-like settings and a throw-away SQLite
  store (build only wires objects: the monolith builds a runtime before it migrates its store).
  Per Subscription: the consumer, the source it subscribes to, the first paragraph of the handler's
  docstring (for a closure made by a factory method, the closure's docstring, else the factory's),
  and whether it is versioned.

The map stops with the list of what is wrong (nothing is written) when a service cannot be built,
when a subscription still names its message by a string (the pre-contract form), or when a
subscription expects an event from a service that does not publish it.

Order: publishers by name, a publisher's events in their order in the .proto file, consumers by
name, so generating twice gives the same bytes.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from google.protobuf.descriptor import Descriptor  # noqa: E402
from google.protobuf.message import Message  # noqa: E402

PROTOS = ROOT / "protos"
DEFAULT_OUTPUT = ROOT / "docs" / "events.md"
# The wrapper every event travels in (services.common.events.Envelope), not an event itself.
ENVELOPE = "supervision.common.v1.EventEnvelope"
# Events of the shared package: who records them, as a test on a service's runtime.
INDICATORS_CHANGED = "supervision.common.v1.IndicatorsChanged"
DEADLINE_RECOMPUTED = "supervision.common.v1.DeadlineRecomputed"
# DeadlineRecomputed: the services whose statutory clocks count working days and are recounted
# when the working-day calendar changes.
RECOUNTING_SERVICES = {"command_center", "complaints", "mobile_enforcement"}
SHARED_PUBLISHERS = {INDICATORS_CHANGED: lambda runtime: runtime.indicators is not None,
                     DEADLINE_RECOMPUTED: lambda runtime: getattr(runtime, "name", "") in RECOUNTING_SERVICES}
# What build needs from the environment: the settings the tests use (tests/conftest.py).
SETTINGS_ENV = {"LOG_FORMAT": "text", "RELAY_POLL_SECONDS": "0.2", "SWEEP_INTERVAL_SECONDS": "3600",
                "DRAIN_GRACE_SECONDS": "2", "DEMO_DATA": "false"}
NO_DOCSTRING = "*(the handler has no docstring)*"
NO_COMMENT = "*(no comment above the message in its .proto)*"


class MapError(Exception):
    """What keeps the map from being generated, one problem a line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Consumption:
    """One subscription, as the map shows it."""

    consumer: str
    source: str
    does: str
    handler: str
    versioned: bool


@dataclass
class Event:
    full_name: str
    name: str
    package: str
    publishers: list[str]
    description: str
    consumptions: list[Consumption] = field(default_factory=list)

    @property
    def consumers(self) -> list[str]:
        return sorted({c.consumer for c in self.consumptions})


@dataclass
class EventMap:
    services: list[str]
    events: list[Event]

    @property
    def subscription_count(self) -> int:
        return sum(len(e.consumptions) for e in self.events)


# ---------------------------------------------------------------------- the services' runtimes

def build_runtimes(services: Iterable[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Each service's runtime, built as the service builds it; and a problem per service that failed."""
    from services.common import registry
    from services.common.config import Settings
    from services.common.db import Store

    runtimes: dict[str, Any] = {}
    problems: list[str] = []
    settings = Settings.from_env(SETTINGS_ENV)
    for name in services if services is not None else registry.names():
        with tempfile.TemporaryDirectory(prefix=f"event-map-{name}-") as tmp:
            store = Store(f"sqlite:///{tmp}/{name}.db")
            try:
                runtimes[name] = registry.builder(name)(settings, store)
            except Exception as exc:  # noqa: BLE001 - reported with the service's name; the others still build
                problems.append(f"{name}: its runtime could not be built: {type(exc).__name__}: {exc}")
            finally:
                store.dispose()
    return runtimes, problems


def handler_doc(handler: Any) -> tuple[str, str]:
    """(what the handler does: its docstring's first paragraph, or "" without one; its name)."""
    while isinstance(handler, functools.partial):
        handler = handler.func
    function = getattr(handler, "__func__", handler)
    module = getattr(function, "__module__", "") or ""
    qualname = getattr(function, "__qualname__", type(handler).__qualname__)
    doc = inspect.getdoc(handler)
    name = f"{module}.{qualname}"
    if "<locals>" in qualname:
        # A closure made by a factory method: named (and, without a docstring, described) by it.
        factory: Any = sys.modules.get(module)
        for part in qualname.split(".<locals>.")[0].split("."):
            factory = getattr(factory, part, None)
        if not doc and factory is not None:
            doc = inspect.getdoc(factory)
        name = f"{module}.{qualname.split('.<locals>.')[0]}()"
    return first_paragraph(doc or ""), name


def first_paragraph(text: str) -> str:
    lines: list[str] = []
    for line in text.strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines)


# ---------------------------------------------------------------------- the contracts

def events_modules() -> list[Any]:
    """The generated stubs of every events.proto, by path."""
    modules = []
    for path in sorted(PROTOS.glob("supervision/*/*/events.proto")):
        relative = path.relative_to(PROTOS).with_suffix("")
        modules.append(importlib.import_module(".".join(relative.parts) + "_pb2"))
    return modules


def _field_types(descriptor: Descriptor) -> set[str]:
    used = {f.message_type.full_name for f in descriptor.fields if f.message_type is not None}
    for nested in descriptor.nested_types:
        used |= _field_types(nested)
    return used


def contract_events(modules: list[Any]) -> list[Descriptor]:
    """The top-level messages of the events.proto files that are events (see the module's docstring)."""
    messages = [d for m in modules for d in m.DESCRIPTOR.message_types_by_name.values()]
    parts = set().union(*(_field_types(d) for d in messages)) if messages else set()
    return [d for d in messages if d.full_name not in parts and d.full_name != ENVELOPE]


_MESSAGE = re.compile(r"^message\s+(\w+)\s*\{")


@functools.cache
def proto_comments(proto_file: str) -> dict[str, str]:
    """Top-level message name -> the comment lines directly above it, on one line."""
    comments: dict[str, str] = {}
    pending: list[str] = []
    depth = 0
    for raw in (PROTOS / proto_file).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if depth == 0 and line.startswith("//"):
            pending.append(line[2:].strip())
            continue
        match = _MESSAGE.match(line) if depth == 0 else None
        if match:
            comments[match.group(1)] = " ".join(pending)
        pending = []
        code = line.split("//", 1)[0]
        depth += code.count("{") - code.count("}")
    return comments


def publisher_of(descriptor: Descriptor, runtimes: dict[str, Any], services: list[str]) -> tuple[list[str], str]:
    """(the services that publish this event, a problem or "")."""
    package = descriptor.file.package
    owner = package.split(".")[1] if package.startswith("supervision.") and package.count(".") >= 2 else ""
    if descriptor.full_name in SHARED_PUBLISHERS:
        records = SHARED_PUBLISHERS[descriptor.full_name]
        return [name for name in sorted(runtimes) if records(runtimes[name])], ""
    if owner in services:
        return [owner], ""
    return [], (f"{descriptor.full_name}: no service publishes the events of package {package!r} "
                f"(name its publishers in tools/event_map.py SHARED_PUBLISHERS)")


# ---------------------------------------------------------------------- the map

def collect(runtimes: dict[str, Any], services: list[str], problems: list[str] | None = None) -> EventMap:
    """The map of these runtimes; raises MapError listing `problems` and every new one."""
    problems = list(problems or [])
    modules = events_modules()
    descriptors: dict[str, Descriptor] = {d.full_name: d for d in contract_events(modules)}
    consumed: dict[str, list[Consumption]] = defaultdict(list)
    for consumer in sorted(runtimes):
        untyped = []
        for subscription in runtimes[consumer].subscriptions:
            message = subscription.message
            if not (isinstance(message, type) and issubclass(message, Message)):
                untyped.append(f"{subscription.source} {message!r}")
                continue
            descriptors.setdefault(message.DESCRIPTOR.full_name, message.DESCRIPTOR)
            does, handler = handler_doc(subscription.handler)
            consumed[message.DESCRIPTOR.full_name].append(
                Consumption(consumer, subscription.source, does, handler, bool(subscription.versioned)))
        if untyped:
            problems.append(f"{consumer}: subscriptions in the pre-contract form (the message named by a "
                            f"string, not the publisher's message class): {', '.join(untyped)}")

    events: list[Event] = []
    for full_name, descriptor in descriptors.items():
        publishers, problem = publisher_of(descriptor, runtimes, services)
        if problem:
            problems.append(problem)
        consumptions = sorted(consumed.get(full_name, []),
                              key=lambda c: (c.consumer, c.source, c.handler, c.versioned, c.does))
        for c in consumptions:
            # A source that could not be built is reported already; what it publishes is unknown.
            if publishers and c.source in runtimes and c.source not in publishers:
                problems.append(f"{c.consumer}: subscribes to {descriptor.name} from {c.source}, which does not "
                                f"publish it (published by {', '.join(publishers)})")
        events.append(Event(full_name, descriptor.name, descriptor.file.package, publishers,
                            proto_comments(descriptor.file.name).get(descriptor.name, ""), consumptions))
    if problems:
        raise MapError(problems)
    # Packages by name, then the .proto file's order (the descriptors keep it).
    order = {name: i for i, name in enumerate(descriptors)}
    events.sort(key=lambda e: (e.package, order[e.full_name]))
    return EventMap(list(services), events)


def generate() -> str:
    """docs/events.md as the code says it should be; raises MapError when that cannot be known."""
    from services.common import registry

    runtimes, problems = build_runtimes(registry.names())
    return render(collect(runtimes, registry.names(), problems))


# ---------------------------------------------------------------------- markdown

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class _Anchors:
    """GitHub's heading anchors: lower case, punctuation dropped, repeats numbered."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, heading: str) -> str:
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = self.seen.get(slug, 0)
        self.seen[slug] = count + 1
        return slug if count == 0 else f"{slug}-{count}"


def _group(package: str) -> str:
    return package.split(".")[1] if package.count(".") >= 2 else package


def render(event_map: EventMap) -> str:
    """The map as Markdown: summary, Mermaid flowchart, table, then every event."""
    events = event_map.events
    consumers = sorted({c.consumer for e in events for c in e.consumptions})
    consumed = [e for e in events if e.consumptions]
    anchors = _Anchors()
    for heading in ("Event map", "Flow", "Events"):
        anchors(heading)
    groups: dict[str, list[Event]] = {}
    for event in events:
        groups.setdefault(_group(event.package), []).append(event)
    anchor_of: dict[str, str] = {}
    for group, members in groups.items():
        anchors(group)
        for event in members:
            anchor_of[event.full_name] = anchors(event.name)

    out = [
        "# Event map",
        "",
        "<!-- Generated by tools/event_map.py (`make events`) from the code: do not edit by hand. "
        "`make lint` fails when this file is stale. -->",
        "",
        "What each service publishes and who consumes it. The events are the messages of "
        "protos/supervision/<publisher>/v1/events.proto (a message only used as a field of another is "
        "not one); the consumers are the subscriptions each service's runtime declares, each with what "
        "its handler's docstring says it does. A versioned subscription ignores an event whose "
        "aggregate version is not newer than the one it applied; an unversioned one applies each event "
        "once, whatever its version.",
        "",
        f"{len(events)} events, {len(consumed)} of them consumed; {event_map.subscription_count} subscriptions "
        f"in {len(consumers)} consuming services.",
        "",
        "## Flow",
        "",
        "Publisher --> consumer, labelled with the events the consumer takes from that publisher.",
        "",
        "```mermaid",
        "flowchart LR",
    ]
    for service in event_map.services:
        out.append(f"    {service}[{service}]")
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        for c in event.consumptions:
            edges[(c.source, c.consumer)].add(event.name)
    for (source, consumer), names in sorted(edges.items()):
        out.append(f'    {source} -->|"{", ".join(sorted(names))}"| {consumer}')
    out += ["```", "", "## Events", "", "| Event | Publisher | Consumers |", "|---|---|---|"]
    for event in events:
        out.append(f"| [{event.name}](#{anchor_of[event.full_name]}) | {', '.join(event.publishers)} | "
                   f"{', '.join(event.consumers) or '—'} |")
    for group, members in groups.items():
        out += ["", f"## {group}"]
        for event in members:
            out += ["", f"### {event.name}", "",
                    f"`{event.full_name}`, published by {', '.join(event.publishers)}.", "",
                    _cell(event.description) or NO_COMMENT, ""]
            if not event.consumptions:
                out.append("No consumer.")
                continue
            out += ["| Consumer | From | What the consumer does with it | Versioned | Handler |",
                    "|---|---|---|---|---|"]
            # One row per consumer and handler; the sources it takes the event from joined.
            rows: dict[tuple[str, str, str, bool], list[str]] = {}
            for c in event.consumptions:
                rows.setdefault((c.consumer, c.does, c.handler, c.versioned), []).append(c.source)
            for (consumer, does, handler, versioned), sources in rows.items():
                out.append(f"| {consumer} | {', '.join(sorted(sources))} | {_cell(does) or NO_DOCSTRING} | "
                           f"{'yes' if versioned else 'no'} | `{handler}` |")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------- command line

def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generates docs/events.md from the code.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the file differs from what the code generates")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the map's path (docs/events.md)")
    args = parser.parse_args(argv)
    try:
        text = generate()
    except MapError as exc:
        print("event map: cannot be generated:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    shown = _shown(args.output)
    if args.check:
        if not args.output.is_file():
            print(f"{shown} is missing: run make events", file=sys.stderr)
            return 1
        if args.output.read_text(encoding="utf-8") != text:
            print(f"{shown} is stale: run make events", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
