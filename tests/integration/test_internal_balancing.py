"""Calls between the services spread over every replica behind an address (real gRPC servers).

Three IndicatorSource servers stand for three pods behind one name: an `ipv4:` target lists them
(the same load-balancing policy as a `dns:///` name of a headless Service), or a small DNS server
answers a name with their three loopback addresses, as the cluster DNS answers a headless Service.
"""

from __future__ import annotations

import collections
import json
import socket
import struct
import threading
import time

import grpc
import pytest

from services.assessment.sources import IndicatorSources
from services.common import channels
from services.common.channels import internal_channel, target_of
from services.common.grpc_server import start_server
from services.gateway.upstream import Credentials, Upstream
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from tests.conftest import make_settings

CALLS = 300


class CountingSource(indicators_pb2_grpc.IndicatorSourceServicer):
    """An IndicatorSource that counts the calls it answers, one instance per server ("pod")."""

    def __init__(self, calls: collections.Counter, name: int):
        self.calls = calls
        self.name = name
        self.lock = threading.Lock()

    def ListIndicators(self, request, context):
        with self.lock:
            self.calls[self.name] += 1
        return indicators_pb2.ListIndicatorsResponse(indicators=[indicators_pb2.IndicatorValue(
            office_id="MH01", key="command_center.x", numerator=1, denominator=2, version=1)])


@pytest.fixture
def three_pods():
    """Three real servers (the product's start_server) and the calls each one answered."""
    calls: collections.Counter = collections.Counter()
    servers = []
    for index in range(3):
        source = CountingSource(calls, index)
        servers.append(start_server([(indicators_pb2_grpc.add_IndicatorSourceServicer_to_server, source)],
                                    ["supervision.common.v1.IndicatorSource"], make_settings(), 0,
                                    host="127.0.0.1"))
    yield [server.port for server in servers], calls
    for server in servers:
        server.server.stop(0).wait()


class PodsDns:
    """A DNS server on 127.0.0.1 that answers the A query of NAME with `addresses` (changeable), and
    every other query with no record: what the cluster DNS does for a headless Service."""

    NAME = "pods.test"

    def __init__(self, addresses: list[str]):
        self.addresses = addresses
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def target(self, port: int) -> str:
        return f"dns://127.0.0.1:{self.port}/{self.NAME}:{port}"

    def _serve(self) -> None:
        while self.running:
            try:
                query, peer = self.socket.recvfrom(512)
            except TimeoutError:
                continue
            ident = struct.unpack(">H", query[:2])[0]
            end, labels = 12, []
            while query[end]:
                labels.append(query[end + 1:end + 1 + query[end]].decode())
                end += 1 + query[end]
            question = query[12:end + 5]
            qtype = struct.unpack(">H", query[end + 1:end + 3])[0]
            addresses = list(self.addresses) if qtype == 1 and ".".join(labels) == self.NAME else []
            answers = b"".join(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 1, 4) + socket.inet_aton(address)
                               for address in addresses)
            self.socket.sendto(struct.pack(">HHHHHH", ident, 0x8180, 1, len(addresses), 0, 0) + question + answers,
                               peer)

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.socket.close()


@pytest.fixture
def pods_behind_a_name():
    """Three real servers on 127.0.0.1-3 with one port (pods of one Service), retiring connections
    after 1 s as GRPC_MAX_CONNECTION_AGE_SECONDS makes them; the DNS names the first two."""
    calls: collections.Counter = collections.Counter()
    settings = make_settings(GRPC_MAX_CONNECTION_AGE_SECONDS="1", GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS="1")
    servers, port = [], 0
    for index in range(3):
        servers.append(start_server([(indicators_pb2_grpc.add_IndicatorSourceServicer_to_server,
                                      CountingSource(calls, index))], ["supervision.common.v1.IndicatorSource"],
                                    settings, port, host=f"127.0.0.{index + 1}"))
        port = servers[0].port
    dns = PodsDns(["127.0.0.1", "127.0.0.2"])
    yield dns, port, calls
    dns.close()
    for server in servers:
        server.server.stop(0).wait()


def _every_pod_answers_a_fair_share(calls: collections.Counter, pods: int = 3) -> None:
    assert sum(calls.values()) == CALLS
    assert len(calls) == pods and min(calls.values()) > CALLS * 0.2, dict(calls)


def _ipv4_target(ports: list[int]) -> str:
    return "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports)


def test_a_plain_channel_sends_every_call_to_one_pod(three_pods):
    # What callers did before: pick_first keeps one connection to one address.
    ports, calls = three_pods
    with grpc.insecure_channel(_ipv4_target(ports)) as channel:
        stub = indicators_pb2_grpc.IndicatorSourceStub(channel)
        for _ in range(CALLS):
            stub.ListIndicators(indicators_pb2.ListIndicatorsRequest(), timeout=5)
    assert list(calls.values()) == [CALLS]


def test_the_internal_channel_spreads_calls_over_every_pod(three_pods):
    ports, calls = three_pods
    with internal_channel(_ipv4_target(ports)) as channel:
        stub = indicators_pb2_grpc.IndicatorSourceStub(channel)
        for _ in range(CALLS):
            stub.ListIndicators(indicators_pb2.ListIndicatorsRequest(), timeout=5)
    _every_pod_answers_a_fair_share(calls)


def test_assessment_asks_every_pod_of_a_source(three_pods):
    ports, calls = three_pods
    sources = IndicatorSources({"command_center": _ipv4_target(ports)}, timeout_seconds=5)
    for _ in range(CALLS):
        fetched = sources.fetch(None, "")
        assert fetched.statuses[0].available and fetched.values["MH01"]["command_center.x"].numerator == 1
    _every_pod_answers_a_fair_share(calls)


def test_the_gateway_asks_every_pod_of_a_service(three_pods):
    ports, calls = three_pods
    upstream = Upstream({"command_center": _ipv4_target(ports)}, 5, Credentials(make_settings(), ""))
    try:
        for _ in range(CALLS):
            assert upstream.list_indicators("command_center")["MH01"][0] == 1
    finally:
        upstream.close()
    _every_pod_answers_a_fair_share(calls)


def test_a_dns_target_gets_round_robin_and_answers(three_pods, monkeypatch):
    ports, calls = three_pods
    made = []
    real = grpc.insecure_channel
    monkeypatch.setattr(channels.grpc, "insecure_channel",
                        lambda target, options=None: made.append((target, dict(options))) or real(target, options))
    with internal_channel(f"dns:///localhost:{ports[0]}") as channel:
        indicators_pb2_grpc.IndicatorSourceStub(channel).ListIndicators(indicators_pb2.ListIndicatorsRequest(),
                                                                         timeout=5)
    assert calls == {0: 1}
    [(target, options)] = made
    assert target == f"dns:///localhost:{ports[0]}"
    assert json.loads(options["grpc.service_config"]) == {"loadBalancingConfig": [{"round_robin": {}}]}
    assert options["grpc.service_config_disable_resolution"] == 1


def test_a_dns_name_of_several_pods_spreads_calls_and_takes_in_a_new_pod(pods_behind_a_name):
    dns, port, calls = pods_behind_a_name
    dns.addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    with grpc.insecure_channel(dns.target(port)) as plain:  # what callers did before: pick_first
        stub = indicators_pb2_grpc.IndicatorSourceStub(plain)
        for _ in range(CALLS):
            stub.ListIndicators(indicators_pb2.ListIndicatorsRequest(), timeout=5)
    assert list(calls.values()) == [CALLS]
    calls.clear()
    with internal_channel(dns.target(port)) as channel:
        stub = indicators_pb2_grpc.IndicatorSourceStub(channel)
        for _ in range(CALLS):
            stub.ListIndicators(indicators_pb2.ListIndicatorsRequest(), timeout=5)
    _every_pod_answers_a_fair_share(calls)


def test_a_pod_added_behind_the_name_gets_calls_once_connections_reach_their_age(pods_behind_a_name):
    dns, port, calls = pods_behind_a_name
    # gRPC resolves a name at most every 30 s by default; shortened so the test takes seconds.
    with internal_channel(dns.target(port), [("grpc.dns_min_time_between_resolutions_ms", 200)]) as channel:
        stub = indicators_pb2_grpc.IndicatorSourceStub(channel)
        for _ in range(60):
            stub.ListIndicators(indicators_pb2.ListIndicatorsRequest(), timeout=5)
        assert set(calls) == {0, 1}
        dns.addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]  # the autoscaler added a ready pod
        deadline = time.monotonic() + 15
        while calls[2] == 0 and time.monotonic() < deadline:
            stub.ListIndicators(indicators_pb2.ListIndicatorsRequest(), timeout=5)
            time.sleep(0.01)
        # Nothing told the channel: a retired connection made it resolve the name again.
        assert calls[2] > 0, dict(calls)


def test_client_keepalive_stays_within_what_the_servers_accept():
    from services.common.grpc_server import MIN_CLIENT_PING_INTERVAL_MS

    options = dict(channels.channel_options())
    # More often, or without calls open, and the server answers GOAWAY too_many_pings.
    assert options["grpc.keepalive_time_ms"] >= MIN_CLIENT_PING_INTERVAL_MS
    assert options["grpc.keepalive_permit_without_calls"] == 0


@pytest.mark.parametrize("address", ["localhost:50051", "dns:///cc-api-headless:50051", "[::1]:50051",
                                     "ipv4:10.0.0.1:50051,10.0.0.2:50051", "ipv6:[::1]:50051"])
def test_internal_addresses_are_targets_as_they_are(address):
    assert target_of(address) == address


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="unsupported scheme 'unix'"):
        target_of("unix:/run/grpc.sock")


def test_servers_retire_connections_within_minutes_so_callers_reach_new_replicas():
    from services.common.config import Settings

    # A caller re-resolves a headless Service when a connection closes: the age bounds how long a
    # replica added by the autoscaler waits for internal traffic.
    settings = Settings.from_env({})
    assert settings.grpc_max_connection_age_seconds == 300
    assert settings.grpc_max_connection_age_grace_seconds == 30
