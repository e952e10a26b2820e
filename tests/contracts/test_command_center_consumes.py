"""What command_center does with the events it consumes, each produced by its publisher's own code:
a complaint past its acceptance deadline (complaints), a penalty case past one of its statutory limits
(mobile_enforcement: one task per case and limit) and an incident of level I-III, as reported or after
re-grading (emergency), become one supervision task (督办) for the office."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from services.command_center.handlers import CASE_OVERDUE_SOURCE
from services.common import contracts
from services.common.clock import SHANGHAI, shanghai_today
from services.common.consumer import APPLIED, DUPLICATE, REJECTED
from services.common.credit_code import check_character
from services.common.events import Envelope, EventWriter
from services.complaints.models import Outbox as ComplaintsOutbox
from services.emergency.models import Outbox as EmergencyOutbox
from services.mobile_enforcement.domain import published
from services.mobile_enforcement.models import Case as EnforcementCase
from services.mobile_enforcement.models import Outbox as EnforcementOutbox
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.complaints.v1 import complaints_pb2 as cp
from supervision.complaints.v1 import complaints_pb2_grpc as cp_grpc
from supervision.complaints.v1 import events_pb2 as complaints_events
from supervision.emergency.v1 import emergency_pb2 as em
from supervision.emergency.v1 import emergency_pb2_grpc as em_grpc
from supervision.emergency.v1 import events_pb2 as em_events
from supervision.mobile_enforcement.v1 import events_pb2 as me_events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc
from tests.contracts import case_procedure
from tests.support import Clock

STREET = "七宝镇"
CASE_TEAM = ("MH01-01", "MH01-02")
REVIEWER = "MH01-03"
ENTITY_USCC = "91310112MA1000001" + check_character("91310112MA1000001")


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


def report_incident(center, ill: int, **fields) -> em.Incident:
    learned = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    occurred, learned_at = Timestamp(), Timestamp()
    occurred.FromDatetime(learned - dt.timedelta(hours=2))
    learned_at.FromDatetime(learned)
    incident = {"type": em.INCIDENT_TYPE_FOOD_SAFETY, "title": "学校食堂疑似食物中毒",
                "description": "多名学生腹泻呕吐", "ill_count": ill, "death_count": 0} | fields
    return em_grpc.IncidentServiceStub(center["emergency"].channel).ReportIncident(em.ReportIncidentRequest(
        request_id=str(uuid.uuid4()), incident=em.Incident(
            office_id="MH01", occurred_at=occurred, learned_at=learned_at, **incident)))


def incident_outcomes(center) -> list[tuple[str, str, str]]:
    """(event type, level, outcome) of every incident event emergency's own code wrote to its outbox."""
    messages = {contracts.type_name(m): m for m in (em_events.IncidentReported, em_events.IncidentLevelChanged)}
    with center["emergency"].runtime.store.read() as session:
        envelopes = [Envelope.from_wire(wire) for wire in session.scalars(
            select(EmergencyOutbox.envelope).where(EmergencyOutbox.event_type.in_(messages))
            .order_by(EmergencyOutbox.id))]
    return [(e.type, decoded.level, decoded.outcome) for e in envelopes
            for decoded in [contracts.decode(messages[e.type], e.type, e.data)]]


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


def test_incidents_below_level_iv_raise_no_task_until_regraded_into_a_supervised_level(emergency_district):
    # Contaminated food found before anyone fell ill, its cause clear; a lift stuck under the rule
    # set's hours with nobody hurt: neither is graded, so neither is supervised.
    food = report_incident(emergency_district, ill=0, title="熟食抽检检出致病菌", circumstances=["cause_clear"])
    lift = report_incident(emergency_district, ill=0, type=em.INCIDENT_TYPE_SPECIAL_EQUIPMENT, title="电梯困人",
                           trapped_count=2, trapped_hours=0.5)
    assert (food.level, food.outcome) == (em.LEVEL_UNSPECIFIED, em.INCIDENT_OUTCOME_BELOW_LEVEL_IV)
    assert (lift.level, lift.outcome) == (em.LEVEL_UNSPECIFIED, em.INCIDENT_OUTCOME_NOT_AN_ACCIDENT)
    emergency_district.settle()
    assert incident_outcomes(emergency_district) == [
        (contracts.type_name(em_events.IncidentReported), "", "BELOW_LEVEL_IV"),
        (contracts.type_name(em_events.IncidentReported), "", "NOT_AN_ACCIDENT")]
    assert supervision_tasks(emergency_district, "emergency.incident") == []

    # Later reports put the food incident at level III: from then on it is supervised, once.
    regraded = em_grpc.IncidentServiceStub(emergency_district["emergency"].channel).UpdateCounts(
        em.UpdateCountsRequest(id=food.id, incident=em.Incident(ill_count=120), note="区疾控中心通报病例120例",
                               update_mask=FieldMask(paths=["ill_count"])))
    assert (regraded.level, regraded.outcome) == (em.LEVEL_III, em.INCIDENT_OUTCOME_GRADED)
    emergency_district.settle()
    [task] = supervision_tasks(emergency_district, "emergency.incident")
    assert (task.source_ref, "III级" in task.title) == (food.id, True)


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



# ---------------------------------------------------------------- mobile_enforcement


def register_officers(center, *officer_ids: str) -> None:
    """Certified officers of MH01, settled, so mobile_enforcement may put them on a case."""
    officers = cc_grpc.OfficerServiceStub(center["command_center"].channel)
    expires = contracts.date_of(center.clock.today + dt.timedelta(days=365))
    for officer_id in officer_ids:
        officers.RegisterOfficer(cc.RegisterOfficerRequest(request_id=f"officer-{officer_id}", officer=cc.Officer(
            id=officer_id, name=f"干部{officer_id}", office_id="MH01", group=cc.GROUP_KIND_SUPERVISION,
            certificate_no=f"SH{officer_id[-2:]}", certificate_expires=expires)))
    center.settle()


def sweep_case_deadlines(center) -> None:
    """mobile_enforcement's deadline sweep, run as its worker runs it."""
    [timer] = [t for t in center["mobile_enforcement"].runtime.timers if t.name == "sweep_deadlines"]
    timer.run()


def case_overdue_envelopes(center) -> list[dict]:
    event_type = contracts.type_name(me_events.CaseOverdue)
    with center["mobile_enforcement"].store.read() as session:
        return [row.envelope for row in session.scalars(
            select(EnforcementOutbox).where(EnforcementOutbox.event_type == event_type)
            .order_by(EnforcementOutbox.id))]


@pytest.fixture
def enforcement_district(center):
    # Today is the wall clock's day: mobile_enforcement stamps some instants with the wall clock.
    district = center("command_center", "mobile_enforcement", clock=Clock(shanghai_today()))
    register_office(district)
    register_officers(district, *CASE_TEAM, REVIEWER)
    return district


def test_a_lead_past_its_filing_limit_becomes_one_supervision_task(enforcement_district):
    district = enforcement_district
    cases = me_grpc.CaseServiceStub(district["mobile_enforcement"].channel)
    lead = cases.OpenLead(me.OpenLeadRequest(request_id="lead-1", lead=me.Case(
        office_id="MH01", source=me.LEAD_SOURCE_REFERRAL, description="涉嫌销售过期食品",
        party=me.Party(name="张某某"))))
    due = contracts.day_of(lead.filing_decision_due)

    district.clock.today = due
    sweep_case_deadlines(district)
    district.settle()
    assert supervision_tasks(district, CASE_OVERDUE_SOURCE) == []  # due today is not overdue yet

    district.clock.today = due + dt.timedelta(days=1)
    sweep_case_deadlines(district)
    district.settle()
    [task] = supervision_tasks(district, CASE_OVERDUE_SOURCE)
    assert (task.office_id, task.source_ref, task.state) == ("MH01", f"{lead.id}/filing", cc.TASK_STATE_ASSIGNED)
    # A person's name is personal data: the title names the case, never the party outside the directory.
    assert "立案决定" in task.title and lead.id in task.title and "张某某" not in task.title + task.description
    assert district.clock.today < contracts.day_of(task.due_date) <= district.clock.today + dt.timedelta(days=7)

    # The same event delivered again, or the same fact published once more: still one task.
    [envelope] = case_overdue_envelopes(district)
    consumer = district["command_center"].runtime.consumer()
    [subscription] = [s for s in district["command_center"].runtime.subscriptions
                      if s.message is me_events.CaseOverdue]
    assert consumer.handle(subscription, envelope) == DUPLICATE
    assert consumer.handle(subscription, {**envelope, "id": str(uuid.uuid4())}) == APPLIED
    assert [t.id for t in supervision_tasks(district, CASE_OVERDUE_SOURCE)] == [task.id]
    # Without its deadline the notice names no limit to supervise: refused (parked), no task.
    nameless = {**envelope, "id": str(uuid.uuid4()), "data": {**envelope["data"], "deadline": ""}}
    assert consumer.handle(subscription, nameless) == REJECTED
    assert [t.id for t in supervision_tasks(district, CASE_OVERDUE_SOURCE)] == [task.id]


def test_a_case_late_in_legal_review_and_then_in_payment_raises_a_task_for_each(enforcement_district):
    """Each limit a case runs out of is supervised once: the legal review (法制审核) and, later, the
    fine's payment are two tasks for the same case, titled with the party's registered name."""
    district = enforcement_district
    entities = me_grpc.EntityServiceStub(district["mobile_enforcement"].channel)
    entity = entities.RegisterEntity(me.RegisterEntityRequest(entity=me.Entity(
        uscc=ENTITY_USCC, name="七宝鲜丰超市有限公司", category=me.ENTITY_CATEGORY_SUPERMARKET,
        address="闵行区七宝镇漕宝路100号", street=STREET, risk_level=me.RISK_LEVEL_LOW)))
    cases = me_grpc.CaseServiceStub(district["mobile_enforcement"].channel)
    lead = cases.OpenLead(me.OpenLeadRequest(request_id="lead-2", lead=me.Case(
        entity_id=entity.uscc, source=me.LEAD_SOURCE_REFERRAL, description="涉嫌销售过期食品")))
    cases.FileCase(me.FileCaseRequest(id=lead.id, officer_ids=list(CASE_TEAM)))
    heavy = case_procedure.fine(200_000)  # a major decision for an organisation: legal review required
    concluded = case_procedure.concluded(cases, lead.id, heavy)
    assert concluded.legal_review_required
    submitted = cases.SubmitForLegalReview(me.SubmitForLegalReviewRequest(id=lead.id))

    district.clock.today = contracts.day_of(submitted.legal_review_due) + dt.timedelta(days=1)
    sweep_case_deadlines(district)
    district.settle()
    [review] = supervision_tasks(district, CASE_OVERDUE_SOURCE)
    assert review.source_ref == f"{lead.id}/legal_review"
    assert "法制审核" in review.title and "七宝鲜丰超市有限公司" in review.title

    cases.RecordLegalReview(me.RecordLegalReviewRequest(id=lead.id, reviewer_id=REVIEWER, approved=True,
                                                        opinion="事实清楚，证据确凿"))
    if cases.GetCase(me.GetCaseRequest(id=lead.id)).collective_discussion_required:
        cases.RecordCollectiveDiscussion(me.RecordCollectiveDiscussionRequest(id=lead.id, record="集体讨论同意"))
    cases.IssueAdvanceNotice(me.IssueAdvanceNoticeRequest(id=lead.id))
    cases.RecordStatement(me.RecordStatementRequest(id=lead.id, statement="放弃陈述申辩", waived=True))
    cases.DecideCase(me.DecideCaseRequest(id=lead.id, penalty=heavy))
    delivered = cases.RecordDelivery(me.RecordDeliveryRequest(id=lead.id, method=me.DELIVERY_METHOD_DIRECT))

    district.clock.today = contracts.day_of(delivered.payment_due) + dt.timedelta(days=1)
    sweep_case_deadlines(district)
    district.settle()
    tasks = {t.source_ref: t for t in supervision_tasks(district, CASE_OVERDUE_SOURCE)}
    assert set(tasks) == {f"{lead.id}/legal_review", f"{lead.id}/payment"}
    assert "罚款缴纳" in tasks[f"{lead.id}/payment"].title
    assert {e["data"]["deadline"] for e in case_overdue_envelopes(district)} == {"legal_review", "payment"}


def test_every_limit_of_a_case_is_supervised_once_and_named(enforcement_district):
    """Each CaseOverdue mobile_enforcement's builders make (one per limit a case can run out of),
    written by its own event writer as its sweep writes it: five limits of one case, five tasks,
    each naming its limit and the party by its registered name."""
    district = enforcement_district
    day = district.clock.today - dt.timedelta(days=3)
    case = EnforcementCase(id=str(uuid.uuid4()), office_id="MH01", state="DELIVERED", version=7,
                           entity_id=ENTITY_USCC, party_name="七宝鲜丰超市有限公司", filing_decision_due=day,
                           closing_due=day, legal_review_due=day, delivery_due=day, payment_due=day)
    builders = {"filing": published.filing_overdue, "decision": published.decision_overdue,
                "legal_review": published.legal_review_overdue, "delivery": published.delivery_overdue,
                "payment": published.payment_overdue}
    writer = EventWriter("mobile_enforcement", EnforcementOutbox)
    with district["mobile_enforcement"].store.transaction() as session:
        for build in builders.values():
            writer.record(session, build(case), aggregate_type="case", aggregate_id=case.id, version=case.version,
                          office_id=case.office_id)
    district.settle()
    tasks = {t.source_ref: t for t in supervision_tasks(district, CASE_OVERDUE_SOURCE)}
    assert set(tasks) == {f"{case.id}/{deadline}" for deadline in builders}
    named = {"filing": "立案决定", "decision": "处罚决定", "legal_review": "法制审核", "delivery": "处罚决定送达",
             "payment": "罚款缴纳"}
    for deadline, what in named.items():
        task = tasks[f"{case.id}/{deadline}"]
        assert f"（{what}）" in task.title and "七宝鲜丰超市有限公司" in task.title, task.title
        assert f"due {day.isoformat()}" in task.description and "DELIVERED" in task.description
