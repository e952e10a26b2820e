"""The facts the gateway turns into its live feed (动态) and alert probes (services/gateway/domain/feed.py,
NOTABLE), each produced by its publisher's own API call or sweep and relayed through its outbox.

A fact with a text is a line in the feed; every fact with a probe has the gateway ask that source
again soon for what needs attention, so the alerts move without waiting for the hourly reconcile.
A fact without a text (a complaint accepted or refused, an officer updated) shows only through
that probe: the alerts it moves, the feed unchanged. Everything is read from the dashboard's live
stream, whose first message is the snapshot: the feed and the open alerts.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from services.common import contracts
from services.common.clock import SHANGHAI, shanghai_today
from services.common.credit_code import check_character
from services.gateway.domain import alerts
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.complaints.v1 import complaints_pb2 as cp_pb
from supervision.complaints.v1 import complaints_pb2_grpc as cp_grpc
from supervision.emergency.v1 import emergency_pb2 as em_pb
from supervision.emergency.v1 import emergency_pb2_grpc as em_grpc
from supervision.facilities.v1 import facilities_pb2 as fa_pb
from supervision.facilities.v1 import facilities_pb2_grpc as fa_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me_pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc
from tests.contracts import case_procedure
from tests.contracts.test_gateway_consumes import create_office, date, register_officer
from tests.contracts.test_gateway_consumes import district as district  # a fixture: pytest finds it by name
from tests.support import Clock

ENTITY_USCC = "91310112MA1000002" + check_character("91310112MA1000002")
PROBE_WAIT_SECONDS = 10.0  # a probe runs 0.3 s after its event; generous for a loaded machine


def feed(gateway) -> list[tuple[str, str, str]]:
    """The live feed as a dashboard gets it: (office, source, text), oldest first."""
    return [(item["office_id"], item["source"], item["text"]) for item in gateway.snapshot()["feed"]]


def open_alerts(gateway, kind: str) -> list[tuple[str, str, str]]:
    """The open alerts of a kind as a dashboard gets them: (the record's id in its service, office,
    title); an alert's id is "<kind>/<record id>"."""
    found = [a for a in gateway.snapshot()["alerts"] if a["kind"] == kind]
    assert all(a["id"].startswith(f"{kind}/") for a in found), found
    return sorted((a["id"].removeprefix(f"{kind}/"), a["office_id"], a["title"]) for a in found)


def eventually(read: Callable[[], object], expected: object, timeout: float = PROBE_WAIT_SECONDS) -> None:
    """`read()` becomes `expected` (a probe runs in the gateway's feeder thread, after a short delay)."""
    deadline = time.monotonic() + timeout
    while (got := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert got == expected


def run_timer(center, service: str, name: str) -> None:
    """A sweep of `service`, run as its worker runs it (errors raised, not only logged)."""
    [timer] = [t for t in center[service].runtime.timers if t.name == name]
    timer.run()


# ---------------------------------------------------------------- complaints

COMPLAINTS_OFFICE = ("MH02", "七宝市场监督管理所", "七宝镇")


def file_complaint(center) -> cp_pb.Complaint:
    received = Timestamp()
    received.FromDatetime(dt.datetime.combine(center.clock.today, dt.time(9), SHANGHAI))
    complaint = cp_pb.Complaint(
        kind=cp_pb.COMPLAINT_KIND_COMPLAINT, channel=cp_pb.CHANNEL_HOTLINE_12315, received_at=received,
        complainant=cp_pb.Complainant(name="欧阳娜娜", phone="13912345678"),
        respondent=cp_pb.Respondent(name="七宝鲜丰超市有限公司", address="闵行区七宝镇漕宝路100号", street="七宝镇"),
        category="食品安全", description="购买的酸奶已过保质期，要求退货赔偿。", amount_yuan="38.50")
    filed = cp_grpc.ComplaintServiceStub(center["complaints"].channel).CreateComplaint(
        cp_pb.CreateComplaintRequest(request_id=str(uuid.uuid4()), complaint=complaint))
    assert filed.office_id == "MH02" and filed.HasField("acceptance_due")
    return filed


def overdue_complaint(center, gateway) -> tuple[cp_pb.Complaint, dt.date]:
    """A complaint left unaccepted past its acceptance due day, and complaints' deadline sweep run."""
    complaint = file_complaint(center)
    center.settle()
    due = contracts.day_of(complaint.acceptance_due)
    center.clock.today = due + dt.timedelta(days=1)
    run_timer(center, "complaints", "sweep_complaint_deadlines")
    center.settle()
    return complaint, due


def test_a_complaint_past_its_acceptance_deadline_is_a_feed_line_and_an_alert(district):
    center, gateway = district("command_center", "complaints")
    create_office(center, *COMPLAINTS_OFFICE)
    complaint, due = overdue_complaint(center, gateway)
    assert feed(gateway) == [("MH02", "complaints", "收到投诉（食品安全）"),
                             ("MH02", "complaints", f"投诉 {complaint.id} 超过受理期限")]
    eventually(lambda: open_alerts(gateway, alerts.COMPLAINT_OVERDUE),
               [(complaint.id, "MH02", f"投诉 {complaint.id} 超过受理期限（{due.isoformat()}）")])


@pytest.mark.parametrize("decide", [
    lambda stub, complaint_id: stub.AcceptComplaint(cp_pb.AcceptComplaintRequest(id=complaint_id, note="予以受理")),
    lambda stub, complaint_id: stub.RefuseComplaint(cp_pb.RefuseComplaintRequest(
        id=complaint_id, ground=cp_pb.REFUSAL_GROUND_OUTSIDE_DUTIES, note="不属于本部门职责")),
], ids=["accepted", "refused"])
def test_an_overdue_complaint_accepted_or_refused_late_leaves_the_alerts_and_not_the_feed(district, decide):
    """ComplaintAccepted and ComplaintRefused have no line: they re-run the complaints probe, and
    the complaint, no longer waiting for acceptance, leaves the overdue alerts."""
    center, gateway = district("command_center", "complaints")
    create_office(center, *COMPLAINTS_OFFICE)
    complaint, _ = overdue_complaint(center, gateway)
    eventually(lambda: [ref for ref, _, _ in open_alerts(gateway, alerts.COMPLAINT_OVERDUE)], [complaint.id])
    before = feed(gateway)
    decided = decide(cp_grpc.ComplaintServiceStub(center["complaints"].channel), complaint.id)
    assert not decided.overdue
    center.settle()
    eventually(lambda: open_alerts(gateway, alerts.COMPLAINT_OVERDUE), [])
    assert feed(gateway) == before


def test_a_complaint_resolved_by_mediation_is_a_feed_line(district):
    center, gateway = district("command_center", "complaints")
    create_office(center, *COMPLAINTS_OFFICE)
    complaint = file_complaint(center)
    stub = cp_grpc.ComplaintServiceStub(center["complaints"].channel)
    stub.AcceptComplaint(cp_pb.AcceptComplaintRequest(id=complaint.id, note="予以受理"))
    stub.RecordMediationOutcome(cp_pb.RecordMediationOutcomeRequest(
        id=complaint.id, outcome=cp_pb.MEDIATION_OUTCOME_RESOLVED, note="双方达成一致，退货赔偿"))
    center.settle()
    lines = feed(gateway)
    assert lines == [("MH02", "complaints", "收到投诉（食品安全）"),
                     ("MH02", "complaints", f"投诉 {complaint.id} 已办结")]
    assert "欧阳娜娜" not in str(lines) and "鲜丰" not in str(lines)


# ---------------------------------------------------------------- emergency

INCIDENT_TITLE = "某小学食堂学生腹泻"


def report_incident(center, ill_count: int, **fields) -> em_pb.Incident:
    learned = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    incident = em_pb.Incident(**({"type": em_pb.INCIDENT_TYPE_FOOD_SAFETY, "office_id": "MH01", "title": INCIDENT_TITLE,
                                  "entity_name": "某小学食堂", "address": "莘庄镇（测试）", "ill_count": ill_count}
                                 | fields))
    incident.occurred_at.FromDatetime(learned - dt.timedelta(hours=1))
    incident.learned_at.FromDatetime(learned)
    return em_grpc.IncidentServiceStub(center["emergency"].channel).ReportIncident(
        em_pb.ReportIncidentRequest(request_id=str(uuid.uuid4()), incident=incident))


def test_an_incident_regraded_in_emergency_is_a_feed_line_and_an_open_incident_alert(district):
    center, gateway = district("command_center", "emergency")
    create_office(center)
    incident = report_incident(center, ill_count=23)
    regraded = em_grpc.IncidentServiceStub(center["emergency"].channel).UpdateCounts(em_pb.UpdateCountsRequest(
        id=incident.id, incident=em_pb.Incident(ill_count=150, death_count=0), note="区疾控中心通报新增病例"))
    assert (incident.level, regraded.level) == (em_pb.LEVEL_IV, em_pb.LEVEL_III)
    center.settle()
    assert feed(gateway) == [("MH01", "emergency", f"报告突发事件一般（IV级）：{INCIDENT_TITLE}"),
                             ("MH01", "emergency", f"突发事件调整为较大（III级）：{INCIDENT_TITLE}")]
    eventually(lambda: open_alerts(gateway, alerts.INCIDENT_OPEN),
               [(incident.id, "MH01", f"较大（III级）突发事件处置中：{INCIDENT_TITLE}")])


def test_incidents_below_level_iv_are_feed_lines_of_their_own_and_no_alert(district):
    center, gateway = district("command_center", "emergency")
    create_office(center)
    food = report_incident(center, ill_count=0, circumstances=["cause_clear"])
    lift = report_incident(center, ill_count=0, type=em_pb.INCIDENT_TYPE_SPECIAL_EQUIPMENT, title="电梯短时困人",
                           trapped_count=1, trapped_hours=0.5)
    assert (food.outcome, lift.outcome) == (em_pb.INCIDENT_OUTCOME_BELOW_LEVEL_IV,
                                            em_pb.INCIDENT_OUTCOME_NOT_AN_ACCIDENT)
    center.settle()
    assert feed(gateway) == [("MH01", "emergency", f"登记事件（未达到一般级别，日常跟踪处置）：{INCIDENT_TITLE}"),
                             ("MH01", "emergency", "登记事件（不属于事故，日常跟踪处置）：电梯短时困人")]
    assert open_alerts(gateway, alerts.INCIDENT_OPEN) == []


def test_an_incident_closed_in_emergency_is_a_feed_line_and_leaves_the_alerts(district):
    center, gateway = district("command_center", "emergency")
    create_office(center)
    incident = report_incident(center, ill_count=150)
    assert incident.level == em_pb.LEVEL_III
    center.settle()
    eventually(lambda: [ref for ref, _, _ in open_alerts(gateway, alerts.INCIDENT_OPEN)], [incident.id])
    incidents = em_grpc.IncidentServiceStub(center["emergency"].channel)
    current = incidents.GetIncident(em_pb.GetIncidentRequest(id=incident.id))
    for action in current.actions:
        if action.state == em_pb.ACTION_STATE_OPEN:
            incidents.CompleteAction(em_pb.CompleteActionRequest(incident_id=incident.id, action_id=action.id,
                                                                 note="完成"))
    closed = incidents.CloseIncident(em_pb.CloseIncidentRequest(id=incident.id, review=em_pb.Review(
        cause="留样检出诺如病毒", measures="停业整顿", lessons="加强晨检")))
    assert closed.state == em_pb.INCIDENT_STATE_CLOSED
    center.settle()
    assert feed(gateway) == [("MH01", "emergency", f"报告突发事件较大（III级）：{INCIDENT_TITLE}"),
                             ("MH01", "emergency", f"突发事件处置结束：{INCIDENT_TITLE}")]
    eventually(lambda: open_alerts(gateway, alerts.INCIDENT_OPEN), [])


# ---------------------------------------------------------------- command_center


def test_a_task_past_its_due_day_is_a_feed_line(district):
    center, gateway = district("command_center")
    create_office(center)
    tasks = cc_grpc.TaskServiceStub(center["command_center"].channel)
    task = tasks.CreateTask(cc_pb.CreateTaskRequest(request_id="task-1", task=cc_pb.Task(
        office_id="MH01", title="督办：农贸市场整治", source="bureau",
        due_date=date(center.clock.today + dt.timedelta(days=1)))))
    center.clock.today += dt.timedelta(days=1)
    run_timer(center, "command_center", "sweep_overdue_tasks")
    center.settle()
    assert feed(gateway) == []  # due today is not overdue yet
    center.clock.today += dt.timedelta(days=1)
    run_timer(center, "command_center", "sweep_overdue_tasks")
    center.settle()
    assert tasks.GetTask(cc_pb.GetTaskRequest(id=task.id)).overdue
    assert feed(gateway) == [("MH01", "command_center", "督办任务超期：督办：农贸市场整治")]


def test_an_officer_s_certificate_renewed_in_command_center_leaves_the_expiring_alerts(district):
    """OfficerUpdated has no line: it re-runs the certificates probe, which finds the renewed
    certificate no longer expiring."""
    center, gateway = district("command_center")
    create_office(center)
    expires = center.clock.today + dt.timedelta(days=20)  # within the alerts' 30 days
    officers = cc_grpc.OfficerServiceStub(center["command_center"].channel)
    officers.RegisterOfficer(cc_pb.RegisterOfficerRequest(request_id="officer-MH01-01", officer=cc_pb.Officer(
        id="MH01-01", name="王伟", office_id="MH01", group=cc_pb.GROUP_KIND_SUPERVISION, certificate_no="SH0101",
        certificate_expires=date(expires))))
    center.settle()
    eventually(lambda: open_alerts(gateway, alerts.CERTIFICATE_EXPIRING),
               [("MH01-01", "MH01", f"执法人员 MH01-01 的执法证将于 {expires.isoformat()} 到期")])
    officers.UpdateOfficer(cc_pb.UpdateOfficerRequest(officer=cc_pb.Officer(
        id="MH01-01", certificate_expires=date(center.clock.today + dt.timedelta(days=3 * 365))),
        update_mask=FieldMask(paths=["certificate_expires"])))
    center.settle()
    eventually(lambda: open_alerts(gateway, alerts.CERTIFICATE_EXPIRING), [])
    assert feed(gateway) == []


# ---------------------------------------------------------------- facilities


def register_reader(center, last_calibrated: dt.date) -> fa_pb.Equipment:
    return fa_grpc.EquipmentServiceStub(center["facilities"].channel).RegisterEquipment(
        fa_pb.RegisterEquipmentRequest(equipment=fa_pb.Equipment(
            office_id="MH01", category="pesticide_reader", model="NY-12", serial_no="SN-0001",
            last_calibrated_on=date(last_calibrated))))


def test_equipment_due_for_calibration_is_a_feed_line_and_an_alert(district):
    center, gateway = district("command_center", "facilities")
    create_office(center)
    reader = register_reader(center, center.clock.today - dt.timedelta(days=350))  # calibrated yearly
    due = contracts.day_of(reader.calibration_due)
    assert center.clock.today < due <= center.clock.today + dt.timedelta(days=30)
    center.settle()
    assert feed(gateway) == []
    run_timer(center, "facilities", "notify_calibration_due")
    center.settle()
    assert feed(gateway) == [("MH01", "facilities", f"农药残留速测仪 检定到期日 {due.isoformat()}")]
    eventually(lambda: open_alerts(gateway, alerts.CALIBRATION_DUE),
               [(reader.id, "MH01", f"农药残留速测仪 检定将于 {due.isoformat()} 到期")])


def test_a_rapid_test_positive_confirmed_in_facilities_is_a_feed_line(district):
    center, gateway = district("command_center", "facilities", clock=Clock(shanghai_today()))  # tests: wall clock
    create_office(center)
    reader = register_reader(center, center.clock.today - dt.timedelta(days=30))
    tests = fa_grpc.RapidTestServiceStub(center["facilities"].channel)
    test = tests.RecordTest(fa_pb.RecordTestRequest(
        office_id="MH01", origin=fa_pb.TEST_ORIGIN_MARKET_SAMPLING, sample=fa_pb.Sample(
            name="青菜", vendor_name="莘庄菜场3号摊", market="莘庄农贸市场", stall="3号"),
        item="pesticide_residue", method="enzyme_inhibition", equipment_id=reader.id, reading=62))
    center.settle()
    assert feed(gateway) == []  # a positive not yet confirmed is no news
    tests.ConfirmResult(fa_pb.ConfirmResultRequest(test_id=test.id, retest_waived=True, kg_destroyed=2.5))
    center.settle()
    lines = feed(gateway)
    assert lines == [("MH01", "facilities", "快检阳性：青菜")]
    assert "莘庄菜场3号摊" not in str(lines)


# ---------------------------------------------------------------- mobile_enforcement


def file_case(center) -> tuple[me_grpc.CaseServiceStub, me_pb.Case]:
    """A lead against an unregistered stall, filed by two certified officers of MH01."""
    cases = me_grpc.CaseServiceStub(center["mobile_enforcement"].channel)
    lead = cases.OpenLead(me_pb.OpenLeadRequest(request_id="lead-1", lead=me_pb.Case(
        office_id="MH01", party=me_pb.Party(name="莘庄无名摊贩", address="莘庄镇莘松路1号"),
        source=me_pb.LEAD_SOURCE_REFERRAL, source_ref="R-1", description="涉嫌销售过期食品")))
    filed = cases.FileCase(me_pb.FileCaseRequest(id=lead.id, officer_ids=["MH01-01", "MH01-02"]))
    assert filed.state == me_pb.CASE_STATE_FILED
    return cases, filed


@pytest.fixture
def enforcement(district):
    """command_center and mobile_enforcement (which stamps publication with the wall clock), MH01
    and two certified officers."""
    center, gateway = district("command_center", "mobile_enforcement", clock=Clock(shanghai_today()))
    create_office(center)
    register_officer(center, "MH01-01")
    register_officer(center, "MH01-02")
    return center, gateway


def test_a_case_filed_in_mobile_enforcement_is_a_feed_line(enforcement):
    center, gateway = enforcement
    file_case(center)
    center.settle()
    lines = feed(gateway)
    assert lines == [("MH01", "mobile_enforcement", "立案调查一起案件")]
    assert "莘庄无名摊贩" not in str(lines)


def test_a_case_closed_in_mobile_enforcement_is_a_feed_line(enforcement):
    center, gateway = enforcement
    cases, filed = file_case(center)
    closed = case_procedure.closed(cases, filed.id, case_procedure.warning())
    assert closed.state == me_pb.CASE_STATE_CLOSED
    center.settle()
    assert feed(gateway) == [("MH01", "mobile_enforcement", "立案调查一起案件"),
                             ("MH01", "mobile_enforcement", "结案一起案件")]


def test_a_case_past_its_legal_review_limit_is_a_feed_line_and_an_alert_until_it_is_reviewed(enforcement):
    """mobile_enforcement's CaseOverdue is a feed line and re-runs the cases probe at once: a case
    under legal review (法制审核) past its day is an alert naming the party by its registered name;
    reviewed (late), it leaves the alerts at the next reconcile (the review publishes no event), and
    the late review is history, not an alert of the case's next step."""
    center, gateway = enforcement
    register_officer(center, "MH01-03")
    entity = me_grpc.EntityServiceStub(center["mobile_enforcement"].channel).RegisterEntity(
        me_pb.RegisterEntityRequest(entity=me_pb.Entity(
            uscc=ENTITY_USCC, name="莘庄鲜丰超市有限公司", category=me_pb.ENTITY_CATEGORY_SUPERMARKET,
            address="闵行区莘庄镇莘松路100号", street="莘庄镇", risk_level=me_pb.RISK_LEVEL_LOW)))
    cases = me_grpc.CaseServiceStub(center["mobile_enforcement"].channel)
    lead = cases.OpenLead(me_pb.OpenLeadRequest(lead=me_pb.Case(
        entity_id=entity.uscc, source=me_pb.LEAD_SOURCE_REFERRAL, description="涉嫌销售过期食品")))
    cases.FileCase(me_pb.FileCaseRequest(id=lead.id, officer_ids=["MH01-01", "MH01-02"]))
    assert case_procedure.concluded(cases, lead.id, case_procedure.fine(200_000)).legal_review_required
    submitted = cases.SubmitForLegalReview(me_pb.SubmitForLegalReviewRequest(id=lead.id))
    due = contracts.day_of(submitted.legal_review_due)
    center.clock.today = due + dt.timedelta(days=1)
    run_timer(center, "mobile_enforcement", "sweep_deadlines")
    center.settle()
    feeder = gateway.hosted.parts.feeder

    assert ("MH01", "mobile_enforcement", "案件超过法制审核期限：莘庄鲜丰超市有限公司") in feed(gateway)
    eventually(lambda: [(ref, office_id, "莘庄鲜丰超市有限公司" in title and "超过法制审核期限" in title)
                        for ref, office_id, title in open_alerts(gateway, alerts.CASE_OVERDUE)],
               [(lead.id, "MH01", True)])

    reviewed = cases.RecordLegalReview(me_pb.RecordLegalReviewRequest(
        id=lead.id, reviewer_id="MH01-03", approved=True, opinion="事实清楚，证据确凿"))
    assert reviewed.state == me_pb.CASE_STATE_INVESTIGATED and reviewed.legal_review_overdue
    center.settle()
    feeder.reconcile(["mobile_enforcement"])
    assert open_alerts(gateway, alerts.CASE_OVERDUE) == []


def test_a_lead_of_an_unregistered_party_past_its_filing_limit_is_a_feed_line_without_its_name(enforcement):
    center, gateway = enforcement
    cases = me_grpc.CaseServiceStub(center["mobile_enforcement"].channel)
    lead = cases.OpenLead(me_pb.OpenLeadRequest(request_id="lead-2", lead=me_pb.Case(
        office_id="MH01", party=me_pb.Party(name="莘庄无名摊贩", address="莘庄镇莘松路1号"),
        source=me_pb.LEAD_SOURCE_REFERRAL, source_ref="R-2", description="涉嫌销售过期食品")))
    center.clock.today = contracts.day_of(lead.filing_decision_due) + dt.timedelta(days=1)
    run_timer(center, "mobile_enforcement", "sweep_deadlines")
    center.settle()
    lines = feed(gateway)
    assert ("MH01", "mobile_enforcement", "案件超过立案决定期限") in lines
    assert "莘庄无名摊贩" not in str(lines)
