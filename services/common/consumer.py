"""Consuming events: declared once per service, applied exactly once, hosted by either transport.

A service's handlers.py declares Subscriptions and Timers. A subscription names the publisher and
the message class it consumes; its handler receives the decoded, typed message. The in-process bus
(monolithic mode) and the nameko worker (microservices mode) both call Consumer.handle, which
decodes the event, applies the handler, and records the event id in the inbox and the aggregate
version in one transaction. What cannot be applied (malformed, of an unknown type, undecodable, or
refused by the rules) is counted, logged with its id and parked in the dead-letter table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from services.common import contracts, legacy_events, tracing
from services.common.db import Store, table_of, utcnow
from services.common.errors import DomainError
from services.common.events import (
    AppliedVersionMixin,
    DeadLetterMixin,
    Envelope,
    Event,
    InboxMixin,
    MalformedEvent,
)
from services.common.leases import TIMER_LEASE_INTERVALS, Lease
from services.common.metrics import (
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    HANDLER_SECONDS,
    TIMER_LAST_SUCCESS,
    TIMER_RUNS,
)

log = logging.getLogger(__name__)

# Any: each subscription's handler takes events of its own message type.
Handler = Callable[[Session, Event[Any]], None]
# SWEEP_INTERVAL_SECONDS' default, for hosts that do not say how often they run a timer.
DEFAULT_SWEEP_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class Subscription:
    """`handler` receives an Event whose message is an instance of `message` (the publisher's)."""

    source: str
    message: type[Message]
    handler: Handler
    # Ignore an event whose aggregate version is not newer than the one applied. Off for events
    # that are not states of an aggregate (e.g. a notification that something happened).
    versioned: bool = True

    @property
    def event_type(self) -> str:
        """nameko's event type (the routing key): the message's short name."""
        return self.message.DESCRIPTOR.name

    @property
    def type_name(self) -> str:
        """The envelope type this subscription consumes: the message's full name."""
        return contracts.type_name(self.message)

    @property
    def name(self) -> str:
        """The subscription's handler name in the worker (and its queue's suffix): on_<source>_<type>."""
        return f"on_{self.source}_{self.event_type}"

    def decode(self, envelope: Envelope) -> Event[Message]:
        """The envelope with its message decoded; raises UndecodableEvent (or UnknownEventType)."""
        def legacy(message_class: type[Message], data: Any) -> Message:
            return legacy_events.upgrade(message_class, data, aggregate_id=envelope.aggregate_id,
                                         version=envelope.aggregate_version, office_id=envelope.office_id,
                                         time=envelope.time)

        return Event(envelope, contracts.decode(self.message, envelope.type, envelope.data, legacy=legacy))


@dataclass(frozen=True)
class Timer:
    """Work that time alone makes necessary (a deadline passing), run every interval."""

    name: str
    run: Callable[[], Any]


APPLIED, DUPLICATE, STALE, REJECTED = "applied", "duplicate", "stale", "rejected"
# Why a delivery was parked in the dead-letter table (besides the decoder's unknown_type and undecodable).
MALFORMED, REFUSED, FAILED = "malformed", "refused", "failed"
# Failures of the store or the network, not of the event: redelivered until they pass.
TRANSIENT = (OperationalError, InterfaceError, PoolTimeout, DisconnectionError, PendingRollbackError,
             ConnectionError, TimeoutError)


# Deliveries one consumer applies in one transaction (handle_many): large enough that a transaction's
# cost is shared, small enough that the service's other writers wait on its store only briefly.
MAX_GROUP = 25


class PartialDelivery(Exception):
    """handle_many stopped on a failure worth a redelivery after `applied` deliveries took effect."""

    def __init__(self, applied: int, cause: BaseException):
        super().__init__(f"{applied} deliveries applied, then {cause!r}")
        self.applied = applied
        self.cause = cause


def transient(exc: BaseException) -> bool:
    """True for a failure of the store or the network (worth a redelivery), not of the event."""
    return isinstance(exc, TRANSIENT) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


class Consumer:
    """Applies one service's deliveries exactly once each: inbox, aggregate versions, dead letters."""

    def __init__(self, service: str, store: Store, inbox_model: type[InboxMixin],
                 version_model: type[AppliedVersionMixin], dead_letter_model: type[DeadLetterMixin]):
        self.service = service
        self.store = store
        self.inbox = inbox_model
        self.versions = version_model
        self.dead_letters = dead_letter_model
        # The bookkeeping of every delivery as Core statements built once: the ORM's get, add and
        # flush of the inbox and version rows cost several times the statements themselves, and
        # a district registering delivers tens of thousands of events.
        inbox, versions = table_of(inbox_model), table_of(version_model)
        self._seen = select(inbox.c.event_id).where(inbox.c.event_id == bindparam("event_id"))
        self._record_seen = insert(inbox)
        self._applied_version = (select(versions.c.version).where(versions.c.aggregate == bindparam("aggregate"))
                                 .with_for_update())
        self._first_version = insert(versions)
        self._next_version = (update(versions).where(versions.c.aggregate == bindparam("key"))
                              .values(version=bindparam("version")))

    def handle(self, subscription: Subscription, wire: dict[str, Any]) -> str:
        """Applies one delivery. Raises only for failures worth a redelivery (e.g. the store down)."""
        # In the trace of the call whose change published the event (through the relay's span), so
        # the events this handler writes carry it on too: one trace from a call to all its effects.
        traceparent = wire.get("traceparent") if isinstance(wire, dict) else None
        with tracing.span(f"consume {subscription.name}", tracing.CONSUMER, tracing.remote_parent(traceparent),
                          self._span_attributes(subscription, wire)) as span:
            outcome = self._handle(subscription, wire)
            if span.is_recording():
                span.set_attribute("supervision.outcome", outcome)
                if outcome == REJECTED:
                    tracing.fail(span, description="parked in dead letters")
            return outcome

    def handle_many(self, deliveries: list[tuple[Subscription, dict[str, Any]]]) -> list[str]:
        """Applies deliveries in their order, as many as MAX_GROUP in one transaction (group commit):
        a district registering delivers tens of thousands of events, and a transaction each cost
        more than most handlers. A group that cannot be applied plainly (an event malformed or
        refused, a handler failing, a race) is rolled back whole and its deliveries are handled one
        by one, as handle() does. Raises PartialDelivery when a failure worth a redelivery stops
        the one-by-one handling: its `applied` deliveries took effect, the others did not."""
        outcomes: list[str] = []
        for start in range(0, len(deliveries), MAX_GROUP):
            group = deliveries[start:start + MAX_GROUP]
            grouped = self._apply_group(group) if len(group) > 1 else None
            if grouped is not None:
                outcomes += grouped
                continue
            for subscription, wire in group:
                try:
                    outcomes.append(self.handle(subscription, wire))
                except Exception as exc:
                    raise PartialDelivery(len(outcomes), exc) from exc
        return outcomes

    def _apply_group(self, group: list[tuple[Subscription, dict[str, Any]]]) -> list[str] | None:
        """The outcomes of a group applied in one transaction, or None when it was not (rolled back)."""
        started = time.perf_counter()
        events: list[tuple[Subscription, Event[Message], dict[str, Any]]] = []
        try:
            for subscription, wire in group:
                events.append((subscription, subscription.decode(Envelope.from_wire(wire)), wire))
        except (MalformedEvent, contracts.UndecodableEvent):
            return None  # parked one by one
        outcomes: list[str] = []
        try:
            with self.store.transaction() as session:
                for subscription, event, wire in events:
                    traceparent = wire.get("traceparent")
                    with tracing.span(f"consume {subscription.name}", tracing.CONSUMER,
                                      tracing.remote_parent(traceparent), self._span_attributes(subscription, wire)
                                      ) as span:
                        outcomes.append(self._apply_in(session, subscription, event))
                        if span.is_recording():
                            span.set_attribute("supervision.outcome", outcomes[-1])
        except Exception:  # noqa: BLE001 - nothing of the group was kept; one by one says what failed
            # The spans of the events before the failing one were ended as applied; the one-by-one
            # handling that follows records each event's real outcome in a span of its own.
            return None
        seconds = (time.perf_counter() - started) / len(events)
        for (_, event, _), outcome in zip(events, outcomes, strict=True):
            envelope = event.envelope
            EVENTS_CONSUMED.labels(self.service, envelope.source, envelope.routing_key, outcome).inc()
            HANDLER_SECONDS.labels(self.service, envelope.routing_key).observe(seconds)
        return outcomes

    def _span_attributes(self, subscription: Subscription, wire: Any) -> dict[str, str]:
        return {"messaging.system": "supervision", "messaging.operation.type": "process",
                "messaging.consumer.group.name": self.service,
                "messaging.destination.name": f"{subscription.source}.events",
                "messaging.message.id": str(wire.get("id") or "") if isinstance(wire, dict) else ""}

    def _handle(self, subscription: Subscription, wire: dict[str, Any]) -> str:
        started = time.perf_counter()
        try:
            envelope = Envelope.from_wire(wire)
        except MalformedEvent as exc:
            return self.park(subscription, wire, MALFORMED, str(exc))
        try:
            event = subscription.decode(envelope)
        except contracts.UndecodableEvent as exc:
            return self.park(subscription, wire, exc.reason, str(exc))
        try:
            outcome = self._apply(subscription, event)
        except IntegrityError:
            # A concurrent redelivery of the same event won the race to the inbox row.
            outcome = self._apply(subscription, event)
        except (DomainError, DataError) as exc:
            # The event is valid but our rules refuse it, or our store cannot hold a value it carries
            # (e.g. longer than a column): redelivering would fail the same way for ever, so it is
            # marked as seen and parked for an operator (replaying it clears the mark).
            self._mark_seen(envelope)
            reason = exc.message if isinstance(exc, DomainError) else f"the store refused a value: {exc.orig}"
            return self.park(subscription, wire, REFUSED, reason)
        except Exception as exc:
            if transient(exc):
                raise  # the store or the network is away: the transport redelivers once it is back
            # A handler's own failure (a bug) on this event. Redelivering would fail the same way and,
            # in monolithic mode, hold back every later event of the publisher behind this one:
            # parked for the fix, then a replay.
            log.exception("event handler failed", extra={"service": self.service, "event_id": envelope.id,
                                                         "event_type": envelope.type})
            self._mark_seen(envelope)
            return self.park(subscription, wire, FAILED, f"{type(exc).__name__}: {exc}")
        EVENTS_CONSUMED.labels(self.service, envelope.source, envelope.routing_key, outcome).inc()
        HANDLER_SECONDS.labels(self.service, envelope.routing_key).observe(time.perf_counter() - started)
        return outcome

    def _mark_seen(self, envelope: Envelope) -> None:
        """Records a parked event in the inbox, so its redelivery is a duplicate, not a loop."""
        with self.store.transaction() as session:
            if session.get(self.inbox, envelope.id) is None:
                session.add(self.inbox(event_id=envelope.id, source=envelope.source, event_type=envelope.type,
                                       applied_at=utcnow()))

    def _apply(self, subscription: Subscription, event: Event[Message]) -> str:
        with self.store.transaction() as session:
            return self._apply_in(session, subscription, event)

    def _apply_in(self, session: Session, subscription: Subscription, event: Event[Message]) -> str:
        """Applies one event in the caller's transaction: once (inbox), never older than what was applied."""
        envelope = event.envelope
        connection = session.connection()
        if connection.execute(self._seen, {"event_id": envelope.id}).first() is not None:
            return DUPLICATE
        outcome = APPLIED
        if subscription.versioned and envelope.aggregate_id:
            outcome = self._advance_version(session, envelope)
        if outcome == APPLIED:
            subscription.handler(session, event)
        connection.execute(self._record_seen, {"event_id": envelope.id, "source": envelope.source,
                                               "event_type": envelope.type, "applied_at": utcnow()})
        return outcome

    # ------------------------------------------------------------------ dead letters

    def park(self, subscription: Subscription, wire: Any, reason: str, error: str) -> str:
        """Keeps a delivery that cannot be applied in the dead-letter table (once per subscription
        and event), counts it and logs it with its id. Returns REJECTED."""
        wire = wire if isinstance(wire, dict) else {"body": repr(wire)[:10_000]}
        event_id = str(wire.get("id") or "")[:64] or _digest(wire)
        source = str(wire.get("source") or subscription.source)[:64]
        event_type = str(wire.get("type") or "")[:128]
        log.error("event parked in dead letters", extra={
            "service": self.service, "subscription": subscription.name, "event_id": event_id,
            "event_type": event_type, "reason": reason, "error": error})
        EVENTS_DEAD_LETTERED.labels(self.service, source, subscription.event_type, reason).inc()
        EVENTS_CONSUMED.labels(self.service, source, subscription.event_type, REJECTED).inc()
        with self.store.transaction() as session:
            parked = session.scalar(select(self.dead_letters).where(
                self.dead_letters.subscription == subscription.name, self.dead_letters.event_id == event_id))
            if parked is None:
                session.add(self.dead_letters(
                    subscription=subscription.name, event_id=event_id, source=source, event_type=event_type,
                    reason=reason, error=error[:4000], envelope=_storable(wire), parked_at=utcnow(),
                    replayed_at=None, replay_outcome=""))
            elif parked.replayed_at is not None:
                # Replayed and refused again: waiting once more.
                parked.reason, parked.error, parked.parked_at = reason, error[:4000], utcnow()
                parked.replayed_at, parked.replay_outcome = None, ""
        return REJECTED

    def replay(self, subscriptions: list[Subscription], dead_letter_id: int) -> str:
        """Delivers a parked event again to its subscription (after a fix or an upgrade). Returns the
        outcome; the row is marked replayed unless the event was parked again."""
        by_name = {s.name: s for s in subscriptions}
        with self.store.read() as session:
            row = session.get(self.dead_letters, dead_letter_id)
            if row is None:
                raise LookupError(f"no dead letter {dead_letter_id}")
            if row.replayed_at is not None:
                return DUPLICATE  # replayed already: a second replay changes nothing
            name, wire, event_id, reason = row.subscription, dict(row.envelope), row.event_id, row.reason
        subscription = by_name.get(name)
        if subscription is None:
            raise LookupError(f"dead letter {dead_letter_id}: this service has no subscription {name}")
        if reason in (REFUSED, FAILED):
            with self.store.transaction() as session:
                seen = session.get(self.inbox, event_id)
                if seen is not None:
                    session.delete(seen)
        outcome = self.handle(subscription, wire)
        if outcome != REJECTED:
            with self.store.transaction() as session:
                row = session.get(self.dead_letters, dead_letter_id)
                if row is None:
                    raise LookupError(f"no dead letter {dead_letter_id}")
                row.replayed_at, row.replay_outcome = utcnow(), outcome
        return outcome

    def _advance_version(self, session: Session, envelope: Envelope) -> str:
        key = f"{envelope.source}/{envelope.subject}"
        connection = session.connection()
        # Locked: two events of one aggregate handled at once must not both read the older version
        # and let the slower writer put it back (SQLite's BEGIN IMMEDIATE serializes them anyway).
        applied = connection.execute(self._applied_version, {"aggregate": key}).scalar()
        if applied is not None and envelope.aggregate_version <= applied:
            return STALE
        if applied is None:
            connection.execute(self._first_version, {"aggregate": key, "version": envelope.aggregate_version})
        else:
            connection.execute(self._next_version, {"key": key, "version": envelope.aggregate_version})
        return APPLIED


def _digest(wire: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(wire, sort_keys=True, default=str).encode()).hexdigest()[:64]


def _storable(wire: dict[str, Any]) -> dict[str, Any]:
    """The delivery as JSON the store can hold (a malformed one may carry anything)."""
    stored: dict[str, Any] = json.loads(json.dumps(wire, default=str))
    return stored


def run_timer(service: str, timer: Timer, store: Store | None = None,
              interval_seconds: float = DEFAULT_SWEEP_INTERVAL_SECONDS) -> None:
    """One run of a timer, with its outcome counted; errors are logged, never raised to the host.

    On PostgreSQL the run needs the timer's lease (services.common.leases), so with several worker
    replicas one of them sweeps each round and the others skip it (no duplicate events);
    `interval_seconds` is how often the host calls this, which the lease outlasts."""
    try:
        with exclusive_run(store, f"{service}.{timer.name}", interval_seconds * TIMER_LEASE_INTERVALS) as mine:
            if not mine:
                TIMER_RUNS.labels(service, timer.name, "skipped").inc()
                return
            # A trace of its own: the events a sweep writes lead back to the run that wrote them.
            with tracing.span(f"timer {service}.{timer.name}", tracing.INTERNAL):
                timer.run()
    except Exception:  # a failed sweep is retried at the next interval (log.exception keeps it visible)
        TIMER_RUNS.labels(service, timer.name, "error").inc()
        log.exception("timer failed", extra={"service": service, "timer": timer.name})
        return
    TIMER_RUNS.labels(service, timer.name, "ok").inc()
    TIMER_LAST_SUCCESS.labels(service, timer.name).set_to_current_time()


@contextmanager
def exclusive_run(store: Store | None, name: str,
                  lease_seconds: float = DEFAULT_SWEEP_INTERVAL_SECONDS * TIMER_LEASE_INTERVALS) -> Iterator[bool]:
    """Yields whether this process may run `name` now (always, on SQLite: one process per file).

    A lease row, not an advisory lock: correct behind PgBouncer in transaction mode, and a killed
    holder's lease expires by itself (services.common.leases says why). The lease is kept after the
    run, so the same replica runs the next round too; renewed while the run lasts."""
    lease = Lease(store, name, lease_seconds)
    if not lease.acquire():
        yield False
        return
    lease.release_at_exit()
    with lease.kept():
        yield True
