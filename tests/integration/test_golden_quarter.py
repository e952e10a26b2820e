"""The golden quarter on a running monolith: the figures that several services compute together
(the gateway's office index, the assessment's live score, the workload coefficient, each officer's
evidence, late count and points) equal the ones computed by hand (tests/integration/golden_quarter.py)."""

from __future__ import annotations

import datetime as dt
import os

import grpc
import pytest

from services import monolith
from services.common import registry
from services.common.clock import Clock
from services.common.consumer import run_timer
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from tests.conftest import make_settings
from tests.integration import golden_quarter as golden
from tests.support import free_port


class MonolithCenter:
    """The center as `make run` starts it (no demo district), its clock in the test's hand."""

    def __init__(self, data_dir):
        self.clock = Clock(golden.at("2026-08-03", 7))
        ports = {name: free_port() for name in registry.names()}
        previous = os.environ.get("INDICATOR_SOURCES")
        os.environ["INDICATOR_SOURCES"] = ",".join(f"{name}=127.0.0.1:{port}" for name, port in ports.items()
                                                   if name != "gateway")
        try:
            self.hosted = monolith.start(make_settings(DATA_DIR=str(data_dir), AUTH_MODE="jwt",
                                                       JWT_SECRET=golden.SECRET),
                                         host="127.0.0.1", ports=ports, seed_demo=False, clock=self.clock)
        finally:
            if previous is None:
                del os.environ["INDICATOR_SOURCES"]
            else:
                os.environ["INDICATOR_SOURCES"] = previous
        self.services = {service.runtime.name: service for service in self.hosted}
        self.channels = {name: grpc.insecure_channel(f"127.0.0.1:{service.server.port}")
                         for name, service in self.services.items()}

    def channel(self, service: str) -> grpc.Channel:
        return self.channels[service]

    def set_time(self, instant: dt.datetime) -> None:
        self.clock.set(instant)

    def sweep(self) -> None:
        for service in self.hosted:
            for timer in service.runtime.timers:
                run_timer(service.runtime.name, timer, service.runtime.store)

    def settle(self) -> None:
        for _ in range(10):
            for service in self.hosted:
                service.settle()
            if not any(service.relay.backlog()[0] for service in self.hosted):
                return

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()
        for service in self.hosted:
            service.stop(0.5)
            service.runtime.store.dispose()


@pytest.fixture(scope="module")
def quarter(tmp_path_factory):
    center = MonolithCenter(tmp_path_factory.mktemp("golden"))
    try:
        golden.play(center)
        yield center
    finally:
        center.close()


def test_every_indicator_of_the_office_is_what_the_work_makes_it(quarter):
    found = {}
    for service in ("command_center", "facilities", "complaints", "mobile_enforcement", "emergency", "assessment"):
        for reading in indicators_pb2_grpc.IndicatorSourceStub(quarter.channel(service)).ListIndicators(
                indicators_pb2.ListIndicatorsRequest(office_ids=[golden.GOLDEN]), metadata=golden.LEADER).indicators:
            found[reading.key] = (reading.numerator, reading.denominator)

    expected = golden.expected_indicators()
    assert {key: found.get(key) for key in expected} == expected


def test_the_gateways_index_and_the_live_score_equal_the_hand_computed_index(quarter):
    expected = golden.expected_index(golden.expected_indicators())

    live, shown = golden.indices(quarter)

    assert live == pytest.approx(expected, abs=1e-9)
    assert shown == pytest.approx(expected, abs=1e-9)


def test_both_officers_of_a_pair_have_the_evidence_with_on_time_set(quarter):
    staff = pb_grpc.StaffAssessmentServiceStub(quarter.channel("assessment"))

    def evidence(officer_id: str, kind: str) -> list[tuple[str, bool]]:
        found = staff.ListEvidence(pb.ListEvidenceRequest(
            page_size=100, filter=f'officer_id = "{officer_id}" AND quarter = "{golden.QUARTER}" AND kind = {kind}'),
            metadata=golden.LEADER).evidence
        assert all(item.HasField("on_time") for item in found)
        return sorted((item.reference, item.on_time) for item in found)

    first, second = (golden.officer(golden.GOLDEN, seat) for seat in golden.GOLDEN_WORK.case_team)
    assert evidence(first, "EVIDENCE_KIND_CASE") == evidence(second, "EVIDENCE_KIND_CASE") == [
        (golden.GOLDEN_WORK.ids["case"][0], True)]
    late_pair = golden.GOLDEN_WORK.inspections[1]
    late_id = golden.GOLDEN_WORK.ids["inspections"][1]
    for seat in late_pair.team:
        assert (late_id, False) in evidence(golden.officer(golden.GOLDEN, seat), "EVIDENCE_KIND_INSPECTION")


def test_after_the_quarter_the_coefficient_and_every_officers_figures_are_the_hand_computed_ones(quarter):
    period, officers = golden.close_the_quarter(quarter)

    coefficients = golden.expected_coefficients()
    for office_id, inputs in golden.expected_workload().items():
        score = period[office_id]
        assert dict(score.workload) == pytest.approx(inputs), office_id
        assert score.coefficient == pytest.approx(coefficients[office_id], abs=1e-9), office_id
        assert {item.name: item.source for item in score.workload_inputs}.keys() == inputs.keys()
        assert all(item.source for item in score.workload_inputs), "each input names its source"
    assert officers == golden.expected_officers()
