"""Idle streams from anyone must not freeze a service: a real `serve` process keeps answering health
checks and unary calls while far more idle streams are opened at it than it has threads.

Health watches and reflection streams need no token, and each holds one of the server's GRPC_WORKERS
threads while it is open. The attack opens three streams on each of 3 x GRPC_WORKERS connections
(health watches and bidirectional reflection streams, each silent after its first answer); the
server must admit only what its stream caps allow and refuse the rest at once with
RESOURCE_EXHAUSTED, never leave them queued; meanwhile Health/Check (what a Kubernetes probe calls)
and an ordinary unary call with a valid token answer within two seconds, again and again. When the
attack's connections close, their slots come back and a new watch is admitted.
"""

from __future__ import annotations

import subprocess
import sys

import grpc
import pytest

from tests.reliability import stats
from tests.reliability.cluster import ROOT, plain_url, wait_until
from tests.reliability.district import SECRET, bearer, token
from tests.reliability.processes import base_env
from tests.stream_attack import ADMITTED, HUNG, IdleStreams, answers_promptly, health_check, watch_admitted

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(240)]

GRPC_WORKERS = 8  # the serve processes' default (README: GRPC_WORKERS)
STREAMS_PER_CONNECTION = 3
ANSWER_SECONDS = 2.0


def _complaints_call(address: str):
    from supervision.complaints.v1 import complaints_pb2 as pb
    from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc

    def check(timeout: float) -> None:
        with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            pb_grpc.ComplaintServiceStub(channel).ListComplaints(
                pb.ListComplaintsRequest(page_size=1), metadata=bearer(token(["bureau_leader"])), timeout=timeout)

    return check


def _gateway_call(address: str):
    from supervision.gateway.v1 import gateway_pb2 as pb
    from supervision.gateway.v1 import gateway_pb2_grpc as pb_grpc

    def check(timeout: float) -> None:
        with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            pb_grpc.MonitoringServiceStub(channel).ListOfficeIndices(
                pb.ListOfficeIndicesRequest(page_size=1), metadata=bearer(token(["bureau_leader"])), timeout=timeout)

    return check


UNARY_CALLS = {"complaints": _complaints_call, "gateway": _gateway_call}


def _migrated_store(service: str, databases) -> str:
    """A new, empty database of the service at its current schema (no demo data: the attack needs none)."""
    url = databases.create(service)
    subprocess.run([sys.executable, "-m", f"services.{service}", "migrate"], cwd=ROOT, check=True, timeout=120,
                   env=base_env(DATABASE_URL=plain_url(url)), capture_output=True)
    return url


@pytest.mark.parametrize("service", sorted(UNARY_CALLS))
def test_idle_streams_from_many_connections_never_block_health_checks_or_unary_calls(service, cluster, databases):
    store = _migrated_store(service, databases)
    process = cluster.serve(service, store, AUTH_MODE="jwt", JWT_SECRET=SECRET, GRPC_WORKERS=str(GRPC_WORKERS))
    address = f"127.0.0.1:{process.grpc_port}"
    unary_call = UNARY_CALLS[service](address)
    unary_call(10.0)  # answers before the attack (and warms the store's pool)
    attack = IdleStreams(address, connections=3 * GRPC_WORKERS, per_connection=STREAMS_PER_CONNECTION)
    try:
        outcomes = attack.open(answer_within=10.0)
        stats.count("idle streams opened", len(attack.outcomes))
        # What a probe and a client need first: answers, while the admitted streams stay open.
        for _ in range(3):
            assert max(answers_promptly(health_check(address), within=ANSWER_SECONDS)) < ANSWER_SECONDS
            assert max(answers_promptly(unary_call, within=ANSWER_SECONDS)) < ANSWER_SECONDS
        assert outcomes[HUNG] == 0, f"streams left queued behind the threads idle streams hold: {outcomes}"
        assert 0 < outcomes[ADMITTED] < GRPC_WORKERS, outcomes
        assert outcomes["RESOURCE_EXHAUSTED"] == len(attack.outcomes) - outcomes[ADMITTED], outcomes
        assert all(detail for outcome, detail in zip(attack.outcomes, attack.details, strict=True)
                   if outcome != ADMITTED), "a refusal must say why"
        # A second wave while the first still holds its slots: refused at once as well.
        again = IdleStreams(address, connections=GRPC_WORKERS, per_connection=2)
        try:
            second = again.open(answer_within=10.0)
            assert second[HUNG] == 0 and second[ADMITTED] == 0, second
        finally:
            again.close()
        assert process.alive, process.tail()
    finally:
        attack.close()
    wait_until(lambda: watch_admitted(address), 20, "a new health watch to be admitted after the attack")
    assert max(answers_promptly(health_check(address), within=ANSWER_SECONDS)) < ANSWER_SECONDS
