"""Monolithic mode (`make run`): every service in one process, each on its own gRPC port, each with
its own SQLite file under DATA_DIR, events through the in-process bus. The gateway, last, serves
the dashboard and the HTTP/JSON API on HTTP_PORT; /metrics of the whole process is on METRICS_PORT,
as in the microservices mode, never on the public HTTP port. The dashboard's address carries a
bureau-leader token only with DEVELOPMENT_LOGIN=true."""

from __future__ import annotations

import importlib
import logging
import os
import sys

from services.common import logs, migrate
from services.common.bus import InProcessBus
from services.common.clock import Clock, FileClock
from services.common.config import Settings, exit_on_config_error
from services.common.db import Store, sqlite_url
from services.common.grpc_server import wait_for_termination_signal
from services.common.hosting import HostedService
from services.common.runner import start_metrics_server

log = logging.getLogger(__name__)

# In start order: a service's demo data may depend on events of the ones before it.
SERVICES = ["command_center", "mobile_enforcement", "complaints", "emergency", "facilities", "assessment", "gateway"]
GATEWAY = "gateway"


def start(settings: Settings, *, host: str = "[::]", ports: dict[str, int] | None = None,
          seed_demo: bool | None = None, clock: Clock | None = None) -> list[HostedService]:
    """`ports`: gRPC port per service (0: any free port); when given, the gateway's HTTP port is
    ports["gateway_http"], or any free port. `clock` (tests of whole periods) replaces the
    services' today and now with its own."""
    bus = InProcessBus()
    hosted: list[HostedService] = []
    for name in SERVICES:
        module = importlib.import_module(f"services.{name}.service")
        url = os.environ.get(f"{name.upper()}_DATABASE_URL") or sqlite_url(settings.data_dir, name)
        store = Store(url)
        runtime = module.build(settings, store, **(clock.build_options(module.build) if clock else {}))
        migrate.upgrade(name, runtime.migrations_dir, store.url)
        bus.subscribe(runtime.consumer(), runtime.subscriptions)
        port = (ports or {}).get(name, module.MONOLITH_PORT)
        if name == GATEWAY:
            # It aggregates the services hosted before it, asked at the ports they actually got.
            http_port = settings.http_port if ports is None else ports.get(f"{GATEWAY}_http", 0)
            hosted.append(module.hosted(runtime, settings, bus, port=port, host=host, peers=list(hosted),
                                        http_port=http_port))
        else:
            hosted.append(HostedService(runtime, settings, bus, port=port, host=host))
    for service in hosted:
        service.start()
    if settings.demo_data if seed_demo is None else seed_demo:
        for service in hosted:
            if service.runtime.seed_demo and service.runtime.seed_demo():
                log.info("demo data loaded", extra={"service": service.runtime.name})
            # The next service's demo builds on these events (offices, officers): deliver them first.
            for each in hosted:
                each.settle()
    return hosted


def main() -> None:
    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)
    metrics_port = start_metrics_server(settings.metrics_port)
    hosted = start(settings, clock=FileClock(settings.clock_file) if settings.clock_file else None)
    gateway = next((s for s in hosted if s.runtime.name == GATEWAY), None)
    lines = ["", "智慧监管云中心 — monolithic mode", ""]
    lines += [f"  {s.runtime.name:<20} gRPC  localhost:{s.server.port}" for s in hosted]
    lines += [f"  {'metrics':<20} HTTP  http://localhost:{metrics_port}/metrics"]
    if gateway is not None:
        lines += [f"  {'API':<20} HTTP  http://localhost:{settings.http_port}/api/v1/openapi.json",
                  "", f"  大屏 dashboard: {gateway.dashboard_url('localhost')}"]
        if settings.auth_mode == "jwt" and not gateway.parts.config.development_login:
            lines += ["  (AUTH_MODE=jwt: open it with #token=<jwt>; DEVELOPMENT_LOGIN=true prints a development login)"]
    lines += ["", f"  data: {os.path.abspath(settings.data_dir)}",
              "", "  try: grpcurl -plaintext localhost:50051 list", ""]
    print("\n".join(lines), file=sys.stderr, flush=True)
    wait_for_termination_signal()
    for service in hosted:
        service.stop()


if __name__ == "__main__":
    exit_on_config_error(main)
