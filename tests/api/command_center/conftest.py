"""Fixtures of command_center's API tests (the plain one, `command_center`, is tests/api/conftest.py's:
other services' tests host it too)."""

from __future__ import annotations

import pytest

from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from tests.api.command_center.support import SECRET, auth, date, office, token
from tests.conftest import make_settings
from tests.support import host


@pytest.fixture
def secured(tmp_path):
    """command_center with AUTH_MODE=jwt, offices MH01 and MH02, and a task of MH02's due today."""
    running = host("command_center", f"sqlite:///{tmp_path / 'cc.db'}",
                   make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET))
    leader = auth(token(["bureau_leader"]))
    offices = pb_grpc.OfficeServiceStub(running.channel)
    for number in (1, 2):
        offices.CreateOffice(pb.CreateOfficeRequest(office=office(f"MH0{number}", f"所{number}", [f"镇{number}"])),
                             metadata=leader)
    tasks = pb_grpc.TaskServiceStub(running.channel)
    task = tasks.CreateTask(pb.CreateTaskRequest(task=pb.Task(
        office_id="MH02", title="督办", source="bureau", due_date=date(running.clock.today))), metadata=leader)
    running.settle()
    yield running, offices, tasks, task
    running.close()
