"""The district live score from a real command_center, reused within LIVE_SCORE_CACHE_SECONDS and
asked again for an office as soon as its IndicatorsChanged is applied.

Two assessment runtimes share one store, as the API and the worker do in microservices mode: the
"api" one serves the live score and consumes nothing; the "worker" one consumes command_center's
events. A change reaches the api's score only through the store, never through shared memory.
"""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import REGISTRY

from services.common import scoring
from services.gateway.upstream import Credentials, Upstream
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.common.v1 import indicators_pb2
from tests.api.assessment.support import CC, STAFFING, TODAY, AssessmentClient, by_key, date
from tests.conftest import make_settings
from tests.support import Clock, host

TTL_SECONDS = "60"  # longer than the test: what it sees within it comes from the events
REQUESTS = 10


def source_calls() -> float:
    """ListIndicators calls answered by the servers of this process (only command_center is asked)."""
    return REGISTRY.get_sample_value("grpc_server_started_total", {
        "grpc_type": "unary", "grpc_service": "supervision.common.v1.IndicatorSource",
        "grpc_method": "ListIndicators"}) or 0.0


@pytest.fixture
def api_and_worker(store_url, tmp_path, monkeypatch):
    from tests.api.conftest import CommandCenterClient

    center = host(CC, f"sqlite:///{tmp_path / 'command_center.db'}", make_settings(), Clock(TODAY))
    monkeypatch.setenv("INDICATOR_SOURCES", f"command_center=127.0.0.1:{center.hosted.server.port}")
    api = host("assessment", store_url, make_settings(LIVE_SCORE_CACHE_SECONDS=TTL_SECONDS), Clock(TODAY))
    worker = host("assessment", store_url, make_settings(), Clock(TODAY))
    center.bus.subscribe(worker.runtime.consumer(), worker.runtime.subscriptions)  # the worker alone
    yield CommandCenterClient(center), AssessmentClient(api), AssessmentClient(worker)
    for running in (api, worker, center):
        running.close()


def add_officer(center, office: str, number: int, group) -> None:
    center.officers.RegisterOfficer(cc.RegisterOfficerRequest(officer=cc.Officer(
        id=f"{office}-0{number}", name="王伟", office_id=office, group=group, certificate_no=f"SH{office}{number}",
        certificate_expires=date(TODAY + dt.timedelta(days=60)))))


def district_by_hand(center, api: AssessmentClient) -> scoring.OfficeScore:
    """The district score from the sources' own answers: command_center's and assessment's indicators."""
    values: dict[str, dict[str, tuple[float, float]]] = {}
    for source, stub in ((CC, center.indicators), ("assessment", api.indicators)):
        for reading in stub.ListIndicators(indicators_pb2.ListIndicatorsRequest()).indicators:
            if reading.key.startswith(source + "."):
                values.setdefault(reading.office_id, {})[reading.key] = (reading.numerator, reading.denominator)
    return scoring.score_office(scheme_in_force(api), "", scoring.district_values(values))


def scheme_in_force(api: AssessmentClient) -> scoring.Scheme:
    """The scheme as assessment's SchemeService gives it (the gateway's reading of it)."""
    upstream = Upstream({"assessment": f"127.0.0.1:{api.running.hosted.server.port}"}, 5,
                        Credentials(make_settings(), ""))
    try:
        return scoring.Scheme.from_dict(upstream.get_scheme())
    finally:
        upstream.close()


def settle(center, worker) -> None:
    center.running.settle()  # command_center publishes; the worker applies
    worker.running.settle()  # assessment's own indicators, and their events, come back to it


def test_the_district_live_score_is_asked_once_within_the_ttl_and_follows_the_events(api_and_worker):
    center, api, worker = api_and_worker
    for office, name, street in (("MH01", "莘庄所", "莘庄镇"), ("MH02", "七宝所", "七宝镇")):
        center.offices.CreateOffice(cc.CreateOfficeRequest(office=cc.Office(id=office, name=name, district="闵行区",
                                                                            streets=[street])))
    add_officer(center, "MH01", 1, cc.GROUP_KIND_GENERAL)
    add_officer(center, "MH01", 2, cc.GROUP_KIND_SUPERVISION)
    add_officer(center, "MH02", 1, cc.GROUP_KIND_GENERAL)
    settle(center, worker)

    before = source_calls()
    scores = [api.scores.GetLiveScore(pb.GetLiveScoreRequest()) for _ in range(REQUESTS)]
    assert source_calls() - before == 1  # one round for REQUESTS district scores, not REQUESTS rounds
    expected = district_by_hand(center, api)
    for score in scores:
        assert score.index == pytest.approx(expected.index)
        assert (by_key(score)[STAFFING].numerator, by_key(score)[STAFFING].denominator) == (3, 8)

    # A change at command_center, through its outbox and the bus to the worker, within the TTL.
    add_officer(center, "MH02", 2, cc.GROUP_KIND_SUPERVISION)
    settle(center, worker)
    before = source_calls()
    changed = api.scores.GetLiveScore(pb.GetLiveScoreRequest())
    assert source_calls() - before == 1  # the changed office only, asked at once
    expected = district_by_hand(center, api)
    assert (by_key(changed)[STAFFING].numerator, by_key(changed)[STAFFING].denominator) == (4, 8)
    assert changed.index == pytest.approx(expected.index)
    assert changed.index != scores[0].index

    before = source_calls()
    again = api.scores.GetLiveScore(pb.GetLiveScoreRequest())
    assert source_calls() - before == 0 and again.index == changed.index
