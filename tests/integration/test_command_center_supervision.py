"""command_center turns other services' events into supervision tasks (督办): incidents of levels
I-III, as reported or after re-grading, through the real emergency service in monolithic mode. (An
overdue complaint, produced by complaints' own deadline sweep on a movable clock, and its
redelivery are in tests/contracts/test_command_center_consumes.py.)"""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services import monolith
from services.common import registry
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.emergency.v1 import emergency_pb2 as em
from supervision.emergency.v1 import emergency_pb2_grpc as em_grpc
from tests.conftest import make_settings


@pytest.fixture
def district(tmp_path):
    hosted = monolith.start(make_settings(DATA_DIR=str(tmp_path)), host="127.0.0.1",
                            ports=dict.fromkeys(registry.names(), 0), seed_demo=False)
    by_name = {h.runtime.name: h for h in hosted}
    channels = {name: grpc.insecure_channel(f"127.0.0.1:{h.server.port}") for name, h in by_name.items()}
    cc_grpc.OfficeServiceStub(channels["command_center"]).CreateOffice(cc.CreateOfficeRequest(
        office=cc.Office(id="MH01", name="莘庄所", district="闵行区", streets=["莘庄镇"])))
    settle(hosted)
    yield hosted, channels
    for channel in channels.values():
        channel.close()
    for service in hosted:
        service.stop(0.5)
        service.runtime.store.dispose()


def settle(hosted) -> None:
    for _ in range(2):  # a consumer's own events may need a second round
        for service in hosted:
            service.settle()


def supervision_tasks(channels, source: str) -> list[cc.Task]:
    return list(cc_grpc.TaskServiceStub(channels["command_center"]).ListTasks(
        cc.ListTasksRequest(filter=f'source = "{source}"')).tasks)


def report(channels, ill: int, deaths: int) -> em.Incident:
    learned = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    occurred, learned_at = Timestamp(), Timestamp()
    occurred.FromDatetime(learned - dt.timedelta(hours=2))
    learned_at.FromDatetime(learned)
    return em_grpc.IncidentServiceStub(channels["emergency"]).ReportIncident(em.ReportIncidentRequest(
        request_id=str(uuid.uuid4()), incident=em.Incident(
            type=em.INCIDENT_TYPE_FOOD_SAFETY, office_id="MH01", title="学校食堂疑似食物中毒",
            description="多名学生腹泻呕吐", occurred_at=occurred, learned_at=learned_at, ill_count=ill,
            death_count=deaths)))


def test_a_level_iii_incident_becomes_one_supervision_task(district):
    hosted, channels = district
    incident = report(channels, ill=120, deaths=0)
    assert incident.level == em.LEVEL_III
    settle(hosted)
    tasks = supervision_tasks(channels, "emergency.incident")
    assert [(t.office_id, t.source_ref) for t in tasks] == [("MH01", incident.id)]
    assert "III" in tasks[0].title


def test_a_level_iv_incident_is_left_to_the_office_until_it_is_regraded(district):
    hosted, channels = district
    incident = report(channels, ill=8, deaths=0)
    assert incident.level == em.LEVEL_IV
    settle(hosted)
    assert supervision_tasks(channels, "emergency.incident") == []
    em_grpc.IncidentServiceStub(channels["emergency"]).UpdateCounts(em.UpdateCountsRequest(
        id=incident.id, incident=em.Incident(ill_count=150, death_count=0)))
    settle(hosted)
    assert [t.source_ref for t in supervision_tasks(channels, "emergency.incident")] == [incident.id]

