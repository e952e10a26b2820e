"""Consuming events: declared once per service, applied exactly once, hosted by either transport.

A service's handlers.py declares Subscriptions and Timers. The in-process bus (monolithic mode)
and the nameko worker (microservices mode) both call Consumer.handle, which applies the handler,
records the event id in the inbox and the aggregate version in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.db import Store, utcnow
from services.common.errors import DomainError
from services.common.events import AppliedVersionMixin, Envelope, InboxMixin, MalformedEvent
from services.common.metrics import EVENTS_CONSUMED, HANDLER_SECONDS, TIMER_LAST_SUCCESS, TIMER_RUNS

log = logging.getLogger(__name__)

Handler = Callable[[Session, Envelope], None]


@dataclass(frozen=True)
class Subscription:
    source: str
    event_type: str
    handler: Handler
    # Ignore an event whose aggregate version is not newer than the one applied. Off for events
    # that are not states of an aggregate (e.g. a notification that something happened).
    versioned: bool = True

    @property
    def name(self) -> str:
        return f"on_{self.source}_{self.event_type}"


@dataclass(frozen=True)
class Timer:
    """Work that time alone makes necessary (a deadline passing), run every interval."""

    name: str
    run: Callable[[], Any]


APPLIED, DUPLICATE, STALE, REJECTED = "applied", "duplicate", "stale", "rejected"


class Consumer:
    def __init__(self, service: str, store: Store, inbox_model: type[InboxMixin],
                 version_model: type[AppliedVersionMixin]):
        self.service = service
        self.store = store
        self.inbox = inbox_model
        self.versions = version_model

    def handle(self, subscription: Subscription, wire: dict[str, Any]) -> str:
        """Applies one delivery. Raises only for failures worth a redelivery (e.g. the store down)."""
        started = time.perf_counter()
        try:
            envelope = Envelope.from_wire(wire)
        except MalformedEvent as exc:
            log.error("event rejected", extra={"service": self.service, "error": str(exc)})
            EVENTS_CONSUMED.labels(self.service, subscription.source, subscription.event_type, REJECTED).inc()
            return REJECTED
        try:
            outcome = self._apply(subscription, envelope)
        except IntegrityError:
            # A concurrent redelivery of the same event won the race to the inbox row.
            outcome = self._apply(subscription, envelope)
        EVENTS_CONSUMED.labels(self.service, envelope.source, envelope.type, outcome).inc()
        HANDLER_SECONDS.labels(self.service, envelope.type).observe(time.perf_counter() - started)
        return outcome

    def _apply(self, subscription: Subscription, envelope: Envelope) -> str:
        try:
            with self.store.transaction() as session:
                if session.get(self.inbox, envelope.id) is not None:
                    return DUPLICATE
                outcome = APPLIED
                if subscription.versioned and envelope.aggregate_id:
                    outcome = self._advance_version(session, envelope)
                if outcome == APPLIED:
                    subscription.handler(session, envelope)
                session.add(self.inbox(event_id=envelope.id, source=envelope.source,
                                       event_type=envelope.type, applied_at=utcnow()))
                return outcome
        except DomainError as exc:
            # The event is valid but our rules refuse it: redelivering would refuse it again.
            log.error("event refused by domain rules",
                      extra={"service": self.service, "event_id": envelope.id, "event_type": envelope.type,
                             "error": exc.message})
            with self.store.transaction() as session:
                if session.get(self.inbox, envelope.id) is None:
                    session.add(self.inbox(event_id=envelope.id, source=envelope.source,
                                           event_type=envelope.type, applied_at=utcnow()))
            return REJECTED

    def _advance_version(self, session: Session, envelope: Envelope) -> str:
        key = f"{envelope.source}/{envelope.subject}"
        # Locked: two events of one aggregate handled at once must not both read the older version
        # and let the slower writer put it back (SQLite's BEGIN IMMEDIATE serializes them anyway).
        applied = session.get(self.versions, key, with_for_update=True)
        if applied is not None and envelope.aggregate_version <= applied.version:
            return STALE
        if applied is None:
            session.add(self.versions(aggregate=key, version=envelope.aggregate_version))
        else:
            applied.version = envelope.aggregate_version
        return APPLIED


def run_timer(service: str, timer: Timer, store: Store | None = None) -> None:
    """One run of a timer, with its outcome counted; errors are logged, never raised to the host.

    On PostgreSQL the run holds an advisory lock named after the service and timer, so with several
    worker replicas one sweeps at a time and the others skip that round (no duplicate events)."""
    try:
        with exclusive_run(store, f"{service}.{timer.name}") as mine:
            if not mine:
                TIMER_RUNS.labels(service, timer.name, "skipped").inc()
                return
            timer.run()
    except Exception:  # a failed sweep is retried at the next interval (log.exception keeps it visible)
        TIMER_RUNS.labels(service, timer.name, "error").inc()
        log.exception("timer failed", extra={"service": service, "timer": timer.name})
        return
    TIMER_RUNS.labels(service, timer.name, "ok").inc()
    TIMER_LAST_SUCCESS.labels(service, timer.name).set_to_current_time()


@contextmanager
def exclusive_run(store: Store | None, name: str) -> Iterator[bool]:
    """Yields whether this process may run `name` now (always, on SQLite: one process per file)."""
    if store is None or store.is_sqlite:
        yield True
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with store.engine.connect() as connection:
        acquired = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one()
        connection.commit()
        try:
            yield bool(acquired)
        finally:
            if acquired:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
