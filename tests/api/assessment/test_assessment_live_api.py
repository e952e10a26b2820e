"""assessment's live scores from a real command_center, and the sources that are down."""

from __future__ import annotations

import datetime as dt
import socket

import grpc
import pytest

from supervision.assessment.v1 import assessment_pb2 as pb
from tests.api.assessment.support import (
    CC,
    CERTIFICATES,
    STAFFING,
    TODAY,
    AssessmentClient,
    by_key,
    date,
    expect_error,
)
from tests.conftest import make_settings
from tests.support import Clock, host


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def with_command_center(store_url, tmp_path, monkeypatch):
    from tests.api.conftest import CommandCenterClient

    center = host(CC, f"sqlite:///{tmp_path / 'command_center.db'}", make_settings(), Clock(TODAY))
    monkeypatch.setenv("INDICATOR_SOURCES", f"command_center=127.0.0.1:{center.hosted.server.port},"
                                            f"complaints=127.0.0.1:{closed_port()}")
    running = host("assessment", store_url, make_settings(), Clock(TODAY))
    center.bus.subscribe(running.runtime.consumer(), running.runtime.subscriptions)  # its events reach us
    yield CommandCenterClient(center), AssessmentClient(running)
    running.close()
    center.close()


def test_live_score_reads_the_sources_and_reports_those_that_are_down(with_command_center):
    from supervision.command_center.v1 import command_center_pb2 as cc

    center, client = with_command_center
    center.offices.CreateOffice(cc.CreateOfficeRequest(office=cc.Office(id="MH01", name="莘庄所", district="闵行区",
                                                                        streets=["莘庄镇"])))
    for number, group in enumerate((cc.GROUP_KIND_GENERAL, cc.GROUP_KIND_SUPERVISION), start=1):
        center.officers.RegisterOfficer(cc.RegisterOfficerRequest(officer=cc.Officer(
            id=f"MH01-0{number}", name="王伟", office_id="MH01", group=group, certificate_no=f"SH010{number}",
            certificate_expires=date(TODAY + dt.timedelta(days=30 * number)))))
    center.running.settle()  # command_center's events reach assessment: the office and officers
    client.running.settle()  # and assessment's own indicators are computed
    live = client.scores.GetLiveScore(pb.GetLiveScoreRequest(office_id="MH01"))
    sources = {s.source: s for s in live.sources}
    assert sources[CC].available and sources["assessment"].available
    assert not sources["complaints"].available and sources["complaints"].error.startswith("UNAVAILABLE")
    indicators = by_key(live)
    # Two of the four groups staffed with certified officers: 0.5, exactly half the target.
    assert (indicators[STAFFING].numerator, indicators[STAFFING].denominator) == (2, 4)
    assert indicators[STAFFING].points == pytest.approx(15.0)
    assert indicators[CERTIFICATES].status == pb.SCORE_STATUS_FULL
    assert indicators["complaints.acceptance_on_time"].status == pb.SCORE_STATUS_MISSING
    assert indicators["assessment.staff_assessed"].denominator == 2  # its own, read from its store
    assert live.HasField("index") and live.period == "" and live.scheme_version == 1
    district = client.scores.GetLiveScore(pb.GetLiveScoreRequest())
    assert by_key(district)[STAFFING].numerator == 2
    expect_error(lambda: client.scores.GetLiveScore(pb.GetLiveScoreRequest(office_id="MH99")),
                 grpc.StatusCode.NOT_FOUND)
