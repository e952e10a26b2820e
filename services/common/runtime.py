"""What a service is made of, independent of how it is hosted.

Each service's service.py builds a ServiceRuntime; monolithic mode, the API process, the nameko
worker and the tests all host that same object, so only the wiring differs between run modes. Every
host asks the runtime for the object that runs it in a process (`hosted`); a service that runs more
than gRPC beside its store (the gateway) subclasses the runtime and answers with its own host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from services.common.business_metrics import ItemCounts
from services.common.config import Settings
from services.common.consumer import Consumer, Subscription, Timer
from services.common.db import Store
from services.common.demo import DemoOutcome
from services.common.events import AppliedVersionMixin, DeadLetterMixin, InboxMixin, OutboxMixin
from services.common.hash_chain import Trail, TrailKeys
from services.common.indicators import IndicatorRefresher
from services.common.metrics import initialise_consumer_series

if TYPE_CHECKING:  # hosting is imported where a process hosts: the nameko worker never serves gRPC
    from services.common.hosting import HostContext, HostedService
    from services.common.relay import Transport

# A gRPC servicer and the generated function adding it to a server.
Registration = tuple[Callable[[object, grpc.Server], None], object]


@dataclass
class ServiceRuntime:
    """One service's parts as its service.py wired them: store, event bookkeeping, API, handlers,
    timers, demo loader, indicator refresher; the same object in every run mode."""

    name: str
    store: Store
    outbox_model: type[OutboxMixin]
    inbox_model: type[InboxMixin]
    version_model: type[AppliedVersionMixin]
    migrations_dir: Path
    # Built only by processes that serve gRPC: the nameko worker never imports the API layer.
    grpc_registrations: Callable[[], list[Registration]]
    grpc_service_names: list[str]
    subscriptions: list[Subscription] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    # Loads the demo district into an empty store, or finishes an interrupted load; says what it
    # did and what it left out (services.common.demo).
    seed_demo: Callable[[], DemoOutcome] | None = None
    # Recomputes indicators after commits; every process that writes to the store runs it.
    indicators: IndicatorRefresher | None = None
    # Open and overdue items per office, read at scrape time by the API process.
    item_counts: ItemCounts | None = None
    # Broadcast subscriptions reach every replica (the gateway's live model) instead of one.
    broadcast: bool = False
    # Where deliveries that cannot be applied are parked for an operator.
    dead_letter_model: type[DeadLetterMixin] | None = None
    # The evidence trails the service keeps and the keys they are sealed with (`verify-trails`).
    trails: list[Trail] = field(default_factory=list)
    trail_keys: TrailKeys | None = None

    def consumer(self) -> Consumer:
        """The consumer applying this service's subscriptions to its store (inbox, versions, dead letters)."""
        if self.dead_letter_model is None:
            raise RuntimeError(f"{self.name}: a service that consumes events needs a dead-letter table")
        # Every process that consumes builds its consumer here: the alerts' series start at 0.
        initialise_consumer_series(self.name, self.subscriptions, self.timers)
        return Consumer(self.name, self.store, self.inbox_model, self.version_model, self.dead_letter_model)

    def hosted(self, settings: Settings, transport: Transport, *, port: int, host: str = "[::]",
               run_timers: bool = True, context: HostContext | None = None) -> HostedService:
        """The object that runs this service in a process, serving gRPC on `host`:`port` and
        publishing through `transport`; `context` is the process around it (HostContext)."""
        from services.common.hosting import HostedService

        return HostedService(self, settings, transport, port=port, host=host, run_timers=run_timers)
