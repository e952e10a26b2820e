"""What the gateway consumes, each event produced by its publisher's own API call.

The gateway is hosted as in production (services.gateway.service.hosted: the live index, the
feeder, gRPC and HTTP) and consumes from every hosted publisher's in-process bus. It asks its
sources once at start, before the test acts, and not again for an hour: what it knows afterwards
came through the events alone.
"""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.type import date_pb2
from sqlalchemy import select

from services.common import migrate
from services.common.bus import InProcessBus
from services.common.clock import shanghai_today
from services.common.db import Store
from services.common.sources import SOURCES
from services.gateway import service as gateway_service
from services.gateway.config import GatewayConfig
from services.gateway.models import DeadLetter
from supervision.assessment.v1 import assessment_pb2 as as_pb
from supervision.assessment.v1 import assessment_pb2_grpc as as_grpc
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.complaints.v1 import complaints_pb2 as cp_pb
from supervision.complaints.v1 import complaints_pb2_grpc as cp_grpc
from supervision.emergency.v1 import emergency_pb2 as em_pb
from supervision.emergency.v1 import emergency_pb2_grpc as em_grpc
from supervision.gateway.v1 import gateway_pb2 as pb
from supervision.gateway.v1 import gateway_pb2_grpc as pb_grpc
from tests.api.gateway.support import SseClient
from tests.conftest import make_settings
from tests.support import Clock

DOWN = "127.0.0.1:1"  # nothing listens there
TASK_ON_TIME = "command_center.task_on_time"
CERTIFICATES = "command_center.certificates_valid"


def date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


class Gateway:
    """The gateway beside the center's publishers, subscribed to each one's bus."""

    def __init__(self, center):
        settings = make_settings()
        self.store = Store(f"sqlite:///{center.tmp_path / 'gateway.db'}")
        self.runtime = gateway_service.build(settings, self.store, today=center.clock,
                                             config=GatewayConfig.from_env({"RECONCILE_INTERVAL_SECONDS": "3600"}))
        migrate.upgrade("gateway", self.runtime.migrations_dir, self.store.url)
        consumer = self.runtime.consumer()
        for running in center.services.values():
            running.bus.subscribe(consumer, self.runtime.subscriptions)
        addresses = {name: DOWN for name in SOURCES}
        addresses.update({name: f"127.0.0.1:{running.hosted.server.port}"
                          for name, running in center.services.items() if name in SOURCES})
        self.hosted = gateway_service.hosted(self.runtime, settings, InProcessBus(), port=0, host="127.0.0.1",
                                             http_port=0, run_timers=False, sources=addresses)
        self.hosted.start()
        assert self.hosted.parts.feeder.ready.wait(15), "the gateway did not ask its sources"
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.hosted.server.port}")
        self.monitoring = pb_grpc.MonitoringServiceStub(self.channel)

    def office(self, office_id: str) -> pb.OfficeIndex:
        return self.monitoring.GetOfficeIndex(pb.GetOfficeIndexRequest(office_id=office_id))

    def indicator(self, office_id: str, key: str) -> pb.IndicatorScore:
        return next(i for i in self.office(office_id).indicators if i.key == key)

    def snapshot(self) -> dict:
        """What a dashboard gets first from the live stream."""
        client = SseClient(self.hosted.http_port)
        try:
            _, name, data = client.next()
        finally:
            client.close()
        assert name == "snapshot"
        return data

    def parked(self) -> list[tuple[str, str, str]]:
        """The deliveries the gateway could not apply: (subscription, reason, error)."""
        with self.store.read() as session:
            return [(row.subscription, row.reason, row.error) for row in session.scalars(select(DeadLetter))]

    def close(self) -> None:
        self.channel.close()
        self.hosted.stop(0.5)
        self.store.dispose()


@pytest.fixture
def district(center):
    """district(*publishers) -> (their Center, the Gateway consuming from them)."""
    made: list[Gateway] = []

    def make(*publishers: str, clock: Clock | None = None):
        hosted = center(*publishers, clock=clock)
        gateway = Gateway(hosted)
        made.append(gateway)
        return hosted, gateway

    yield make
    try:
        for gateway in made:
            assert gateway.parked() == []  # every event the publishers wrote was applied
    finally:
        for gateway in made:
            gateway.close()


def create_office(center, office_id: str = "MH01", name: str = "莘庄市场监督管理所", street: str = "莘庄镇") -> None:
    cc_grpc.OfficeServiceStub(center["command_center"].channel).CreateOffice(cc_pb.CreateOfficeRequest(
        request_id=f"office-{office_id}", office=cc_pb.Office(id=office_id, name=name, district="闵行区",
                                                              streets=[street])))
    center.settle()


def register_officer(center, officer_id: str = "MH01-01", office_id: str = "MH01") -> None:
    cc_grpc.OfficerServiceStub(center["command_center"].channel).RegisterOfficer(cc_pb.RegisterOfficerRequest(
        request_id=f"officer-{officer_id}", officer=cc_pb.Officer(
            id=officer_id, name="王伟", office_id=office_id, group=cc_pb.GROUP_KIND_SUPERVISION,
            certificate_no=f"SH{officer_id}", certificate_expires=date(center.clock.today + dt.timedelta(days=200)))))
    center.settle()


# ---------------------------------------------------------------- command_center: offices


def test_an_office_registered_in_command_center_is_named_in_the_live_index(district):
    center, gateway = district("command_center")
    with pytest.raises(grpc.RpcError) as unknown:
        gateway.office("MH01")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    create_office(center)
    assert gateway.office("MH01").office_name == "莘庄市场监督管理所"
    listed = gateway.monitoring.ListOfficeIndices(pb.ListOfficeIndicesRequest())
    assert [(o.office_id, o.office_name) for o in listed.offices] == [("MH01", "莘庄市场监督管理所")]


def test_an_office_renamed_in_command_center_is_renamed_in_the_live_index(district):
    center, gateway = district("command_center")
    create_office(center)
    cc_grpc.OfficeServiceStub(center["command_center"].channel).UpdateOffice(cc_pb.UpdateOfficeRequest(
        office=cc_pb.Office(id="MH01", name="莘庄所"), update_mask=FieldMask(paths=["name"])))
    center.settle()
    assert gateway.office("MH01").office_name == "莘庄所"


# ---------------------------------------------------------------- IndicatorsChanged


def test_a_task_completed_in_command_center_moves_the_office_view(district):
    center, gateway = district("command_center")
    create_office(center)
    assert gateway.indicator("MH01", TASK_ON_TIME).status == pb.SCORE_STATUS_MISSING  # no task due yet
    tasks = cc_grpc.TaskServiceStub(center["command_center"].channel)
    task = tasks.CreateTask(cc_pb.CreateTaskRequest(request_id="task-1", task=cc_pb.Task(
        office_id="MH01", title="督办：农贸市场整治", source="bureau",
        due_date=date(center.clock.today + dt.timedelta(days=3)))))
    tasks.AcceptTask(cc_pb.AcceptTaskRequest(id=task.id))
    tasks.CompleteTask(cc_pb.CompleteTaskRequest(id=task.id, note="完成"))
    center.settle()
    on_time = gateway.indicator("MH01", TASK_ON_TIME)
    assert (on_time.numerator, on_time.denominator, on_time.status) == (1, 1, pb.SCORE_STATUS_FULL)
    assert gateway.office("MH01").HasField("index")


@pytest.mark.parametrize("source", [s for s in SOURCES if s != "command_center"])
def test_each_source_s_indicators_of_an_office_reach_the_office_view(district, source):
    """Every source learns the new office from command_center and publishes its indicators for it:
    the gateway's view of them is the source's own answer."""
    center, gateway = district("command_center", source)
    create_office(center)
    register_officer(center)
    answer = indicators_pb2_grpc.IndicatorSourceStub(center[source].channel).ListIndicators(
        indicators_pb2.ListIndicatorsRequest(office_ids=["MH01"]))
    published = {i.key: (i.numerator, i.denominator) for i in answer.indicators}
    assert published, f"{source} publishes no indicator for the office"
    state = gateway.hosted.parts.monitor.view.offices["MH01"]
    assert {key: (value.numerator, value.denominator) for key, value in state.values.items()
            if key.split(".", 1)[0] == source} == published


# ---------------------------------------------------------------- assessment: the scheme


def test_a_scheme_updated_in_assessment_is_the_scheme_the_gateway_scores_with(district):
    center, gateway = district("command_center", "assessment")
    create_office(center)
    register_officer(center)
    schemes = as_grpc.SchemeServiceStub(center["assessment"].channel)
    first = schemes.GetScheme(as_pb.GetSchemeRequest())
    assert gateway.office("MH01").scheme_version == first.version  # asked at start
    scheme = as_pb.Scheme()
    scheme.CopyFrom(first)
    next(r for r in scheme.indicators if r.key == CERTIFICATES).target = 0.8
    scheme.effective_from.CopyFrom(date(center.clock.today))
    updated = schemes.UpdateScheme(as_pb.UpdateSchemeRequest(request_id="scheme-2", scheme=scheme))
    center.settle()
    office = gateway.office("MH01")
    assert office.scheme_version == updated.version > first.version
    assert next(i for i in office.indicators if i.key == CERTIFICATES).target == 0.8
    assert gateway.snapshot()["scheme"]["origin"] == "assessment"


def test_a_scheme_effective_later_waits_for_its_day(district):
    center, gateway = district("command_center", "assessment")
    schemes = as_grpc.SchemeServiceStub(center["assessment"].channel)
    first = schemes.GetScheme(as_pb.GetSchemeRequest())
    scheme = as_pb.Scheme()
    scheme.CopyFrom(first)
    scheme.effective_from.CopyFrom(date(center.clock.today + dt.timedelta(days=10)))
    later = schemes.UpdateScheme(as_pb.UpdateSchemeRequest(request_id="scheme-later", scheme=scheme))
    center.settle()
    monitor = gateway.hosted.parts.monitor
    assert monitor.view.scheme.version == first.version
    center.clock.today += dt.timedelta(days=10)
    monitor.rescore_if_due()
    assert monitor.view.scheme.version == later.version


# ---------------------------------------------------------------- the live feed


def test_an_incident_reported_in_emergency_appears_in_the_live_feed(district):
    center, gateway = district("command_center", "emergency")
    create_office(center)
    learned = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    incident = em_pb.Incident(type=em_pb.INCIDENT_TYPE_FOOD_SAFETY, office_id="MH01", title="某小学食堂学生腹泻",
                              entity_name="某小学食堂", address="莘庄镇（测试）", ill_count=23)
    incident.occurred_at.FromDatetime(learned - dt.timedelta(hours=1))
    incident.learned_at.FromDatetime(learned)
    reported = em_grpc.IncidentServiceStub(center["emergency"].channel).ReportIncident(
        em_pb.ReportIncidentRequest(request_id="incident-1", incident=incident))
    assert reported.level == em_pb.LEVEL_IV
    center.settle()
    feed = gateway.snapshot()["feed"]
    assert [(item["office_id"], item["source"], item["text"]) for item in feed] == [
        ("MH01", "emergency", "报告突发事件一般（IV级）：某小学食堂学生腹泻")]
    assert feed[0]["office_name"] == "莘庄市场监督管理所"


def test_a_complaint_received_appears_in_the_live_feed_without_the_complainant(district):
    center, gateway = district("command_center", "complaints", clock=Clock(today=shanghai_today()))
    create_office(center, "MH02", "七宝市场监督管理所", "七宝镇")
    complaint = cp_pb.Complaint(
        kind=cp_pb.COMPLAINT_KIND_COMPLAINT, channel=cp_pb.CHANNEL_HOTLINE_12315,
        complainant=cp_pb.Complainant(name="欧阳娜娜", phone="13912345678"),
        respondent=cp_pb.Respondent(name="七宝鲜丰超市有限公司", address="闵行区七宝镇漕宝路100号", street="七宝镇"),
        category="食品安全", description="购买的酸奶已过保质期，要求退货赔偿。", amount_yuan="38.50")
    complaint.received_at.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    cp_grpc.ComplaintServiceStub(center["complaints"].channel).CreateComplaint(
        cp_pb.CreateComplaintRequest(request_id="complaint-1", complaint=complaint))
    center.settle()
    feed = gateway.snapshot()["feed"]
    assert [(item["office_id"], item["source"], item["text"]) for item in feed] == [
        ("MH02", "complaints", "收到投诉（食品安全）")]
    assert "欧阳娜娜" not in str(feed) and "13912345678" not in str(feed)
