"""The gateway's Prometheus metrics: the live index itself, and how well it is fed and served."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

from services.gateway.domain.live import DISTRICT, OFFICE, SCHEME, SOURCE, Change, View

OFFICE_INDEX = Gauge("supervision_office_index",
                     "Live standardization index of an office (dimension=\"index\") and its dimension scores, 0-100.",
                     ["office_id", "dimension"])
DISTRICT_INDEX = Gauge("supervision_district_index",
                       "Live standardization index of the district (dimension=\"index\") and its dimensions, 0-100.",
                       ["dimension"])
STREAM_CLIENTS = Gauge("supervision_gateway_stream_clients", "Clients connected to the live stream.",
                       ["transport"])
EVENT_LAG = Histogram("supervision_gateway_event_lag_seconds",
                      "Time from an IndicatorsChanged event's time to the gateway applying it.", ["source"],
                      buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
RECONCILE_CORRECTIONS = Counter("supervision_gateway_reconcile_corrections_total",
                                "Offices whose indicators a reconcile found different from the live model "
                                "(an event that was lost or not yet delivered).", ["source"])
SOURCE_UP = Gauge("supervision_gateway_source_up", "Whether an indicator source answered the gateway (1) or not (0).",
                  ["source"])
HTTP_REQUESTS = Counter("supervision_gateway_http_requests_total", "HTTP requests answered, by route and status.",
                        ["route", "method", "code"])
HTTP_SECONDS = Histogram("supervision_gateway_http_request_seconds", "HTTP response latency (streams excluded).",
                         ["route"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
# The live stream's SLIs (docs/operations.md, Gateway SLOs): whether a client asking for an SSE stream
# gets one (refused = the process had no room, a 503; a caller's own mistake, a bad token or
# Last-Event-ID, is not counted; WatchIndices' starts and refusals are grpc_server_started_total and
# grpc_server_handled_total), and how long a change waits between entering the change log and being
# handed to each client's connection (both transports).
STREAM_TRANSPORTS = ("sse", "grpc")
STREAM_STARTED, STREAM_REFUSED = "started", "refused"
STREAM_STARTS = Counter("supervision_gateway_stream_starts_total",
                        "SSE stream requests that got a stream (started) or were turned away for lack of room "
                        "(refused).", ["transport", "outcome"])
STREAM_PUSH_SECONDS = Histogram("supervision_gateway_stream_push_seconds",
                                "Time from a change entering the live index's change log to its push to a client.",
                                ["transport"],
                                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
# Written at 0 at import: a counter's first increment is invisible to rate() when its series is
# born with it, so the first refused stream would not count against the SLO.
for _outcome in (STREAM_STARTED, STREAM_REFUSED):
    STREAM_STARTS.labels("sse", _outcome)
for _transport in STREAM_TRANSPORTS:
    STREAM_PUSH_SECONDS.labels(_transport)
# The HTTP method label takes the methods the API serves; anything else a client sends counts as
# "other", so made-up methods cannot mint series (the route label is the route's template already).
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
FORM_LIMIT_FALLBACKS = Counter("supervision_gateway_form_limit_fallbacks_total",
                               "Complaint form submissions limited in this process only because the shared "
                               "limit (Redis) did not answer.")


def http_method_label(method: str) -> str:
    """The request's method as a bounded label value: one of HTTP_METHODS, else "other"."""
    return method if method in HTTP_METHODS else "other"


def observe_pushes(transport: str, recorded: list[float]) -> None:
    """Counts one push per change (its time.monotonic() entry into the change log) handed to a client now."""
    now = time.monotonic()
    histogram = STREAM_PUSH_SECONDS.labels(transport)
    for moment in recorded:
        histogram.observe(max(0.0, now - moment))


class IndexGauges:
    """Keeps the index gauges equal to the live model (a listener of the live index)."""

    def __init__(self) -> None:
        self._labels: dict[str, set[str]] = {}

    def __call__(self, view: View, changes: list[Change]) -> None:
        offices: set[str] = set()
        for change in changes:
            if change.kind == OFFICE:
                offices.add(change.office_id)
            elif change.kind == SCHEME:
                offices.update(view.offices)
            elif change.kind == SOURCE:
                SOURCE_UP.labels(change.data.source).set(1 if change.data.available else 0)
            if change.kind in (DISTRICT, SCHEME):
                self._set("", DISTRICT_INDEX, view.district.score, ())
        for office_id in offices:
            state = view.offices.get(office_id)
            if state is not None:
                self._set(office_id, OFFICE_INDEX, state.score, (office_id,))

    def _set(self, key: str, gauge: Gauge, score, prefix: tuple[str, ...]) -> None:
        present = {"index": score.index, **{d.key: d.score for d in score.dimensions}}
        for dimension in self._labels.get(key, set()) - {k for k, v in present.items() if v is not None}:
            gauge.remove(*prefix, dimension)
        for dimension, value in present.items():
            if value is not None:
                gauge.labels(*prefix, dimension).set(value)
        self._labels[key] = {k for k, v in present.items() if v is not None}
