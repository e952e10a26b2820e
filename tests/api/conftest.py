from __future__ import annotations

import pytest

from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from supervision.common.v1 import indicators_pb2_grpc
from tests.conftest import make_settings
from tests.support import host


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """The same API suite runs against both stores."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    return request.getfixturevalue("postgres_database")


class CommandCenterClient:
    def __init__(self, running):
        self.running = running
        self.offices = pb_grpc.OfficeServiceStub(running.channel)
        self.officers = pb_grpc.OfficerServiceStub(running.channel)
        self.duties = pb_grpc.DutyListServiceStub(running.channel)
        self.tasks = pb_grpc.TaskServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)


@pytest.fixture
def command_center(store_url):
    running = host("command_center", store_url, make_settings())
    yield CommandCenterClient(running)
    running.close()
