"""Monolithic mode as `make run` starts it: every service, the demo district, loaded once."""

from __future__ import annotations

import grpc

from services import monolith
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from tests.conftest import make_settings


def start(tmp_path):
    settings = make_settings(DATA_DIR=str(tmp_path), DEMO_DATA="true")
    return monolith.start(settings, host="127.0.0.1", ports={name: 0 for name in monolith.SERVICES})


def stop(hosted) -> None:
    for service in hosted:
        service.stop(0.5)
        service.runtime.store.dispose()


def test_demo_district_is_served_and_loaded_only_into_an_empty_store(tmp_path):
    hosted = start(tmp_path)
    try:
        by_name = {service.runtime.name: service for service in hosted}
        assert list(by_name) == monolith.SERVICES
        channel = grpc.insecure_channel(f"127.0.0.1:{by_name['command_center'].server.port}")
        offices = pb_grpc.OfficeServiceStub(channel).ListOffices(pb.ListOfficesRequest(page_size=100)).offices
        assert len(offices) == 14
        assert {o.streets[0] for o in offices} >= {"莘庄镇", "七宝镇", "浦锦街道", "莘庄工业区"}
        tasks = pb_grpc.TaskServiceStub(channel).ListTasks(pb.ListTasksRequest(filter="overdue = true")).tasks
        assert tasks, "the demo district has overdue supervision tasks"
        readings = indicators_pb2_grpc.IndicatorSourceStub(channel).ListIndicators(
            indicators_pb2.ListIndicatorsRequest()).indicators
        assert len(readings) == 14 * 4
        certificates = [r for r in readings if r.key == "command_center.certificates_valid"]
        assert any(r.value < 1 for r in certificates), "some certificates are expired in the demo"
        channel.close()
    finally:
        stop(hosted)
    hosted = start(tmp_path)  # restart over existing data: nothing is loaded twice
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{hosted[0].server.port}")
        offices = pb_grpc.OfficeServiceStub(channel).ListOffices(pb.ListOfficesRequest(page_size=100)).offices
        officers = pb_grpc.OfficerServiceStub(channel).ListOfficers(pb.ListOfficersRequest(page_size=1000)).officers
        assert (len(offices), len(officers)) == (14, 14 * 8)
        channel.close()
    finally:
        stop(hosted)
