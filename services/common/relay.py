"""The outbox relay: publishes committed outbox rows, in order, and marks them sent.

It runs as a plain thread in the API process (never under eventlet). It wakes right after a
commit that wrote events, and also polls, so rows left behind by a crash or a broker outage are
published once the broker is back. Publishing happens before a row is marked sent: a crash in
between publishes the row again, which the consumers' inboxes absorb (at-least-once + dedupe).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from opentelemetry.trace import Span
from sqlalchemy import Row, func, select, update

from services.common import contracts, tracing
from services.common.bus import DeliveryFailed
from services.common.db import Store, utcnow
from services.common.events import OutboxMixin
from services.common.metrics import (
    EVENTS_PUBLISH_FAILED,
    EVENTS_PUBLISHED,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    initialise_relay_series,
)

log = logging.getLogger(__name__)

# An unsent outbox row as the relay reads it: id, event type, envelope.
OutboxRow = Row[int, str, dict[str, Any]]


class Transport(Protocol):
    """Where the relay hands events: the in-process bus (monolith) or the broker (microservices)."""

    def publish(self, wire: dict[str, Any]) -> None:
        """Returns once the event is accepted (broker confirm); raises if it was not."""


class OutboxRelay:
    """The thread that publishes one service's committed outbox rows, in order, and marks them sent."""

    def __init__(self, service: str, store: Store, outbox_model: type[OutboxMixin], transport: Transport,
                 *, poll_seconds: float = 1.0, batch_size: int = 100, max_backoff_seconds: float = 30.0):
        self.service = service
        self.store = store
        self.outbox = outbox_model
        self.transport = transport
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.max_backoff_seconds = max_backoff_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._relaying = threading.Lock()
        self._reported_at = 0.0  # monotonic time of the last backlog report
        store.after_commit.append(self._wake_after_events)
        initialise_relay_series(service)

    def wake(self) -> None:
        """Relays now rather than at the next poll: a commit has just written events."""
        self._wake.set()

    def _wake_after_events(self, notes: dict[str, Any]) -> None:
        if notes.get("events_written"):
            self.wake()

    def start(self) -> None:
        """Starts relaying in a thread of its own."""
        self._thread = threading.Thread(target=self._run, name=f"relay-{self.service}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the thread, then makes one last pass for rows committed while it was stopping."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            while self.relay_once() == self.batch_size:
                pass
        except Exception as exc:  # noqa: BLE001 - the rows stay in the outbox for the next start
            log.warning("outbox relay could not publish before stopping",
                        extra={"service": self.service, "error": repr(exc)})

    def _run(self) -> None:
        while True:
            try:
                while self.relay_once() == self.batch_size:
                    pass
                self._failures = 0
                wait = self.poll_seconds
            except Exception as exc:  # noqa: BLE001 - any failure is retried; the rows stay
                self._failures += 1
                EVENTS_PUBLISH_FAILED.labels(self.service).inc()
                wait = min(self.poll_seconds * 2 ** min(self._failures, 10), self.max_backoff_seconds)
                log.warning("outbox relay failed, retrying", extra={"service": self.service,
                            "error": repr(exc), "retry_in_s": wait})
            if self._stop.is_set():
                return
            # Once per poll interval, not per pass: under load a pass follows every commit, and the
            # count is a query the gauge (scraped every few seconds) does not need that often.
            if time.monotonic() - self._reported_at >= self.poll_seconds:
                self._report_backlog()
            if self._failures:
                # Backing off: wakes from new commits must not hammer a broker that is down.
                self._stop.wait(wait)
            else:
                self._wake.wait(wait)
            self._wake.clear()

    def relay_once(self) -> int:
        """Publishes one batch; returns how many rows were published."""
        # The thread and a caller (stop, tests) never relay the same rows at once.
        with self._relaying:
            if self.store.is_sqlite:
                return self._relay_unlocked()
            return self._relay_locked()

    def _relay_locked(self) -> int:
        """PostgreSQL: replicas relaying one outbox take disjoint batches (SKIP LOCKED)."""
        published = 0
        with self.store.transaction() as session:
            rows = session.scalars(select(self.outbox).where(self.outbox.sent_at.is_(None))
                                   .order_by(self.outbox.id).limit(self.batch_size)
                                   .with_for_update(skip_locked=True)).all()
            for row in rows:
                try:
                    self._publish(row.envelope)
                except Exception as exc:
                    row.attempts += 1
                    row.last_error = repr(exc)[:1000]
                    session.commit()
                    raise
                row.sent_at = utcnow()
                published += 1
                EVENTS_PUBLISHED.labels(self.service, contracts.routing_key(row.event_type)).inc()
        return published

    def _relay_unlocked(self) -> int:
        """SQLite (one process, one relay per store): publish outside any write transaction.

        Holding the store's single write lock while in-process consumers run would serialise every
        writer behind them, and two services consuming each other's events would deadlock.
        """
        with self.store.read() as session:
            rows = session.execute(select(self.outbox.id, self.outbox.event_type, self.outbox.envelope)
                                   .where(self.outbox.sent_at.is_(None))
                                   .order_by(self.outbox.id).limit(self.batch_size)).all()
        publish_many = getattr(self.transport, "publish_many", None)
        sent, failure = (self._publish_batch(publish_many, rows) if publish_many is not None and len(rows) > 1
                         else self._publish_each(rows))
        for _, event_type, _ in rows[:len(sent)]:
            EVENTS_PUBLISHED.labels(self.service, contracts.routing_key(event_type)).inc()
        if sent or failure:
            with self.store.transaction() as session:
                if sent:
                    session.execute(update(self.outbox).where(self.outbox.id.in_(sent)).values(sent_at=utcnow()))
                if failure:
                    session.execute(update(self.outbox).where(self.outbox.id == failure[0])
                                    .values(attempts=self.outbox.attempts + 1, last_error=repr(failure[1])[:1000]))
        if failure:
            raise failure[1]
        return len(sent)

    def _publish_each(self, rows: Sequence[OutboxRow]) -> tuple[list[int], tuple[int, Exception] | None]:
        """Publishes rows one at a time, in order, up to the first failure: (ids sent, the failure)."""
        sent: list[int] = []
        for row_id, _, envelope in rows:
            try:
                self._publish(envelope)
            except Exception as exc:  # noqa: BLE001 - recorded on the row, re-raised by the caller
                return sent, (row_id, exc)
            sent.append(row_id)
        return sent, None

    def _publish_batch(self, publish_many: Callable[[list[dict[str, Any]]], None],
                       rows: Sequence[OutboxRow]) -> tuple[list[int], tuple[int, Exception] | None]:
        """Hands the rows to a transport that applies many at once (the in-process bus: each
        consumer groups them into few transactions): (ids sent, the first failure)."""
        wires = []
        for _, _, envelope in rows:
            with self._publish_span(envelope) as span:
                wires.append(_in_span(envelope, span))
        ids = [row_id for row_id, _, _ in rows]
        try:
            publish_many(wires)
        except DeliveryFailed as failed:
            return ids[:failed.delivered], (ids[failed.delivered], failed)
        except Exception as exc:  # noqa: BLE001 - recorded on the row, re-raised by the caller
            return [], (ids[0], exc)
        return ids, None

    def _publish(self, envelope: dict[str, Any]) -> None:
        """Publishes one outbox row's envelope in its publish span."""
        with self._publish_span(envelope) as span:
            self.transport.publish(_in_span(envelope, span))

    def _publish_span(self, envelope: dict[str, Any]) -> AbstractContextManager[Span]:
        """A span of the trace that wrote the row (the envelope's traceparent); the consumers' spans
        are children of this one."""
        event_type = str(envelope.get("type") or "")
        return tracing.span(f"publish {contracts.routing_key(event_type)}", tracing.PRODUCER,
                            tracing.remote_parent(envelope.get("traceparent")),
                            {"messaging.system": "supervision", "messaging.operation.type": "publish",
                             "messaging.destination.name": f"{envelope.get('source')}.events",
                             "messaging.message.id": str(envelope.get("id") or "")})

    def backlog(self) -> tuple[int, float]:
        """(unsent rows, age in seconds of the oldest one)."""
        with self.store.read() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(self.outbox.created_at)).where(self.outbox.sent_at.is_(None))
            ).one()
        if not count or oldest is None:
            return 0, 0.0
        return int(count), max(0.0, (utcnow() - oldest).total_seconds())

    def _report_backlog(self) -> None:
        try:
            count, age = self.backlog()
        except Exception:
            log.debug("outbox backlog query failed", exc_info=True)
            return
        self._reported_at = time.monotonic()
        OUTBOX_BACKLOG.labels(self.service).set(count)
        OUTBOX_OLDEST_AGE.labels(self.service).set(age)


def _in_span(envelope: dict[str, Any], span: Span) -> dict[str, Any]:
    """The envelope as published in `span`: a copy, so the row keeps the context of the change that wrote it."""
    return {**envelope, "traceparent": tracing.traceparent_of(span)}
