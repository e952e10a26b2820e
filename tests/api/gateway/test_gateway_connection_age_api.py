"""The gateway's gRPC server retires connections at GRPC_MAX_CONNECTION_AGE_SECONDS like every other
service's: its clients reconnect (and rebalance over its replicas) and no watch stays open for ever."""

from __future__ import annotations

import time

import grpc
import pytest

from supervision.gateway.v1 import gateway_pb2 as pb
from tests.api.gateway.support import District
from tests.conftest import make_settings


@pytest.fixture
def district(tmp_path):
    settings = make_settings(GRPC_MAX_CONNECTION_AGE_SECONDS="1", GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS="1")
    running = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", settings)
    running.add_offices(office_ids=("MH01",))
    yield running
    running.close()


def test_a_watch_on_the_gateway_ends_when_its_connection_reaches_its_age(district):
    started = time.monotonic()
    watch = district.monitoring.WatchIndices(pb.WatchIndicesRequest(office_ids=["MH01"]), timeout=30)
    assert next(watch).office.office_id == "MH01"
    with pytest.raises(grpc.RpcError) as ended:
        for _ in watch:  # nothing changes: only the connection's end can finish the watch
            pass
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < 10  # age 1 s (+10 % jitter) and grace 1 s, not the 30 s deadline
