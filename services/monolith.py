"""Monolithic mode (`make run`): every service in one process, each on its own gRPC port, each with
its own SQLite file under DATA_DIR, events through the in-process bus. The gateway, last, serves
the dashboard and the HTTP/JSON API on HTTP_PORT; /metrics of the whole process is on METRICS_PORT,
as in the microservices mode, never on the public HTTP port. The dashboard's address carries a
bureau-leader token only with DEVELOPMENT_LOGIN=true.

A first start loads the demo district service by service (a line on stderr per step, then a ready
line); meanwhile the gateway's /readyz answers 503 with the step, and its history and alerts wait.
SIGTERM or SIGINT at any moment stops the process cleanly (exit 0, or 130 for SIGINT); the next
start finishes an interrupted loading (services.common.startup, services.common.demo).

The services, their start order and their gRPC ports are services.common.registry's; each is hosted
by the object its runtime names (`ServiceRuntime.hosted`), so the gateway needs no branch of its own.

    python -m services.monolith [--grpc-port SERVICE=PORT ...]

`--grpc-port` moves a service's gRPC port from the registry's (tests: the fixed ports lie in Linux's
ephemeral range, where a client connection of another process may hold one)."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from services.common import logs, migrate, registry, sources
from services.common.bus import InProcessBus
from services.common.clock import Clock, FileClock
from services.common.config import ConfigError, Settings, exit_on_config_error, monolith_database_url
from services.common.db import Store
from services.common.demo import DemoOutcome
from services.common.hosting import HostContext, HostedService
from services.common.runner import start_metrics_server, start_serving
from services.common.runtime import ServiceRuntime
from services.common.startup import StartupProgress, StopRequested, StopSignals

log = logging.getLogger(__name__)

# The services this process hosts, in start order (a service's demo data may depend on events of
# the ones before it): every one of the registry's; a test may host fewer.
SERVICES = registry.names()


def report_to_stderr(line: str) -> None:
    """A progress line for the person watching the terminal (whatever LOG_FORMAT says)."""
    print(line, file=sys.stderr, flush=True)


def start(settings: Settings, *, host: str = "[::]", ports: Mapping[str, int] | None = None,
          seed_demo: bool | None = None, clock: Clock | None = None, signals: StopSignals | None = None,
          report: Callable[[str], None] = report_to_stderr) -> list[HostedService]:
    """`ports`: gRPC port per service (0: any free port; one not named keeps the registry's), and
    `<service>_http` for a service's HTTP port; when given, an HTTP port not named is any free port
    (not HTTP_PORT). `clock` (tests of whole periods) replaces the services' today and now with its
    own. `signals` (installed by `main`) may stop the start with StopRequested, after stopping what
    was started; `report` gets the loading's progress lines."""
    signals = signals or StopSignals()  # not installed: it never fires
    load = settings.demo_data if seed_demo is None else seed_demo
    bus = InProcessBus()
    hosted: list[HostedService] = []
    started: list[HostedService] = []
    try:
        runtimes: list[ServiceRuntime] = []
        for name in SERVICES:
            signals.checkpoint()
            build = registry.builder(name)
            url = monolith_database_url(name, settings)  # checked: exit 2 naming the variable
            runtimes.append(build(settings, Store(url), **(clock.build_options(build) if clock else {})))
        # A service without demo data of its own (the gateway: it shows the others') is no step.
        progress = StartupProgress([r.name for r in runtimes if r.seed_demo is not None] if load else (),
                                   report=report)
        for runtime in runtimes:
            signals.checkpoint()
            migrate.upgrade(runtime.name, runtime.migrations_dir, runtime.store.url)
            bus.subscribe(runtime.consumer(), runtime.subscriptions)
            entry = registry.spec(runtime.name)
            http_port = settings.http_port if ports is None else ports.get(f"{entry.name}_http", 0)
            # A service aggregating the ones hosted before it (the gateway) asks them at the ports they got.
            context = HostContext(http_port=http_port, peers=tuple(hosted), startup=progress)
            hosted.append(runtime.hosted(settings, bus, port=(ports or {}).get(entry.name, entry.monolith_port),
                                         host=host, context=context))
        for service in hosted:
            signals.checkpoint()
            # A port held by another process (a center already running) is exit 2 naming it.
            start_serving(service, port_is=f"the gRPC port {service.port} of {service.runtime.name} "
                                          "(another center running?)")
            started.append(service)
        if load:
            # Each loader resumes where an interrupted one stopped: stopping at once is safe here.
            with signals.interruptible():
                load_demo_district(hosted, progress, report)
        seconds = progress.finish()
        if load:
            log.info("demo district ready", extra={"seconds": round(seconds, 1)})
    except (StopRequested, ConfigError) as error:  # a port taken, say: what runs must not keep the process
        stopped = error
    else:
        return hosted
    # Outside the except block, and without the traceback: a signal may have interrupted a loader
    # inside a SQLite transaction, whose connection its frames hold. Released and collected, the
    # connection goes back to its pool rolled back and the store's write lock is free for the stop.
    stopped.__traceback__ = None
    gc.collect()
    stop_hosted(started)
    raise stopped


def demo_outcome(result: DemoOutcome | bool | None) -> DemoOutcome:
    """A loader's answer as a DemoOutcome (a loader without one says only whether it loaded)."""
    if isinstance(result, DemoOutcome):
        return result
    return DemoOutcome(loaded=bool(result), complete=bool(result))


def load_demo_district(hosted: list[HostedService], progress: StartupProgress,
                       report: Callable[[str], None]) -> None:
    """Every service's demo loader, in start order, each one's events delivered before the next."""
    for service in hosted:
        name = service.runtime.name
        if name in progress.steps:
            progress.begin(name)
            outcome = demo_outcome(service.runtime.seed_demo() if service.runtime.seed_demo else None)
            if outcome.loaded:
                log.info("demo data loaded", extra={"service": name, "complete": outcome.complete})
            for item in outcome.skipped:
                # Left out, not failed: the rest of the district is still worth showing.
                report(f"  {name}: 略过 left out: {item}")
                log.warning("demo data left out", extra={"service": name, "reason": item})
        # The next service's demo builds on these events (offices, officers): deliver them first.
        for each in hosted:
            each.settle()


def stop_hosted(hosted: list[HostedService]) -> None:
    """Stops the services in start order (each drains its calls, then publishes what it committed)."""
    for service in hosted:
        service.stop()


def grpc_ports(argv: Sequence[str] | None = None) -> dict[str, int]:
    """`--grpc-port SERVICE=PORT` (repeatable) from the command line: gRPC ports instead of the registry's."""
    parser = argparse.ArgumentParser(prog="python -m services.monolith",
                                     description="Every service in one process (monolithic mode).")
    parser.add_argument("--grpc-port", metavar="SERVICE=PORT", action="append", default=[], type=_service_port,
                        help="serve SERVICE's gRPC on PORT instead of its own (repeatable)")
    return dict(parser.parse_args(argv).grpc_port)


def moved_sources(moved: Mapping[str, int]) -> str:
    """INDICATOR_SOURCES for a monolith whose gRPC ports moved: every source at the port it serves on."""
    return ",".join(f"{entry.name}=localhost:{moved.get(entry.name, entry.monolith_port)}"
                    for entry in registry.sources())


def _service_port(text: str) -> tuple[str, int]:
    name, _, port = text.partition("=")
    # Port 0 (any free port) is no address another service could be told: a moved port is a real one.
    if name not in SERVICES or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: expected SERVICE=PORT, SERVICE one of {', '.join(SERVICES)}")
    return name, int(port)


def main(argv: Sequence[str] | None = None) -> int:
    """`make run`; returns the exit status (0 after SIGTERM, 130 after SIGINT)."""
    # First: a signal during the long first start must stop it cleanly, not kill it half-way.
    signals = StopSignals().install()
    moved = grpc_ports(argv)
    if moved and sources.VARIABLE not in os.environ:
        # assessment's live scores ask the indicator sources where this process serves them.
        os.environ[sources.VARIABLE] = moved_sources(moved)
    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)
    metrics_port = start_metrics_server(settings.metrics_port)
    began = time.monotonic()
    # Only the gRPC ports move: HTTP stays on HTTP_PORT, as `make run` serves it.
    ports = {**moved, **{f"{name}_http": settings.http_port for name in SERVICES}} if moved else None
    try:
        hosted = start(settings, ports=ports, clock=FileClock(settings.clock_file) if settings.clock_file else None,
                       signals=signals)
    except StopRequested as stop:
        log.info("stopped during start-up; the next start resumes the demo district's loading",
                 extra={"signal": str(stop)})
        return stop.exit_status
    lines = ["", "智慧监管云中心 — monolithic mode", ""]
    lines += [f"  {s.runtime.name:<20} gRPC  localhost:{s.server.port}" for s in hosted]
    lines += [f"  {'metrics':<20} HTTP  http://localhost:{metrics_port}/metrics"]
    for service in hosted:
        lines += service.announce("localhost")
    lines += ["", f"  data: {os.path.abspath(settings.data_dir)}",
              "", f"  try: grpcurl -plaintext localhost:{hosted[0].server.port} list",
              "       .venv/bin/supervision offices list      (the operator command line; --help)", "",
              f"就绪 ready in {time.monotonic() - began:.0f}s", ""]
    print("\n".join(lines), file=sys.stderr, flush=True)
    signals.wait()
    log.info("stopping", extra={"signal": signals.received})
    stop_hosted(hosted)
    log.info("stopped")
    return signals.exit_status


def run() -> None:
    """The process's entry point: `main`, with exit 2 on a bad setting, its status otherwise."""
    exit_on_config_error(lambda: sys.exit(main()))


if __name__ == "__main__":
    run()
