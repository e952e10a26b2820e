"""`python -m services.<service> serve | worker | migrate`: the microservices-mode entry points."""

from __future__ import annotations

import argparse
import importlib
import logging
from collections.abc import Callable

from prometheus_client import start_http_server

from services.common import logs, migrate
from services.common.config import ConfigError, Settings, exit_on_config_error
from services.common.db import Store, sqlite_url
from services.common.runtime import ServiceRuntime

log = logging.getLogger(__name__)

Build = Callable[[Settings, Store], ServiceRuntime]


def main(service: str, build: Build, argv: list[str] | None = None) -> None:
    exit_on_config_error(lambda: _main(service, build, argv))


def _main(service: str, build: Build, argv: list[str] | None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m services.{service}")
    parser.add_argument("command", choices=["serve", "worker", "migrate"])
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)
    store = Store(settings.database_url or sqlite_url(settings.data_dir, service))
    runtime = build(settings, store)
    if args.command == "migrate":
        migrate.upgrade(service, runtime.migrations_dir, store.url)
        log.info("migrated", extra={"service": service})
        return
    if not settings.amqp_uri:
        raise ConfigError(f"configuration error: AMQP_URI is required for '{args.command}' "
                          "(amqp://user:password@host:5672/); use `make run` for the monolithic mode")
    start_http_server(settings.metrics_port)
    if args.command == "worker":
        importlib.import_module(f"services.{service}.worker").run(runtime, settings)
        return
    serve(runtime, settings)


def serve(runtime: ServiceRuntime, settings: Settings) -> None:
    from services.common.amqp import NamekoTransport
    from services.common.grpc_server import wait_for_termination_signal
    from services.common.hosting import HostedService

    # Timers run in the worker only: two processes sweeping the same deadlines is wasted work.
    hosted = HostedService(runtime, settings, NamekoTransport(settings.amqp_uri), port=settings.grpc_port,
                           run_timers=False)
    hosted.start()
    wait_for_termination_signal()
    log.info("draining", extra={"service": runtime.name, "grace_seconds": settings.drain_grace_seconds})
    hosted.stop()
    runtime.store.dispose()
    log.info("stopped", extra={"service": runtime.name})
