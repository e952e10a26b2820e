"""Events the gateway consumes (its retention timer is services.common.retention's, see service.py).

Each process that serves the live index applies these to its own model: in monolithic mode
through the in-process bus (with the store's inbox and versions, like every service), in the
microservices API process through its own broadcast queue (services/gateway/listener.py). The
live model also checks versions itself, so a repeat or an older state never moves it.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from services.common.consumer import Subscription
from services.common.db import Store
from services.common.events import Event
from services.common.scoring_messages import scheme_dict_from_message
from services.common.sources import SOURCES
from services.gateway.config import GatewayConfig
from services.gateway.domain.feed import NOTABLE
from services.gateway.domain.monitor import Monitor
from services.gateway.metrics import EVENT_LAG
from supervision.assessment.v1.events_pb2 import SchemeUpdated
from supervision.command_center.v1.events_pb2 import OfficeRegistered, OfficeUpdated
from supervision.common.v1.events_pb2 import IndicatorsChanged


class Handlers:
    def __init__(self, monitor: Monitor, store: Store, config: GatewayConfig):
        self.monitor = monitor
        self.store = store
        self.config = config

    def indicators_changed(self, session: Session | None, event: Event[IndicatorsChanged]) -> None:
        """Moves the office's indicators from that source in the live index, and so its score and rank."""
        EVENT_LAG.labels(event.source).observe(max(0.0, time.time() - event.time.timestamp()))
        self.monitor.indicators_changed(event)

    def scheme_updated(self, session: Session | None, event: Event[SchemeUpdated]) -> None:
        """Keeps the scheme version in the store and scores with it from its effective day."""
        message = event.message
        # The names people read come with the publication, for scored and unscored indicators alike.
        body = {**scheme_dict_from_message(message.scheme), "names": dict(message.names),
                "unscored_names": dict(message.unscored_names)}
        body["version"] = body["version"] or message.version
        if session is not None:
            self.monitor.scheme_published(body, session)
            return
        # The listener of the API process applies events outside the consumer's transaction.
        with self.store.transaction() as own:
            self.monitor.scheme_published(body, own)

    def office_changed(self, session: Session | None, event: Event[OfficeRegistered | OfficeUpdated]) -> None:
        """Names the office in the live index (OfficeRegistered and OfficeUpdated alike)."""
        self.monitor.office_changed(event)

    def notable(self, session: Session | None, event: Event) -> None:
        """Shows the event in the live feed and/or re-runs its source's alert probe (feed.NOTABLE says which)."""
        self.monitor.notable(event)

    def subscriptions(self) -> list[Subscription]:
        # Versioned: each carries a whole state (an office's indicators from one source, the scheme,
        # an office), so an older one than applied is skipped.
        states = [Subscription(source, IndicatorsChanged, self.indicators_changed) for source in SOURCES]
        states += [Subscription("assessment", SchemeUpdated, self.scheme_updated),
                   Subscription("command_center", OfficeRegistered, self.office_changed),
                   Subscription("command_center", OfficeUpdated, self.office_changed)]
        # Facts for the live feed and the alert probes: each once, whatever its aggregate's version.
        facts = [Subscription(source, message, self.notable, versioned=False) for source, message in NOTABLE]
        return states + facts
