"""Monolithic mode as `make run` starts it: every service, the demo district, loaded once."""

from __future__ import annotations

from services.common import registry
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from tests.integration.conftest import start_district, stop_district


def test_every_service_is_served_with_the_demo_district(demo_district):
    assert list(demo_district.services) == registry.names()
    channel = demo_district.channels["command_center"]
    offices = pb_grpc.OfficeServiceStub(channel).ListOffices(pb.ListOfficesRequest(page_size=100)).offices
    assert len(offices) == 14
    assert {o.streets[0] for o in offices} >= {"莘庄镇", "七宝镇", "浦锦街道", "莘庄工业区"}
    tasks = pb_grpc.TaskServiceStub(channel).ListTasks(pb.ListTasksRequest(filter="overdue = true")).tasks
    assert tasks, "the demo district has overdue supervision tasks"
    for name, service_channel in demo_district.channels.items():
        if not registry.spec(name).has_indicators:  # the gateway: it aggregates the others'
            continue
        readings = indicators_pb2_grpc.IndicatorSourceStub(service_channel).ListIndicators(
            indicators_pb2.ListIndicatorsRequest()).indicators
        assert {r.office_id for r in readings} == {o.id for o in offices}, name
    certificates = [r for r in indicators_pb2_grpc.IndicatorSourceStub(channel).ListIndicators(
        indicators_pb2.ListIndicatorsRequest()).indicators if r.key == "command_center.certificates_valid"]
    assert any(r.value < 1 for r in certificates), "some certificates are expired in the demo"


def test_a_restart_over_existing_data_loads_nothing_twice(demo_district):
    def outbox_sizes(district) -> dict[str, int]:
        sizes = {}
        for name, service in district.services.items():
            service.settle()
            with service.runtime.store.read() as session:
                sizes[name] = session.query(service.runtime.outbox_model).count()
        return sizes

    before = outbox_sizes(demo_district)
    again = start_district(demo_district.data_dir)
    try:
        assert all(service.runtime.seed_demo().loaded is False for service in again.services.values()
                   if service.runtime.seed_demo)
        channel = again.channels["command_center"]
        officers = pb_grpc.OfficerServiceStub(channel).ListOfficers(pb.ListOfficersRequest(page_size=1000)).officers
        assert len(officers) == 14 * 8
        after = outbox_sizes(again)
        assert after == before, "a restart wrote events: something was loaded again"
    finally:
        stop_district(again)
