"""The demo district's loaders and their records and refusals (services.common.demo): a service
whose prerequisites are missing starts nothing, and an office the demo does not know is left out,
not fatal. The loading interrupted at any point and resumed is a fault test
(tests/reliability/test_demo_interrupted.py)."""

from __future__ import annotations

import importlib

import grpc
import pytest
from sqlalchemy import func, select

from services.assessment.models import OfficerAssessment, PeriodScore
from services.common.demo import NOT_EMPTY, demo_load
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from tests.demo_loads import DEMO_SERVICES, settle, start_empty, stop


@pytest.fixture
def empty_district(tmp_path):
    hosted = start_empty(tmp_path)
    yield {service.runtime.name: service for service in hosted}
    stop(hosted)


def test_a_service_without_its_prerequisites_starts_nothing(empty_district):
    for name in ("mobile_enforcement", "complaints", "emergency", "facilities", "assessment"):
        outcome = empty_district[name].runtime.seed_demo()
        assert not outcome.loaded and not outcome.complete and outcome.skipped, name
        assert NOT_EMPTY not in outcome.skipped
        models = importlib.import_module(f"services.{name}.models")
        assert demo_load(empty_district[name].runtime.store, models.DemoLoad) is None, name


def test_an_office_without_officers_is_left_out_not_fatal(empty_district):
    """An office the demo's data does not know, with no officers: every service loads the rest and
    says what it left out of that office (assessment used to stop with "has no officers to assess")."""
    hosted = list(empty_district.values())
    center = empty_district["command_center"]
    assert center.runtime.seed_demo().complete
    with grpc.insecure_channel(f"127.0.0.1:{center.server.port}") as channel:
        cc_grpc.OfficeServiceStub(channel).CreateOffice(cc_pb.CreateOfficeRequest(
            request_id="unstaffed", office=cc_pb.Office(id="PBA1FA0", name="临港市场监督管理所", district="闵行区",
                                                        streets=["临港新片区"])))
    settle(hosted)
    for name in DEMO_SERVICES[1:]:
        outcome = empty_district[name].runtime.seed_demo()
        assert outcome.loaded and outcome.complete, (name, outcome)
        settle(hosted)
        if name in ("mobile_enforcement", "facilities", "assessment"):
            assert any("PBA1FA0" in item for item in outcome.skipped), (name, outcome.skipped)
    with empty_district["assessment"].runtime.store.read() as session:
        # 15 offices (the new one is ranked) in each of the demo's three closed quarters.
        assert session.scalar(select(func.count()).select_from(PeriodScore)) == 15 * 3
        assert session.scalar(select(func.count()).select_from(OfficerAssessment)) == 14 * 8
