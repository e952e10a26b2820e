"""The in-process event bus of monolithic mode.

Delivery is synchronous, inside the publishing service's relay: the relay marks an outbox row
sent only after every consumer has applied the event, so a crash or a failing consumer leaves the
row unsent and it is delivered again (consumers' inboxes absorb the repeat). Nothing is held in
memory that a stop could lose.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.common import contracts
from services.common.consumer import Consumer, PartialDelivery, Subscription


class InProcessBus:
    """Carries events from a publishing service's relay straight to the subscribed consumers in the same process."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[tuple[Consumer, Subscription]]] = defaultdict(list)

    def subscribe(self, consumer: Consumer, subscriptions: list[Subscription]) -> None:
        """Routes the events of `subscriptions` to `consumer`."""
        for subscription in subscriptions:
            self._routes[(subscription.source, subscription.event_type)].append((consumer, subscription))

    def publish(self, wire: dict[str, Any]) -> None:
        """Applies the event in every subscribed service; raises if any of them failed."""
        failures = []
        # Routed like the broker routes: publisher and the message's short name; each subscription
        # then decodes the full type itself (an unknown one is parked, not dropped).
        key = (str(wire.get("source")), contracts.routing_key(str(wire.get("type") or "")))
        for consumer, subscription in self._routes.get(key, ()):
            try:
                consumer.handle(subscription, wire)
            except Exception as exc:  # noqa: BLE001 - the others still get the event; the relay retries
                failures.append(f"{consumer.service}: {exc!r}")
        if failures:
            raise DeliveryFailed("; ".join(failures))

    def publish_many(self, wires: list[dict[str, Any]]) -> None:
        """Applies events in their order, each subscribed service taking its share of them in few
        transactions (Consumer.handle_many). Raises DeliveryFailed when a service failed, with
        `delivered`: how many leading events every service applied (the relay marks those sent)."""
        shares: dict[Consumer, list[tuple[int, Subscription, dict[str, Any]]]] = defaultdict(list)
        for index, wire in enumerate(wires):
            key = (str(wire.get("source")), contracts.routing_key(str(wire.get("type") or "")))
            for consumer, subscription in self._routes.get(key, ()):
                shares[consumer].append((index, subscription, wire))
        delivered, failures = len(wires), []
        for consumer, share in shares.items():
            try:
                consumer.handle_many([(subscription, wire) for _, subscription, wire in share])
            except PartialDelivery as partial:
                # Every service still gets all its events; the ones after the first failure are
                # delivered again with it (the inboxes absorb the repeat).
                delivered = min(delivered, share[partial.applied][0])
                failures.append(f"{consumer.service}: {partial.cause!r}")
        if failures:
            raise DeliveryFailed("; ".join(failures), delivered)


class DeliveryFailed(RuntimeError):
    """At least one subscribed service failed to apply an event; the relay publishes it again.
    `delivered`: of a batch, how many leading events every service applied."""

    def __init__(self, message: str, delivered: int = 0):
        super().__init__(message)
        self.delivered = delivered
