"""Monolithic mode (`make run`): every service in one process, each on its own gRPC port, each with
its own SQLite file under DATA_DIR, events through the in-process bus. The gateway, last, serves
the dashboard and the HTTP/JSON API on HTTP_PORT; /metrics of the whole process is on METRICS_PORT,
as in the microservices mode, never on the public HTTP port. The dashboard's address carries a
bureau-leader token only with DEVELOPMENT_LOGIN=true.

A first start loads the demo district service by service (a line on stderr per step, then a ready
line); meanwhile the gateway's /readyz answers 503 with the step, and its history and alerts wait.
SIGTERM or SIGINT at any moment stops the process cleanly (exit 0, or 130 for SIGINT); the next
start finishes an interrupted loading (services.common.startup, services.common.demo)."""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
import time
from collections.abc import Callable

from services.common import logs, migrate
from services.common.bus import InProcessBus
from services.common.clock import Clock, FileClock
from services.common.config import ConfigError, Settings, exit_on_config_error, monolith_database_url
from services.common.db import Store
from services.common.demo import DemoOutcome
from services.common.hosting import HostedService
from services.common.runner import start_metrics_server, start_serving
from services.common.startup import StartupProgress, StopRequested, StopSignals

log = logging.getLogger(__name__)

# In start order: a service's demo data may depend on events of the ones before it.
SERVICES = ["command_center", "mobile_enforcement", "complaints", "emergency", "facilities", "assessment", "gateway"]
GATEWAY = "gateway"


def report_to_stderr(line: str) -> None:
    """A progress line for the person watching the terminal (whatever LOG_FORMAT says)."""
    print(line, file=sys.stderr, flush=True)


def start(settings: Settings, *, host: str = "[::]", ports: dict[str, int] | None = None,
          seed_demo: bool | None = None, clock: Clock | None = None, signals: StopSignals | None = None,
          report: Callable[[str], None] = report_to_stderr) -> list[HostedService]:
    """`ports`: gRPC port per service (0: any free port); when given, the gateway's HTTP port is
    ports["gateway_http"], or any free port. `clock` (tests of whole periods) replaces the
    services' today and now with its own. `signals` (installed by `main`) may stop the start with
    StopRequested, after stopping what was started; `report` gets the loading's progress lines."""
    signals = signals or StopSignals()  # not installed: it never fires
    load = settings.demo_data if seed_demo is None else seed_demo
    # The gateway has no demo data of its own: it shows the others'.
    progress = StartupProgress([name for name in SERVICES if name != GATEWAY] if load else (), report=report)
    bus = InProcessBus()
    hosted: list[HostedService] = []
    started: list[HostedService] = []
    try:
        for name in SERVICES:
            signals.checkpoint()
            module = importlib.import_module(f"services.{name}.service")
            url = monolith_database_url(name, settings)  # checked: exit 2 naming the variable
            store = Store(url)
            runtime = module.build(settings, store, **(clock.build_options(module.build) if clock else {}))
            migrate.upgrade(name, runtime.migrations_dir, store.url)
            bus.subscribe(runtime.consumer(), runtime.subscriptions)
            port = (ports or {}).get(name, module.MONOLITH_PORT)
            if name == GATEWAY:
                # It aggregates the services hosted before it, asked at the ports they actually got.
                http_port = settings.http_port if ports is None else ports.get(f"{GATEWAY}_http", 0)
                hosted.append(module.hosted(runtime, settings, bus, port=port, host=host, peers=list(hosted),
                                            http_port=http_port, startup=progress))
            else:
                hosted.append(HostedService(runtime, settings, bus, port=port, host=host))
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


def main() -> int:
    """`make run`; returns the exit status (0 after SIGTERM, 130 after SIGINT)."""
    # First: a signal during the long first start must stop it cleanly, not kill it half-way.
    signals = StopSignals().install()
    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)
    metrics_port = start_metrics_server(settings.metrics_port)
    began = time.monotonic()
    try:
        hosted = start(settings, clock=FileClock(settings.clock_file) if settings.clock_file else None,
                       signals=signals)
    except StopRequested as stop:
        log.info("stopped during start-up; the next start resumes the demo district's loading",
                 extra={"signal": str(stop)})
        return stop.exit_status
    gateway = next((s for s in hosted if s.runtime.name == GATEWAY), None)
    lines = ["", "智慧监管云中心 — monolithic mode", ""]
    lines += [f"  {s.runtime.name:<20} gRPC  localhost:{s.server.port}" for s in hosted]
    lines += [f"  {'metrics':<20} HTTP  http://localhost:{metrics_port}/metrics"]
    if gateway is not None:
        http_port = getattr(gateway, "http_port", settings.http_port)
        lines += [f"  {'API':<20} HTTP  http://localhost:{http_port}/api/v1/openapi.json",
                  "", f"  大屏 dashboard: {gateway.dashboard_url('localhost')}",
                  f"  投诉举报 citizens' page: http://localhost:{http_port}/complaint"]
        if settings.auth_mode == "jwt" and not gateway.parts.config.development_login:
            lines += ["  (AUTH_MODE=jwt: open it with #token=<jwt>; DEVELOPMENT_LOGIN=true prints a development login)"]
    lines += ["", f"  data: {os.path.abspath(settings.data_dir)}",
              "", "  try: grpcurl -plaintext localhost:50051 list",
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
