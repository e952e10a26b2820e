"""A golden quarter: one office's known work in 2026-Q3, done through the public gRPC APIs, and the
figures that work must produce, computed by hand from the domain rules and the rule files.

The work (office GQ1, Minhang-like, eight certified officers, two per group; a second office GQ2
with less work, so the workload coefficient has a district to compare with):
- three inspections by named pairs of officers, one of them completed after its due day;
- two complaints resolved by a complaint-handling officer, one accepted after its statutory limit;
- one penalty case by two case-handling officers, on time: filed, its investigation concluded and the
  advance notice given the next day, the party's statement recorded within the statement and defence
  period, decided the day after that period lapsed, published, delivered, executed and closed;
- one supervision task that passes its due day (swept overdue) and is completed late.

`play(center)` does the work against a running center (monolith or microservices) whose clock the
test can move; `expected_*` say what the figures must be and why, without calling the code under
test. Shared by the monolith test (make test) and the microservices test (make chaos).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grpc
import yaml
from google.type import date_pb2, latlng_pb2

from services.common.auth import issue_token
from services.common.credit_code import check_character
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.complaints.v1 import complaints_pb2 as co
from supervision.complaints.v1 import complaints_pb2_grpc as co_grpc
from supervision.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc

ROOT = Path(__file__).resolve().parents[2]
SECRET = "golden-quarter-secret-of-32-bytes!!"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
QUARTER = "2026-Q3"
GROUPS = [cc.GROUP_KIND_GENERAL, cc.GROUP_KIND_SUPERVISION, cc.GROUP_KIND_CASE_HANDLING,
          cc.GROUP_KIND_COMPLAINT_HANDLING]
GOLDEN, OTHER = "GQ1", "GQ2"
STREETS = {GOLDEN: "金桥镇", OTHER: "银桥镇"}


def at(day: str, hour: int = 10) -> dt.datetime:
    """An instant in Shanghai on a day of the quarter ("2026-08-03")."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), SHANGHAI)


def date(day: str) -> date_pb2.Date:
    parsed = dt.date.fromisoformat(day)
    return date_pb2.Date(year=parsed.year, month=parsed.month, day=parsed.day)


def uscc(number: int) -> str:
    body = f"91310112MA1GQ{number:04d}"
    return body + check_character(body)


def token(subject: str, roles: list[str], office_id: str = "") -> tuple[tuple[str, str], ...]:
    return (("authorization", "Bearer " + issue_token(SECRET, subject=subject, roles=roles, office_id=office_id)),)


LEADER = token("leader-01", ["bureau_leader"])


def officer(office_id: str, seat: int) -> str:
    return f"{office_id}-{seat:02d}"


def as_officer(officer_id: str) -> tuple[tuple[str, str], ...]:
    return token(officer_id, ["officer"], officer_id.split("-")[0])


class Center(Protocol):
    """What the scenario needs of a running center: channels, time, and the deadline sweeps."""

    def channel(self, service: str) -> grpc.Channel: ...

    def set_time(self, instant: dt.datetime) -> None: ...

    def sweep(self) -> None:
        """Runs every service's deadline sweeps once (what the workers' timers do)."""

    def settle(self) -> None:
        """Returns once every event committed so far has been applied by its consumers."""


# ---------------------------------------------------------------------------- the work

@dataclass
class Inspection:
    entity: int
    team: tuple[int, int]
    due: str
    completed: str


@dataclass
class Work:
    """One office's quarter: what is done and on which days."""

    office_id: str
    entities: list[tuple[int, int]]  # (number, category)
    inspections: list[Inspection]
    # (received, accepted): accepted after the acceptance limit makes the complaint late.
    complaints: list[tuple[str, str]]
    case: bool = False
    task: bool = False
    complaint_handler: int = 7
    case_team: tuple[int, int] = (5, 6)
    task_officer: int = 8
    ids: dict[str, list[str]] = field(default_factory=dict)


GOLDEN_WORK = Work(
    GOLDEN,
    entities=[(1, me.ENTITY_CATEGORY_PHARMACY), (2, me.ENTITY_CATEGORY_SUPERMARKET), (3, me.ENTITY_CATEGORY_CATERING),
              (4, me.ENTITY_CATEGORY_CONVENIENCE_STORE)],
    inspections=[Inspection(1, (1, 2), due="2026-08-10", completed="2026-08-05"),
                 Inspection(2, (3, 4), due="2026-08-07", completed="2026-08-12"),  # late
                 Inspection(3, (1, 3), due="2026-08-20", completed="2026-08-14")],
    # Received Monday 08-03: 7 working days end on Wednesday 08-12 (the receipt day is not counted).
    complaints=[("2026-08-03", "2026-08-05"), ("2026-08-03", "2026-08-14")],  # the second late
    case=True, task=True)
OTHER_WORK = Work(
    OTHER,
    entities=[(11, me.ENTITY_CATEGORY_WET_MARKET), (12, me.ENTITY_CATEGORY_PHARMACY)],
    inspections=[Inspection(11, (1, 2), due="2026-08-20", completed="2026-08-06"),
                 Inspection(12, (3, 4), due="2026-08-20", completed="2026-08-07")],
    complaints=[("2026-08-04", "2026-08-06")])
TASK_DUE, TASK_SWEPT, TASK_DONE = "2026-08-10", "2026-08-11", "2026-08-12"
LEAD, FILED, NOTIFIED, STATEMENT = "2026-08-17", "2026-08-18", "2026-08-19", "2026-08-21"
# Notified Wednesday 08-19: the statement period's 5 working days end on Wednesday 08-26 (the
# notice's day is not counted), so the decision may come on Thursday 08-27, not before.
DECIDED, PUBLISHED, DELIVERED, CLOSED = "2026-08-27", "2026-08-28", "2026-08-28", "2026-08-31"
END_OF_WORK = "2026-09-30"
AFTER_QUARTER = "2026-10-09"


def setup_district(center: Center) -> None:
    """Two offices, eight certified officers each (two per group), their entities."""
    center.set_time(at("2026-08-03", 8))
    offices = cc_grpc.OfficeServiceStub(center.channel("command_center"))
    officers = cc_grpc.OfficerServiceStub(center.channel("command_center"))
    for office_id, name in ((GOLDEN, "金桥所"), (OTHER, "银桥所")):
        offices.CreateOffice(cc.CreateOfficeRequest(request_id=f"golden-{office_id}", office=cc.Office(
            id=office_id, name=name, district="闵行区", streets=[STREETS[office_id]])), metadata=LEADER)
        for seat in range(1, 9):
            officers.RegisterOfficer(cc.RegisterOfficerRequest(
                request_id=f"golden-{office_id}-{seat}", officer=cc.Officer(
                    id=officer(office_id, seat), name=f"检查员{office_id}{seat}", office_id=office_id,
                    group=GROUPS[(seat - 1) // 2], certificate_no=f"GQ{office_id}{seat:02d}",
                    certificate_expires=date("2027-12-31"))), metadata=LEADER)
    center.settle()
    entities = me_grpc.EntityServiceStub(center.channel("mobile_enforcement"))
    for work in (GOLDEN_WORK, OTHER_WORK):
        for number, category in work.entities:
            street = STREETS[work.office_id]
            entities.RegisterEntity(me.RegisterEntityRequest(request_id=f"golden-entity-{number}", entity=me.Entity(
                uscc=uscc(number), name=f"金银商户{number}", category=category, address=f"{street}{number}号",
                street=street, risk_level=me.RISK_LEVEL_MEDIUM)), metadata=LEADER)
    center.settle()


def play(center: Center) -> None:
    """The whole quarter, day by day, through the public APIs."""
    setup_district(center)
    inspections = me_grpc.InspectionServiceStub(center.channel("mobile_enforcement"))
    checklists = me_grpc.ChecklistServiceStub(center.channel("mobile_enforcement"))
    complaints = co_grpc.ComplaintServiceStub(center.channel("complaints"))
    tasks = cc_grpc.TaskServiceStub(center.channel("command_center"))
    cases = me_grpc.CaseServiceStub(center.channel("mobile_enforcement"))

    # Day by day: each step runs on its day, after the sweeps of that morning.
    steps: list[tuple[str, int, object]] = []
    for work in (GOLDEN_WORK, OTHER_WORK):
        for index, item in enumerate(work.inspections):
            steps.append(("2026-08-03", 9, lambda w=work, i=item, n=index: _schedule(inspections, w, i, n)))
            steps.append((item.completed, 11,
                          lambda w=work, i=item, n=index: _inspect(inspections, checklists, w, i, n)))
        for index, (received, accepted) in enumerate(work.complaints):
            steps.append((received, 9, lambda w=work, r=received, n=index: _complain(complaints, w, r, n)))
            steps.append((accepted, 14, lambda w=work, n=index: _resolve(complaints, w, n)))
    steps.append(("2026-08-03", 9, lambda: _task(tasks)))
    steps.append((TASK_DONE, 15, lambda: _complete_task(tasks)))
    steps.append((LEAD, 10, lambda: _lead(cases)))
    steps.append((FILED, 10, lambda: _file(cases)))
    steps.append((NOTIFIED, 10, lambda: _notify(cases)))
    steps.append((STATEMENT, 10, lambda: _statement(cases)))
    steps.append((DECIDED, 10, lambda: _decide(cases)))
    steps.append((PUBLISHED, 10, lambda: _publish_decision(cases)))
    steps.append((DELIVERED, 11, lambda: _deliver(cases)))
    steps.append((CLOSED, 10, lambda: _execute(cases)))
    steps.append((CLOSED, 11, lambda: _close(cases)))
    days = sorted({day for day, _, _ in steps} | {TASK_SWEPT, END_OF_WORK})
    for day in days:
        center.set_time(at(day, 7))
        center.sweep()
        center.settle()
        for _, hour, step in sorted((s for s in steps if s[0] == day), key=lambda s: s[1]):
            center.set_time(at(day, hour))
            step()
        center.settle()


def _schedule(stub, work: Work, item: Inspection, index: int) -> None:
    scheduled = stub.ScheduleInspection(me.ScheduleInspectionRequest(
        request_id=f"golden-inspection-{work.office_id}-{index}",
        inspection=me.Inspection(entity_id=uscc(item.entity), kind=me.INSPECTION_KIND_ROUTINE,
                                 due_date=date(item.due))), metadata=LEADER)
    work.ids.setdefault("inspections", []).append(scheduled.id)


def _inspect(stub, checklists, work: Work, item: Inspection, index: int) -> None:
    inspection_id = work.ids["inspections"][index]
    first, second = (officer(work.office_id, seat) for seat in item.team)
    metadata = as_officer(first)
    started = stub.StartInspection(me.StartInspectionRequest(
        id=inspection_id, officer_ids=[first, second],
        location=me.Location(point=latlng_pb2.LatLng(latitude=31.11, longitude=121.38), address="现场")),
        metadata=metadata)
    checklist = checklists.GetChecklist(me.GetChecklistRequest(category=started.checklist_category,
                                                               version=started.checklist_version), metadata=metadata)
    stub.RecordFindings(me.RecordFindingsRequest(id=inspection_id, findings=[
        me.Finding(item_code=i.code, result=me.ITEM_RESULT_PASS) for i in checklist.items]), metadata=metadata)
    stub.CompleteInspection(me.CompleteInspectionRequest(id=inspection_id, summary="检查完毕，未发现问题"),
                            metadata=metadata)
    stub.PublishInspectionResult(me.PublishInspectionResultRequest(id=inspection_id), metadata=metadata)


def _complain(stub, work: Work, received: str, index: int) -> None:
    number = work.entities[index][0]
    created = stub.CreateComplaint(co.CreateComplaintRequest(
        request_id=f"golden-complaint-{work.office_id}-{index}", complaint=co.Complaint(
            kind=co.COMPLAINT_KIND_COMPLAINT, channel=co.CHANNEL_HOTLINE_12315,
            received_at=_timestamp(at(received, 9)),
            complainant=co.Complainant(name="张三", phone="13912345678"),
            respondent=co.Respondent(name=f"金银商户{number}", uscc=uscc(number),
                                     address=f"{STREETS[work.office_id]}{number}号", street=STREETS[work.office_id]),
            category="食品安全", description="购买的食品已过保质期，要求退货", amount_yuan="58.00")), metadata=LEADER)
    assert created.office_id == work.office_id, created.office_id
    work.ids.setdefault("complaints", []).append(created.id)


def _resolve(stub, work: Work, index: int) -> None:
    complaint_id = work.ids["complaints"][index]
    metadata = as_officer(officer(work.office_id, work.complaint_handler))
    stub.AcceptComplaint(co.AcceptComplaintRequest(id=complaint_id, note="予以受理，组织调解"), metadata=metadata)
    stub.RecordMediationOutcome(co.RecordMediationOutcomeRequest(
        id=complaint_id, outcome=co.MEDIATION_OUTCOME_RESOLVED, note="双方达成调解协议"), metadata=metadata)


def _task(stub) -> None:
    created = stub.CreateTask(cc.CreateTaskRequest(request_id="golden-task", task=cc.Task(
        office_id=GOLDEN, title="督办：校园周边食品安全整治", source="bureau", due_date=date(TASK_DUE))),
        metadata=LEADER)
    GOLDEN_WORK.ids["task"] = [created.id]


def _complete_task(stub) -> None:
    metadata = as_officer(officer(GOLDEN, GOLDEN_WORK.task_officer))
    task_id = GOLDEN_WORK.ids["task"][0]
    stub.AcceptTask(cc.AcceptTaskRequest(id=task_id), metadata=metadata)
    stub.CompleteTask(cc.CompleteTaskRequest(id=task_id, note="已完成整治并上报"), metadata=metadata)


def _lead(stub) -> None:
    lead = stub.OpenLead(me.OpenLeadRequest(request_id="golden-lead", lead=me.Case(
        office_id=GOLDEN, party=me.Party(name="金银商户2", uscc=uscc(2), address="金桥镇2号"),
        source=me.LEAD_SOURCE_REFERRAL, source_ref="移送函〔2026〕18号", description="销售过期食品")),
        metadata=LEADER)
    GOLDEN_WORK.ids["case"] = [lead.id]


def _case_team() -> tuple[tuple[str, str], ...]:
    return as_officer(officer(GOLDEN, GOLDEN_WORK.case_team[0]))


def _file(stub) -> None:
    stub.FileCase(me.FileCaseRequest(id=GOLDEN_WORK.ids["case"][0],
                                     officer_ids=[officer(GOLDEN, seat) for seat in GOLDEN_WORK.case_team]),
                  metadata=_case_team())


def _warning() -> me.Penalty:
    return me.Penalty(party_kind=me.PARTY_KIND_ORGANISATION, sanctions=[me.Sanction(kind=me.PENALTY_KIND_WARNING)])


def _notify(stub) -> None:
    """The investigation concluded (a warning needs no legal review or collective discussion) and
    the advance notice given."""
    case_id = GOLDEN_WORK.ids["case"][0]
    stub.ConcludeInvestigation(me.ConcludeInvestigationRequest(
        id=case_id, facts="当事人销售超过保质期的食品3件，有现场检查笔录为证。",
        legal_basis="《中华人民共和国食品安全法》第三十四条第（十）项", proposed_penalty=_warning()),
        metadata=_case_team())
    stub.IssueAdvanceNotice(me.IssueAdvanceNoticeRequest(id=case_id), metadata=_case_team())


def _statement(stub) -> None:
    stub.RecordStatement(me.RecordStatementRequest(id=GOLDEN_WORK.ids["case"][0],
                                                   statement="当事人称系进货查验疏忽，已下架并销毁", waived=False),
                         metadata=_case_team())


def _decide(stub) -> None:
    stub.DecideCase(me.DecideCaseRequest(id=GOLDEN_WORK.ids["case"][0], penalty=_warning(), note="责令改正并予以警告"),
                    metadata=_case_team())


def _deliver(stub) -> None:
    stub.RecordDelivery(me.RecordDeliveryRequest(id=GOLDEN_WORK.ids["case"][0], method=me.DELIVERY_METHOD_DIRECT),
                        metadata=_case_team())


def _execute(stub) -> None:
    stub.RecordExecution(me.RecordExecutionRequest(id=GOLDEN_WORK.ids["case"][0], note="警告已宣告"),
                         metadata=_case_team())


def _publish_decision(stub) -> None:
    stub.PublishDecision(me.PublishDecisionRequest(id=GOLDEN_WORK.ids["case"][0]), metadata=_case_team())


def _close(stub) -> None:
    stub.CloseCase(me.CloseCaseRequest(id=GOLDEN_WORK.ids["case"][0], note="结案"), metadata=_case_team())


def _timestamp(instant: dt.datetime):
    from google.protobuf.timestamp_pb2 import Timestamp

    stamp = Timestamp()
    stamp.FromDatetime(instant.astimezone(dt.UTC))
    return stamp


# ---------------------------------------------------------------------------- the figures, by hand

def _rules(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def scheme() -> dict:
    return _rules("services/assessment/schemes/scheme_v1.yaml")


def expected_indicators() -> dict[str, tuple[float, float]]:
    """GQ1's indicators at the end of the work, as (numerator, denominator); (0, 0) is no data."""
    drills_target = _rules("services/emergency/rules/2020-01-01.yaml")["drills"]["per_office_per_year"]
    rapid_target = _rules("services/facilities/rules/rapid_tests.yaml")["versions"][-1]["weekly_target"]
    rooms = len(_rules("services/facilities/rules/rooms.yaml")["versions"][-1]["rooms"])  # 一厅六室三库: 10
    return {
        # No duty list was imported: nothing to cover yet.
        "command_center.duty_coverage": (0, 0),
        # All four groups have certified officers.
        "command_center.group_staffing": (4, 4),
        # The bureau's task was completed after it had been swept overdue; and the complaint accepted
        # late had passed its acceptance limit on the morning of 08-13, so command_center raised a
        # supervision task (督办) for it, never completed and long past due by the end of the work.
        "command_center.task_on_time": (0, 2),
        "command_center.certificates_valid": (8, 8),
        # Rooms exist from the office's registration; none was checked compliant, no 四统一 check.
        "facilities.rooms_compliant": (0, rooms),
        "facilities.four_unified": (0, 4),
        "facilities.equipment_in_calibration": (0, 0),
        "facilities.rapid_tests_per_week": (0, rapid_target),
        # One complaint accepted in time, one late; both mediations ended within their limit.
        "complaints.acceptance_on_time": (1, 2),
        "complaints.mediation_on_time": (2, 2),
        "complaints.satisfaction": (0, 0),
        # No 双随机 plan; three inspections completed with every checklist item recorded.
        "mobile_enforcement.spot_check_completion": (0, 0),
        "mobile_enforcement.inspection_checklist_complete": (3, 3),
        "mobile_enforcement.case_filing_on_time": (1, 1),
        "mobile_enforcement.case_closing_on_time": (1, 1),
        # Three inspection results and one decision, all published in time.
        "mobile_enforcement.publication_on_time": (4, 4),
        "emergency.report_within_limit": (0, 0),
        "emergency.onsite_within_target": (0, 0),
        "emergency.drills_per_year": (0, drills_target),
        "assessment.improvement_plans_closed": (0, 0),
        # Nobody graded for the last ended quarter (2026-Q2) yet.
        "assessment.staff_assessed": (0, 8),
    }


def expected_index(values: dict[str, tuple[float, float]]) -> float:
    """docs/domain.md's scoring: at or above target full marks, at least half of it pro rata, below that
    nothing; an indicator without data is left out and its dimension's other weights count in
    full; the index is the dimensions' weighted mean over those with data."""
    plan = scheme()
    total = weight_with_data = 0.0
    for dimension in plan["dimensions"]:
        points = possible = 0.0
        for rule in (r for r in plan["indicators"] if r["dimension"] == dimension["key"]):
            numerator, denominator = values[rule["key"]]
            if denominator == 0:
                continue
            ratio = numerator / denominator
            share = 1.0 if ratio >= rule["target"] else ratio / rule["target"]
            points += rule["weight"] * (share if share >= 0.5 else 0.0)
            possible += rule["weight"]
        if possible:
            total += dimension["weight"] * points / possible
            weight_with_data += dimension["weight"]
    return 100 * total / weight_with_data


def expected_workload() -> dict[str, dict[str, float]]:
    """The quarter's workload inputs: entities in each office's directory, and the work done."""
    return {GOLDEN: {"entities": 4, "inspections": 3, "complaints": 2, "cases": 1},
            OTHER: {"entities": 2, "inspections": 2, "complaints": 1, "cases": 0}}


def expected_coefficients() -> dict[str, float]:
    """1 + sensitivity x (office workload / district mean - 1), within [minimum, maximum]."""
    formula = scheme()["workload"]
    loads = {office: sum(formula["weights"][name] * amount for name, amount in inputs.items())
             for office, inputs in expected_workload().items()}
    mean = sum(loads.values()) / len(loads)
    return {office: min(formula["maximum"], max(formula["minimum"], 1 + formula["sensitivity"] * (load / mean - 1)))
            for office, load in loads.items()}


def expected_officers() -> dict[str, tuple[int, int, float]]:
    """GQ1's officers in 2026-Q3: (evidence count, late count, points) under the grading rules."""
    points = _rules("services/assessment/rules/staff_grading.yaml")["versions"][-1]["points"]
    work: dict[str, list[tuple[str, bool]]] = {officer(GOLDEN, seat): [] for seat in range(1, 9)}
    for item in GOLDEN_WORK.inspections:
        late = item.completed > item.due
        for seat in item.team:
            work[officer(GOLDEN, seat)].append(("INSPECTION", late))
    for _, accepted in GOLDEN_WORK.complaints:
        work[officer(GOLDEN, GOLDEN_WORK.complaint_handler)].append(("COMPLAINT", accepted > "2026-08-12"))
    for seat in GOLDEN_WORK.case_team:
        work[officer(GOLDEN, seat)].append(("CASE", False))
    work[officer(GOLDEN, GOLDEN_WORK.task_officer)].append(("TASK", True))
    return {officer_id: (len(items), sum(late for _, late in items),
                         sum(points[kind]["late" if late else "on_time"] for kind, late in items))
            for officer_id, items in work.items()}


# ---------------------------------------------------------------------------- what both run modes check

def indices(center: Center) -> tuple[float, float]:
    """(the assessment's live score, the gateway's office index) of GQ1 now."""
    live = pb_grpc.ScoreServiceStub(center.channel("assessment")).GetLiveScore(
        pb.GetLiveScoreRequest(office_id=GOLDEN), metadata=LEADER)
    shown = gateway_pb2_grpc.MonitoringServiceStub(center.channel("gateway")).GetOfficeIndex(
        gateway_pb2.GetOfficeIndexRequest(office_id=GOLDEN), metadata=LEADER)
    return live.index, shown.index


def close_the_quarter(center: Center) -> tuple[dict[str, pb.OfficeScore], dict[str, tuple[int, int, float]]]:
    """After the quarter: closes it, proposes GQ1's grades; (each office's period score, each GQ1
    officer's (evidence count, late count, points))."""
    center.set_time(at(AFTER_QUARTER))
    scores = pb_grpc.ScoreServiceStub(center.channel("assessment"))
    scores.ClosePeriod(pb.ClosePeriodRequest(request_id="golden-close", period=QUARTER), metadata=LEADER)
    period = {office_id: scores.GetPeriodScore(pb.GetPeriodScoreRequest(period=QUARTER, office_id=office_id),
                                               metadata=LEADER) for office_id in (GOLDEN, OTHER)}
    proposals = pb_grpc.StaffAssessmentServiceStub(center.channel("assessment")).ProposeGrades(
        pb.ProposeGradesRequest(request_id="golden-grades", office_id=GOLDEN, quarter=QUARTER), metadata=LEADER)
    return period, {a.officer_id: (a.evidence_count, a.late_count, a.points) for a in proposals.assessments}
