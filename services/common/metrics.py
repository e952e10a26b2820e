"""Prometheus metrics shared by every process.

gRPC server metrics carry the names and labels of go-grpc-prometheus so standard dashboards work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

if TYPE_CHECKING:
    from services.common.consumer import Subscription, Timer

# No `*_created` series: one more series per counter and histogram child that no dashboard or
# alert of ours reads (rates come from the counters themselves), doubling what every scrape carries.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated

GRPC_STARTED = Counter("grpc_server_started_total", "RPCs started on the server.",
                       ["grpc_type", "grpc_service", "grpc_method"])
GRPC_HANDLED = Counter("grpc_server_handled_total", "RPCs completed on the server, by status code.",
                       ["grpc_type", "grpc_service", "grpc_method", "grpc_code"])
GRPC_HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds", "Response latency of RPCs handled by the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
GRPC_MSG_RECEIVED = Counter("grpc_server_msg_received_total", "Messages received on the server.",
                            ["grpc_type", "grpc_service", "grpc_method"])
GRPC_MSG_SENT = Counter("grpc_server_msg_sent_total", "Messages sent by the server.",
                        ["grpc_type", "grpc_service", "grpc_method"])

OUTBOX_BACKLOG = Gauge("supervision_outbox_backlog", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge("supervision_outbox_oldest_age_seconds",
                          "Age of the oldest unpublished outbox row (0 when empty).", ["service"])
# Events are labelled by their message's short name (event_type="OfficeRegistered"), the routing key.
EVENTS_PUBLISHED = Counter("supervision_events_published_total", "Events published by the relay.",
                           ["service", "event_type"])
EVENTS_PUBLISH_FAILED = Counter("supervision_events_publish_failed_total",
                                "Relay publish attempts that failed (retried with backoff).", ["service"])
EVENTS_CONSUMED = Counter("supervision_events_consumed_total", "Events handled by a consumer.",
                          ["service", "source", "event_type", "outcome"])
EVENTS_DEAD_LETTERED = Counter(
    "supervision_events_dead_lettered_total",
    "Deliveries parked in a consumer's dead-letter table "
    "(malformed, unknown_type, undecodable, refused, failed).",
    ["service", "source", "event_type", "reason"])
HANDLER_SECONDS = Histogram("supervision_event_handler_seconds", "Event handler latency.",
                            ["service", "event_type"],
                            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
TIMER_RUNS = Counter("supervision_timer_runs_total", "Timer (deadline sweep) runs.",
                     ["service", "timer", "outcome"])
TIMER_LAST_SUCCESS = Gauge("supervision_timer_last_success_timestamp_seconds",
                           "When a timer last completed without error.", ["service", "timer"])


# ------------------------------------------------------------------ series that exist from the start
#
# A labelled counter has no series until its first increment, and Prometheus cannot see an
# increase from "absent" to 1: `increase()` over a series whose first sample is 1 is 0, so an alert
# on the first rejection or the first failed sweep would never fire. Every label combination an
# alert watches is therefore written at 0 when the process starts.

# The outcomes of a delivery an alert counts (consumer.py's REJECTED and the applied ones it divides by).
WATCHED_EVENT_OUTCOMES = ("applied", "rejected")
WATCHED_TIMER_OUTCOMES = ("ok", "error")


def initialise_consumer_series(service: str, subscriptions: Iterable[Subscription],
                               timers: Iterable[Timer] = ()) -> None:
    """Writes 0 for each declared subscription's watched outcomes and each timer's, before any counts."""
    for subscription in subscriptions:
        for outcome in WATCHED_EVENT_OUTCOMES:
            EVENTS_CONSUMED.labels(service, subscription.source, subscription.event_type, outcome)
    for timer in timers:
        for outcome in WATCHED_TIMER_OUTCOMES:
            TIMER_RUNS.labels(service, timer.name, outcome)


def initialise_relay_series(service: str) -> None:
    """Writes 0 for the relay's failure counter of `service` (OutboxPublishFailing's rate)."""
    EVENTS_PUBLISH_FAILED.labels(service)
