"""What command_center does with the events it consumes, each produced by its publisher's own code:
a complaint past its acceptance deadline (complaints) and an incident of level I-III, as reported or
after re-grading (emergency), become one supervision task (督办) for the office."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from services.common import contracts
from services.common.clock import SHANGHAI
from services.common.consumer import APPLIED, DUPLICATE
from services.complaints.models import Outbox as ComplaintsOutbox
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.complaints.v1 import complaints_pb2 as cp
from supervision.complaints.v1 import complaints_pb2_grpc as cp_grpc
from supervision.complaints.v1 import events_pb2 as complaints_events
from supervision.emergency.v1 import emergency_pb2 as em
from supervision.emergency.v1 import emergency_pb2_grpc as em_grpc

STREET = "七宝镇"


def register_office(center) -> None:
    """MH01, covering the street the complaints below name; settled, so every service knows it."""
    cc_grpc.OfficeServiceStub(center["command_center"].channel).CreateOffice(cc.CreateOfficeRequest(
        request_id="office-MH01", office=cc.Office(id="MH01", name="七宝所", district="闵行区", streets=[STREET])))
    center.settle()


def supervision_tasks(center, source: str) -> list[cc.Task]:
    stub = cc_grpc.TaskServiceStub(center["command_center"].channel)
    return list(stub.ListTasks(cc.ListTasksRequest(filter=f'source = "{source}"')).tasks)


# ---------------------------------------------------------------- complaints


def file_complaint(center) -> cp.Complaint:
    received = Timestamp()
    received.FromDatetime(dt.datetime.combine(center.clock.today, dt.time(9), SHANGHAI))
    complaint = cp.Complaint(
        kind=cp.COMPLAINT_KIND_COMPLAINT, channel=cp.CHANNEL_HOTLINE_12315, received_at=received,
        complainant=cp.Complainant(name="欧阳娜娜", phone="13912345678"),
        respondent=cp.Respondent(name="七宝鲜丰超市有限公司", address="闵行区七宝镇漕宝路100号", street=STREET),
        category="食品安全", description="购买的酸奶已过保质期，要求退货赔偿。", amount_yuan="38.50")
    return cp_grpc.ComplaintServiceStub(center["complaints"].channel).CreateComplaint(
        cp.CreateComplaintRequest(request_id=str(uuid.uuid4()), complaint=complaint))


def sweep_complaint_deadlines(center) -> None:
    """complaints' deadline sweep, run as its worker runs it."""
    [timer] = [t for t in center["complaints"].runtime.timers if t.name == "sweep_complaint_deadlines"]
    timer.run()


def overdue_envelopes(center) -> list[dict]:
    event_type = contracts.type_name(complaints_events.ComplaintOverdue)
    with center["complaints"].store.read() as session:
        return [row.envelope for row in session.scalars(
            select(ComplaintsOutbox).where(ComplaintsOutbox.event_type == event_type).order_by(ComplaintsOutbox.id))]


def test_a_complaint_past_its_acceptance_deadline_becomes_one_supervision_task(center):
    district = center("command_center", "complaints")
    register_office(district)
    complaint = file_complaint(district)
    district.settle()
    assert complaint.HasField("acceptance_due")
    assert supervision_tasks(district, "complaints.overdue") == []

    acceptance_due = contracts.day_of(complaint.acceptance_due)
    district.clock.today = acceptance_due
    sweep_complaint_deadlines(district)
    district.settle()
    assert supervision_tasks(district, "complaints.overdue") == []  # due today is not overdue yet

    district.clock.today = acceptance_due + dt.timedelta(days=1)
    sweep_complaint_deadlines(district)
    district.settle()
    [task] = supervision_tasks(district, "complaints.overdue")
    assert (task.office_id, task.source_ref, task.state) == ("MH01", complaint.id, cc.TASK_STATE_ASSIGNED)
    assert complaint.id in task.title
    due = contracts.day_of(task.due_date)
    assert district.clock.today < due <= district.clock.today + dt.timedelta(days=7)  # 3 working days

    # The same event delivered again, or the same fact published once more: still one task.
    [envelope] = [e for e in overdue_envelopes(district) if e["data"].get("deadline") == "acceptance"]
    consumer = district["command_center"].runtime.consumer()
    [subscription] = [s for s in district["command_center"].runtime.subscriptions
                      if s.message is complaints_events.ComplaintOverdue]
    assert consumer.handle(subscription, envelope) == DUPLICATE
    assert consumer.handle(subscription, {**envelope, "id": str(uuid.uuid4())}) == APPLIED
    assert [t.id for t in supervision_tasks(district, "complaints.overdue")] == [task.id]


# ---------------------------------------------------------------- emergency


def report_incident(center, ill: int) -> em.Incident:
    learned = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    occurred, learned_at = Timestamp(), Timestamp()
    occurred.FromDatetime(learned - dt.timedelta(hours=2))
    learned_at.FromDatetime(learned)
    return em_grpc.IncidentServiceStub(center["emergency"].channel).ReportIncident(em.ReportIncidentRequest(
        request_id=str(uuid.uuid4()), incident=em.Incident(
            type=em.INCIDENT_TYPE_FOOD_SAFETY, office_id="MH01", title="学校食堂疑似食物中毒",
            description="多名学生腹泻呕吐", occurred_at=occurred, learned_at=learned_at, ill_count=ill,
            death_count=0)))


@pytest.fixture
def emergency_district(center):
    district = center("command_center", "emergency")
    register_office(district)
    return district


def test_an_incident_reported_at_level_iii_becomes_one_supervision_task(emergency_district):
    incident = report_incident(emergency_district, ill=120)
    assert incident.level == em.LEVEL_III
    emergency_district.settle()
    [task] = supervision_tasks(emergency_district, "emergency.incident")
    assert (task.office_id, task.source_ref) == ("MH01", incident.id)
    assert "III级" in task.title and "学校食堂疑似食物中毒" in task.title


def test_an_incident_reported_at_level_iv_raises_no_task(emergency_district):
    incident = report_incident(emergency_district, ill=8)
    assert incident.level == em.LEVEL_IV
    emergency_district.settle()
    assert supervision_tasks(emergency_district, "emergency.incident") == []


def test_an_incident_regraded_from_iv_to_iii_becomes_one_supervision_task(emergency_district):
    incident = report_incident(emergency_district, ill=8)
    emergency_district.settle()
    regraded = em_grpc.IncidentServiceStub(emergency_district["emergency"].channel).UpdateCounts(
        em.UpdateCountsRequest(id=incident.id, incident=em.Incident(ill_count=150, death_count=0),
                               note="区疾控中心通报新增病例"))
    assert (incident.level, regraded.level) == (em.LEVEL_IV, em.LEVEL_III)
    emergency_district.settle()
    [task] = supervision_tasks(emergency_district, "emergency.incident")
    assert (task.office_id, task.source_ref) == ("MH01", incident.id)
    assert "III级" in task.title

