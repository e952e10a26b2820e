"""What a service is made of, independent of how it is hosted.

Each service's service.py builds a ServiceRuntime; monolithic mode, the API process, the nameko
worker and the tests all host that same object, so only the wiring differs between run modes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from services.common.business_metrics import ItemCounts
from services.common.consumer import Consumer, Subscription, Timer
from services.common.db import Store
from services.common.demo import DemoOutcome
from services.common.events import AppliedVersionMixin, DeadLetterMixin, InboxMixin, OutboxMixin
from services.common.hash_chain import Trail, TrailKeys
from services.common.indicators import IndicatorRefresher
from services.common.metrics import initialise_consumer_series

Registration = tuple[Callable[[object, grpc.Server], None], object]


@dataclass
class ServiceRuntime:
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
        if self.dead_letter_model is None:
            raise RuntimeError(f"{self.name}: a service that consumes events needs a dead-letter table")
        # Every process that consumes builds its consumer here: the alerts' series start at 0.
        initialise_consumer_series(self.name, self.subscriptions, self.timers)
        return Consumer(self.name, self.store, self.inbox_model, self.version_model, self.dead_letter_model)
