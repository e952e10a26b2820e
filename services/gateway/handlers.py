"""Events the gateway consumes, and its timer.

Each process that serves the live index applies these to its own model: in monolithic mode
through the in-process bus (with the store's inbox and versions, like every service), in the
microservices API process through its own broadcast queue (services/gateway/listener.py). The
live model also checks versions itself, so a repeat or an older state never moves it.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session

from services.common.consumer import Subscription, Timer
from services.common.db import Store
from services.common.events import Envelope
from services.common.indicators import INDICATORS_CHANGED
from services.common.sources import SOURCES
from services.gateway.config import GatewayConfig
from services.gateway.domain.feed import NOTABLE
from services.gateway.domain.monitor import Monitor
from services.gateway.metrics import EVENT_LAG

log = logging.getLogger(__name__)


class Handlers:
    def __init__(self, monitor: Monitor, store: Store, config: GatewayConfig):
        self.monitor = monitor
        self.store = store
        self.config = config

    def indicators_changed(self, session: Session | None, event: Envelope) -> None:
        EVENT_LAG.labels(event.source).observe(max(0.0, time.time() - event.time.timestamp()))
        self.monitor.indicators_changed(event)

    def scheme_updated(self, session: Session | None, event: Envelope) -> None:
        body = event.data.get("scheme")
        if not isinstance(body, dict):
            log.error("SchemeUpdated without a scheme", extra={"event_id": event.id})
            return
        body = {**body, "effective_from": event.data.get("effective_from") or body.get("effective_from")}
        if session is not None:
            self.monitor.scheme_published(body, session)
            return
        # The listener of the API process applies events outside the consumer's transaction.
        with self.store.transaction() as own:
            self.monitor.scheme_published(body, own)

    def office_changed(self, session: Session | None, event: Envelope) -> None:
        self.monitor.office_changed(event)

    def notable(self, session: Session | None, event: Envelope) -> None:
        self.monitor.notable(event)

    def subscriptions(self) -> list[Subscription]:
        # Versioned: each carries a whole state (an office's indicators from one source, the scheme,
        # an office), so an older one than applied is skipped.
        states = [Subscription(source, INDICATORS_CHANGED, self.indicators_changed) for source in SOURCES]
        states += [Subscription("assessment", "SchemeUpdated", self.scheme_updated),
                   Subscription("command_center", "OfficeRegistered", self.office_changed),
                   Subscription("command_center", "OfficeUpdated", self.office_changed)]
        # Facts for the live feed and the alert probes: each once, whatever its aggregate's version.
        facts = [Subscription(source, event_type, self.notable, versioned=False) for source, event_type in NOTABLE]
        return states + facts

    def timers(self) -> list[Timer]:
        return [Timer("prune_history", lambda: self.monitor.history.prune(
            self.monitor.now(), self.config.history_minute_days, self.config.history_day_days))]
