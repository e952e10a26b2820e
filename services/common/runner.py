"""`python -m services.<service> serve | worker | migrate | dead-letters | verify-trails`: the entry
points of a service's processes, the operator's view of the events it parked, and the check of its
evidence trails.

`serve` hosts the runtime as every host does (`ServiceRuntime.hosted`); `worker` runs the nameko
worker the registry names for the service (services.common.registry)."""

from __future__ import annotations

import argparse
import importlib
import logging
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIEnvironment

from prometheus_client import make_wsgi_app

from services.common import dead_letters, logs, migrate, registry, trail_check, worker_health
from services.common.clock import FileClock
from services.common.config import ConfigError, Settings, exit_on_config_error, service_database_url
from services.common.db import Store
from services.common.runtime import ServiceRuntime

if TYPE_CHECKING:
    from services.common.hosting import HostedService

log = logging.getLogger(__name__)

Build = Callable[..., ServiceRuntime]  # build(settings, store, *, today=..., now=...)
# A service's own checks of a command's settings, before anything is opened (command, settings).
StartChecks = Callable[[str, Settings], None]
COMMANDS = ("serve", "worker", "migrate", "dead-letters", "verify-trails")


def main(service: str, build: Build, argv: list[str] | None = None, *,
         start_checks: StartChecks | None = None) -> None:
    """The service's command line (`python -m services.<service>`); a bad setting exits 2 naming it."""
    exit_on_config_error(lambda: run(service, build, argv, start_checks=start_checks))


def run(service: str, build: Build, argv: list[str] | None = None, *,
        start_checks: StartChecks | None = None) -> None:
    """`main` without the exit: a bad setting raises ConfigError (tests)."""
    entry = registry.spec(service)
    parser = argparse.ArgumentParser(prog=f"python -m {entry.package}")
    parser.add_argument("command", choices=[c for c in COMMANDS if c != "worker" or entry.has_worker])
    parser.add_argument("--replay", metavar="ID", type=int, action="append", default=[],
                        help="dead-letters: deliver this parked event again (repeatable)")
    parser.add_argument("--replay-all", action="store_true",
                        help="dead-letters: deliver every parked event not yet replayed again")
    parser.add_argument("--chain", metavar="KEY", help="verify-trails: check only this trail (its chain key)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)
    if args.command in ("serve", "worker") and not settings.amqp_uri:
        raise ConfigError(f"configuration error: AMQP_URI is required for '{args.command}' "
                          "(amqp://user:password@host:5672/); use `make run` for the monolithic mode")
    if start_checks is not None:
        start_checks(args.command, settings)
    store = Store(service_database_url(service, settings))  # checked: exit 2 naming the variable
    runtime = build(settings, store, **clock_options(settings, build))
    if args.command == "migrate":
        migrate.upgrade(service, runtime.migrations_dir, store.url)
        log.info("migrated", extra={"service": service})
        return
    if args.command == "dead-letters":
        raise SystemExit(dead_letters.run(runtime, args.replay, args.replay_all))
    if args.command == "verify-trails":
        raise SystemExit(trail_check.run(runtime, args.chain))
    if args.command == "worker":
        work(entry, runtime, settings)
        return
    serve(runtime, settings)


def work(entry: registry.ServiceSpec, runtime: ServiceRuntime, settings: Settings) -> None:
    """The service's nameko worker (microservices mode), with /metrics, /livez and /readyz on METRICS_PORT."""
    # Before the metrics server: its /livez and /readyz answer from the first request on.
    worker_health.install(worker_health.WorkerHealth(settings.worker_stall_seconds))
    start_metrics_server(settings.metrics_port)
    # Imported here, never before: a worker module needs the eventlet-patched process its __main__ made.
    importlib.import_module(entry.worker_module).run(runtime, settings)


class _MetricsServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes and scrapes every few seconds would flood the log."""


def start_metrics_server(port: int) -> int:
    """/metrics of the whole process on a port of its own (METRICS_PORT), which only Prometheus and
    the kubelet may reach; in a process running an event consumer also /livez and /readyz
    (services.common.worker_health). Returns the port it got (0 asks for any free one).

    The server runs in a real thread: in a worker it keeps answering while the eventlet hub is
    blocked, which is when /livez has to say so."""
    metrics = make_wsgi_app()

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # A Server header of our own: wsgiref's names the Python version, which security scans flag.
        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
            return start_response(status, [*headers, ("Server", "supervision-metrics")], exc_info)

        probe = worker_health.probe_response(environ.get("PATH_INFO", ""))
        if probe is None:
            scraped: Iterable[bytes] = metrics(environ, respond)  # prometheus_client ships no types
            return scraped
        status, body = probe
        respond(f"{status} {HTTPStatus(status).phrase}",
                [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")])
        return [body.encode()]

    try:
        server = make_server("0.0.0.0", port, app, _MetricsServer, handler_class=_QuietHandler)
    except OSError as exc:  # taken by another process, or a privileged port
        raise ConfigError(f"configuration error: METRICS_PORT={port} cannot be listened on ({exc.strerror or exc}); "
                          "expected a free TCP port (0 takes any)") from None
    threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True).start()
    return server.server_port


def clock_options(settings: Settings, build: Build) -> dict[str, Callable[[], Any]]:
    """With CLOCK_FILE (rehearsals and tests of whole periods), build's today and now read it."""
    if not settings.clock_file:
        return {}
    log.warning("time comes from CLOCK_FILE, not the system clock", extra={"clock_file": settings.clock_file})
    return FileClock(settings.clock_file).build_options(build)


# grpcio's words when add_insecure_port finds the address taken (it raises a bare RuntimeError).
_GRPC_BIND_FAILED = "Failed to bind to address"


def start_serving(hosted: HostedService, settings: Settings | None = None, port_is: str = "") -> None:
    """hosted.start(); a gRPC port another process holds is a ConfigError naming it (exit 2), after
    stopping what had started, instead of a traceback. `port_is` says where the port comes from
    (default: GRPC_PORT of `settings`)."""
    try:
        hosted.start()
    except RuntimeError as exc:
        if not str(exc).startswith(_GRPC_BIND_FAILED):
            raise
        hosted.stop(0)
        where = port_is or f"GRPC_PORT={settings.grpc_port if settings else hosted.settings.grpc_port}"
        raise ConfigError(f"configuration error: {where} cannot be listened on (address already in use); "
                          "expected a free TCP port") from None


def serve(runtime: ServiceRuntime, settings: Settings) -> None:
    """The API process (microservices mode): the runtime's host on GRPC_PORT, events out through
    RabbitMQ, /metrics on METRICS_PORT, until SIGTERM or SIGINT; then it drains and stops."""
    from services.common.amqp import NamekoTransport
    from services.common.grpc_server import wait_for_termination_signal
    from services.common.hosting import HostContext

    # Timers run in the worker only: two processes sweeping the same deadlines is wasted work.
    hosted = runtime.hosted(settings, NamekoTransport(settings.amqp_uri, settings.event_namespace),
                            port=settings.grpc_port, run_timers=False, context=HostContext(broker=settings.amqp_uri))
    if hosted.consumer_loops:
        # A host consuming events itself (the gateway's broadcast listener) is watched like a worker;
        # installed before the metrics server, so /livez and /readyz answer from the first request on.
        worker_health.install(worker_health.WorkerHealth(settings.worker_stall_seconds, loops=hosted.consumer_loops))
    start_metrics_server(settings.metrics_port)
    start_serving(hosted, settings)
    wait_for_termination_signal()
    log.info("draining", extra={"service": runtime.name, "grace_seconds": settings.drain_grace_seconds})
    hosted.stop()
    runtime.store.dispose()
    log.info("stopped", extra={"service": runtime.name})
