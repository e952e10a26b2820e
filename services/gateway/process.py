"""`python -m services.gateway serve | worker | migrate | dead-letters` (microservices mode).

`worker`, `migrate` and `dead-letters` are every service's (services.common.runner). `serve` hosts
the gateway: gRPC on GRPC_PORT, the dashboard, the HTTP/JSON API and the live stream on HTTP_PORT,
the event listener on AMQP_URI, /metrics on METRICS_PORT as every process (never on HTTP_PORT, the
public one) with the listener's /livez and /readyz. DEVELOPMENT_LOGIN is refused: a deployment never
mints tokens for itself.
"""

from __future__ import annotations

import logging
import sys

from services.common import logs, runner, worker_health
from services.common.config import ConfigError, Settings, exit_on_config_error, service_database_url
from services.common.db import Store
from services.common.grpc_server import wait_for_termination_signal
from services.gateway.config import GatewayConfig
from services.gateway.service import NAME, build

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] != ["serve"]:
        runner.main(NAME, build, argv)
        return
    exit_on_config_error(serve)


def serve() -> None:
    from services.common.amqp import NamekoTransport
    from services.gateway.hosting import GatewayHost
    from services.gateway.listener import LISTENER_LOOP

    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)
    if not settings.amqp_uri:
        raise ConfigError("configuration error: AMQP_URI is required for 'serve' (amqp://user:password@host:5672/); "
                          "use `make run` for the monolithic mode")
    if GatewayConfig.from_env().development_login:
        raise ConfigError("configuration error: DEVELOPMENT_LOGIN=true is for the monolithic mode only (`make run`); "
                          "a deployed gateway takes its users' tokens from the identity provider")
    store = Store(service_database_url(NAME, settings))  # checked: exit 2 naming the variable
    runtime = build(settings, store)
    worker_health.install(worker_health.WorkerHealth(settings.worker_stall_seconds, loops=[LISTENER_LOOP]))
    runner.start_metrics_server(settings.metrics_port)
    # Timers run in the worker: one retention sweep for every replica.
    hosted = GatewayHost(runtime, settings, NamekoTransport(settings.amqp_uri, settings.event_namespace),
                         port=settings.grpc_port, run_timers=False, amqp_uri=settings.amqp_uri)
    # Its listener takes EVENT_NAMESPACE from the environment, as the transport above is given it.
    runner.start_serving(hosted, settings)
    log.info("serving", extra={"service": NAME, "grpc_port": hosted.server.port, "http_port": hosted.http_port})
    wait_for_termination_signal()
    log.info("draining", extra={"service": NAME, "grace_seconds": settings.drain_grace_seconds})
    hosted.stop()
    store.dispose()
    log.info("stopped", extra={"service": NAME})
