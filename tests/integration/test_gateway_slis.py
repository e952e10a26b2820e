"""The gateway's front-door SLIs, measured on a running gateway: stream starts and refusals, the time
from a change to its push, and HTTP labels that a client cannot multiply."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from supervision.gateway.v1 import gateway_pb2 as pb
from tests.api.gateway.support import District
from tests.conftest import make_settings

SERVED_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def district(tmp_path):
    running = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings(),
                       gateway_env={"STREAM_MAX_CLIENTS": "1"})
    running.add_offices(("MH01", "MH02"))
    yield running
    running.close()


def test_an_sse_stream_counts_its_start_and_a_refused_one_its_refusal(district):
    started = value("supervision_gateway_stream_starts_total", transport="sse", outcome="started")
    refused = value("supervision_gateway_stream_starts_total", transport="sse", outcome="refused")
    stream = district.stream()
    try:
        assert stream.next()[1] == "snapshot"
        assert district.get("/api/v1/stream").status == 503  # the process's one slot is taken
    finally:
        stream.close()
    assert value("supervision_gateway_stream_starts_total", transport="sse", outcome="started") == started + 1
    assert value("supervision_gateway_stream_starts_total", transport="sse", outcome="refused") == refused + 1


@pytest.mark.parametrize("transport", ["sse", "grpc"])
def test_a_change_pushed_to_a_client_is_timed_from_its_entry_into_the_log(district, transport):
    pushes = value("supervision_gateway_stream_push_seconds_count", transport=transport)
    if transport == "sse":
        stream = district.stream()
        stream.next()  # the snapshot is not a push of a change
    else:
        watch = district.monitoring.WatchIndices(pb.WatchIndicesRequest(office_ids=["MH02"]), timeout=20)
        next(watch)
    assert value("supervision_gateway_stream_push_seconds_count", transport=transport) == pushes
    district.register_officer("MH02", 9, valid=True)
    district.settle()
    if transport == "sse":
        stream.until("office", lambda data: data["office_id"] == "MH02")
        stream.close()
    else:
        change = next(watch)
        while change.WhichOneof("change") != "office":
            change = next(watch)
        watch.cancel()
    assert value("supervision_gateway_stream_push_seconds_count", transport=transport) > pushes
    # Handed over in the same process within moments: nowhere near the SLO's second.
    assert value("supervision_gateway_stream_push_seconds_bucket", transport=transport, le="1.0") == \
        value("supervision_gateway_stream_push_seconds_count", transport=transport)


def test_a_made_up_method_or_path_does_not_mint_series(district):
    # The HTTP parser refuses a method it does not know (a 400 before any handler), but it knows
    # dozens (WebDAV, UPnP...): each would have been a series of its own.
    for method in ("PROPFIND", "M-SEARCH", "MKCOL"):
        assert district.request(method, "/api/v1/district").status == 405
    district.get("/api/v1/offices/MH01/../../x9f3")
    district.get("/no/such/page/4711")
    methods, routes = set(), set()
    for family in REGISTRY.collect():
        if family.name == "supervision_gateway_http_requests":
            for sample in family.samples:
                methods.add(sample.labels["method"])
                routes.add(sample.labels["route"])
    assert methods <= SERVED_METHODS | {"other"}, methods
    assert "other" in methods
    assert not any("4711" in route or "x9f3" in route for route in routes), routes
