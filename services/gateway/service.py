"""gateway wired together: the runtime every host (monolith, API process, worker, tests) runs.

Unlike the other services, the gateway's state lives in memory (the live index), so its runtime
carries those parts (`GatewayRuntime.parts`, services.gateway.parts), and its host is
services.gateway.hosting.GatewayHost (`GatewayRuntime.hosted`), which starts them beside the gRPC
server: the feeder, the history recorder, the HTTP server and, in microservices mode, the event
listener.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.common import retention
from services.common.clock import shanghai_today
from services.common.config import Settings
from services.common.db import Store, utcnow
from services.common.runtime import Registration, ServiceRuntime
from services.gateway.config import GatewayConfig
from services.gateway.domain.alerts import AlertRules
from services.gateway.domain.changes import ChangeLog
from services.gateway.domain.history import History
from services.gateway.domain.live import LiveIndex
from services.gateway.domain.monitor import Monitor
from services.gateway.domain.schemes import SchemeBook, load_starting_scheme
from services.gateway.feeder import Feeder
from services.gateway.handlers import Handlers
from services.gateway.metrics import IndexGauges
from services.gateway.models import AppliedVersion, DeadLetter, Inbox, Outbox
from services.gateway.parts import GatewayParts
from services.gateway.recorder import Recorder
from services.gateway.upstream import Credentials, Upstream

if TYPE_CHECKING:  # hosting is imported where a process hosts: the worker builds this runtime too
    from services.common.hosting import HostContext
    from services.common.relay import Transport
    from services.gateway.hosting import GatewayHost

NAME = "gateway"
GRPC_SERVICES = ["supervision.gateway.v1.MonitoringService"]


@dataclass(kw_only=True)
class GatewayRuntime(ServiceRuntime):
    parts: GatewayParts

    def hosted(self, settings: Settings, transport: Transport, *, port: int, host: str = "[::]",
               run_timers: bool = True, context: HostContext | None = None) -> GatewayHost:
        """The gateway's host: gRPC, the live index's parts and the HTTP server on the context's
        HTTP port, asking the peers of the same process and waiting for its demo loading."""
        if context is None:
            return hosted(self, settings, transport, port=port, host=host, run_timers=run_timers)
        return hosted(self, settings, transport, port=port, host=host, run_timers=run_timers,
                      http_port=context.http_port, peers=context.peers, startup=context.startup,
                      amqp_uri=context.broker)


def build(settings: Settings, store: Store, *, today=shanghai_today, now=utcnow,
          config: GatewayConfig | None = None) -> GatewayRuntime:
    config = config or GatewayConfig.from_env()
    rules = AlertRules.load()
    schemes = SchemeBook(load_starting_scheme())
    live = LiveIndex(schemes.starting, rules, config.sources, now)
    history = History(store)
    monitor = Monitor(store, live, ChangeLog(config.stream_replay_size), history, schemes, today, now)
    live.subscribe(IndexGauges())
    handlers = Handlers(monitor, store, config)
    upstream = Upstream(config.sources, config.source_timeout_seconds, Credentials(settings, config.service_token))
    parts = GatewayParts(config, monitor, upstream, Feeder(monitor, upstream, config, rules),
                         Recorder(live, history, now, lease_seconds=config.history_writer_lease_seconds))

    def registrations() -> list[Registration]:
        from services.gateway.api import MonitoringApi
        from supervision.gateway.v1 import gateway_pb2_grpc as pb_grpc

        # A watcher holds a server thread: watchers may take the stream slots (GRPC_MAX_STREAMS), which
        # leave threads for the other calls.
        return [(pb_grpc.add_MonitoringServiceServicer_to_server,
                 MonitoringApi(monitor, max_watchers=max(1, settings.grpc_max_streams)))]

    return GatewayRuntime(
        name=NAME, store=store, outbox_model=Outbox, inbox_model=Inbox, version_model=AppliedVersion,
        dead_letter_model=DeadLetter,
        migrations_dir=Path(__file__).with_name("migrations"), grpc_registrations=registrations,
        grpc_service_names=GRPC_SERVICES, subscriptions=handlers.subscriptions(),
        # The history goes with the event bookkeeping, by the gateway's own retention settings.
        timers=[retention.timer(NAME, store, settings, Outbox.metadata, retention.history_rules(
            Outbox.metadata, now, config.history_minute_days, config.history_day_days))],
        # No demo data of its own: the demo district reaches the gateway through the services' events.
        seed_demo=None, broadcast=True, parts=parts,
    )


def hosted(runtime: GatewayRuntime, settings: Settings, transport: Transport, *, port: int, host: str = "[::]",
           **options: Any) -> GatewayHost:
    """The gateway's host with its own options (services.gateway.hosting.GatewayHost: http_port,
    peers, startup, amqp_uri; sources, which tests use instead of INDICATOR_SOURCES)."""
    from services.gateway.hosting import GatewayHost

    return GatewayHost(runtime, settings, transport, parts=runtime.parts, port=port, host=host, **options)
