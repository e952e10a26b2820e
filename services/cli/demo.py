"""`supervision demo load`: the services' demo loaders run against the configured stores, as the
monolith's first start and `make run-micro`'s seeding run them.

Loading the whole district (no --service), the services are loaded in the monolith's order and each
one's events are delivered to the others through an in-process bus before the next one loads (its
demo builds on them: offices, officers, streets), exactly as a monolith's first start does; the
center may be stopped or running on the same stores (inboxes absorb an event delivered twice).
With --service, only those stores are loaded and their events stay in the outbox for the center's
own relay (the service's API process, or the monolith at its next start) to publish.
"""

from __future__ import annotations

import argparse
import sys

from services.cli.connection import CommandFailed
from services.cli.parsing import bilingual
from services.cli.session import Session
from services.common import registry

GATEWAY = "gateway"
# In the monolith's start order (services.common.registry): a service's demo builds on the events
# of those before it. The gateway loads nothing of its own; it only receives the others' events.
DEMO_SERVICES = [name for name in registry.names() if name != GATEWAY]

RESULT_COLUMNS = [
    ("服务 service", lambda r: r["service"]),
    ("本次写入 loaded", lambda r: r["loaded"]),
    ("已完成 complete", lambda r: "" if r["complete"] is None else r["complete"]),
    ("跳过 skipped", lambda r: len(r["skipped"])),
]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Adds `demo` to the command line."""
    demo = commands.add_parser("demo", parents=[common], help=bilingual("演示数据", "the demo district"),
                               description=bilingual("演示数据（闵行区演示辖区）", "the demo district (Minhang)"))
    actions = demo.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser(
        "load", parents=[common], help=bilingual("把演示数据载入各服务的库", "load the demo district into the stores"),
        description=bilingual(
            "把演示辖区载入空库，或续完中断的载入；从不覆盖已有数据。库的位置与中心相同："
            "<SERVICE>_DATABASE_URL，或（只选一个服务时）DATABASE_URL，否则 DATA_DIR 下的 SQLite 文件。"
            "不加 --service 时按顺序载入全部服务，并在服务之间投递事件；加 --service 时事件留在发件箱，"
            "由中心自己的转发进程发布。",
            "load the demo district into empty stores, or finish an interrupted load; never over existing "
            "data. The stores are the center's: <SERVICE>_DATABASE_URL, or DATABASE_URL (one --service), "
            "else the SQLite files under DATA_DIR. Without --service every service is loaded in order and "
            "the events are delivered between them; with --service the events stay in the outbox for the "
            "center's own relay to publish. What a loader left out is listed."))
    load.add_argument("--service", action="append", choices=DEMO_SERVICES, dest="services",
                      help=bilingual("只载入这个服务（可重复）", "only this service (repeatable)"))
    load.set_defaults(handler=load_demo)


def outcome_fields(result: object) -> tuple[bool, bool | None, tuple[str, ...]]:
    """(loaded, complete, skipped) of a seed_demo result: a DemoOutcome, or the bare `loaded` flag
    older loaders return (whether the load is complete is then unknown)."""
    if isinstance(result, bool):
        return result, None, ()
    return bool(result.loaded), bool(result.complete), tuple(result.skipped)


def load_demo(args, session: Session) -> int:
    """`demo load`: prints each service's outcome and what its loader skipped."""
    # Imported here: the store layer takes a second to import, which the gRPC commands do not need.
    from services.cli.stores import build_runtime, new_or_existing_store, settings_from_env, store_url
    from services.common import migrate

    settings = settings_from_env()
    chosen = args.services or DEMO_SERVICES
    names = [name for name in DEMO_SERVICES if name in chosen]
    whole_district = args.services is None
    hosted = names + ([GATEWAY] if whole_district else [])
    runtimes = {}
    try:
        for name in hosted:
            store = new_or_existing_store(store_url(name, settings, one_service=len(hosted) == 1))
            runtimes[name] = build_runtime(name, settings, store)
            migrate.upgrade(name, runtimes[name].migrations_dir, store.url)
        deliver = _delivery(runtimes, settings) if whole_district else None
        results = []
        for position, name in enumerate(names, 1):
            print(f"演示数据 demo district {position}/{len(names)}: {name}…", file=sys.stderr, flush=True)
            runtime = runtimes[name]
            if runtime.seed_demo is None:
                continue
            try:
                loaded, complete, skipped = outcome_fields(runtime.seed_demo())
                if deliver is not None:
                    deliver()
                elif runtime.indicators is not None:
                    runtime.indicators.flush()
            except Exception as error:  # said to the operator; the next services build on it
                raise CommandFailed(f"{name}: 载入演示数据失败 · loading the demo data failed: {error!r}") from error
            results.append({"service": name, "loaded": loaded, "complete": complete, "skipped": list(skipped)})
    finally:
        for runtime in runtimes.values():
            runtime.store.dispose()
    print_outcomes(session, results)
    return 0


def _delivery(runtimes: dict, settings):
    """A function that delivers every event committed so far to the consuming services, and the
    events and indicator refreshes that delivery causes, until nothing is left to deliver."""
    from services.common.bus import InProcessBus
    from services.common.relay import OutboxRelay

    bus = InProcessBus()
    for runtime in runtimes.values():
        bus.subscribe(runtime.consumer(), runtime.subscriptions)
    relays = [OutboxRelay(r.name, r.store, r.outbox_model, bus, poll_seconds=settings.relay_poll_seconds)
              for r in runtimes.values()]

    def deliver() -> None:
        while True:
            for runtime in runtimes.values():
                if runtime.indicators is not None:
                    runtime.indicators.flush()
            published = 0
            for relay in relays:
                while count := relay.relay_once():
                    published += count
            if not published:
                return

    return deliver


def print_outcomes(session: Session, results: list[dict]) -> None:
    """Each service's outcome, then every item a loader skipped and why (inside the records with --json)."""
    output = session.output
    output.records(results, RESULT_COLUMNS)
    if output.json:  # the skipped items are in the records
        return
    for result in results:
        for item in result["skipped"]:
            print(f"  {result['service']} 跳过 skipped: {item}", file=output.out)
