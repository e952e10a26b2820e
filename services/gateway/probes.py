"""Alert probes: each asks one service, through its public gRPC contract, for the records that need
attention now. The gateway runs them after it seeded, at every reconcile, and soon after an event
that may have opened or closed an alert (a complaint overdue, an incident reported or closed, ...).
A probe of a service that is down raises; the alerts it found before stay until it answers again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from services.gateway.domain import alerts
from services.gateway.domain.alerts import CRITICAL, WARNING, Alert, AlertRules
from services.gateway.upstream import Upstream

MAX_PAGES = 20
PAGE_SIZE = 1000
LEVEL_NAMES = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
DEADLINE_NAMES = {"ACCEPTANCE": "受理", "MEDIATION": "调解", "MEDIATION_NOTICE": "调解终结告知",
                  "FILING_DECISION": "立案决定"}
KIND_NAMES = {"COMPLAINT": "投诉", "REPORT": "举报", "INQUIRY": "咨询"}

Probe = Callable[[Upstream, AlertRules, dt.date], list[Alert]]


def _pages(upstream: Upstream, source: str, stub_class, method: str, request_class, filter_text: str,
           items: str) -> Iterator:
    token = ""
    for _ in range(MAX_PAGES):
        page = upstream.call(source, stub_class, method,
                             request_class(page_size=PAGE_SIZE, page_token=token, filter=filter_text))
        yield from getattr(page, items)
        token = page.next_page_token
        if not token:
            return


def _date(value) -> dt.date | None:
    return dt.date(value.year, value.month, value.day) if value.year else None


def complaints_overdue(upstream: Upstream, rules: AlertRules, today: dt.date) -> list[Alert]:
    from supervision.complaints.v1 import complaints_pb2 as pb
    from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc

    found = []
    for item in _pages(upstream, "complaints", pb_grpc.ComplaintServiceStub, "ListComplaints",
                       pb.ListComplaintsRequest, "overdue = true", "complaints"):
        overdue = [d for d in item.deadlines if d.status == pb.DEADLINE_STATUS_OVERDUE]
        deadline = overdue[0] if overdue else None
        kind = KIND_NAMES.get(pb.ComplaintKind.Name(item.kind).removeprefix("COMPLAINT_KIND_"), "投诉举报")
        what = DEADLINE_NAMES.get(pb.DeadlineKind.Name(deadline.kind).removeprefix("DEADLINE_KIND_"), "办理") \
            if deadline else "办理"
        due = _date(deadline.due_date) if deadline else None
        found.append(Alert(alerts.COMPLAINT_OVERDUE, item.id, item.office_id, CRITICAL,
                           f"{kind} {item.id} 超过{what}期限" + (f"（{due.isoformat()}）" if due else ""), due))
    return found


# A case's limits, each open in the states where it can still be met (a flag stays set once the step
# is done late, so a flag outside these states is history, not an alert): (flag, due field, what is
# late, states). The decision's clock runs from filing to the decision and stands still in HEARING.
CASE_LIMITS = (
    ("filing_overdue", "filing_decision_due", "立案决定", ("LEAD",)),
    ("closing_overdue", "closing_due", "处罚决定",
     ("FILED", "INVESTIGATED", "LEGAL_REVIEW", "NOTIFIED", "HEARING")),
    ("legal_review_overdue", "legal_review_due", "法制审核", ("LEGAL_REVIEW",)),
    ("delivery_overdue", "delivery_due", "处罚决定送达", ("DECIDED",)),
    ("payment_overdue", "payment_due", "罚款缴纳", ("DELIVERED",)),
    ("publication_overdue", "publication_due", "处罚信息公示", ("DECIDED", "DELIVERED", "EXECUTED")),
)
CASE_STATES = tuple(dict.fromkeys(state for *_, states in CASE_LIMITS for state in states))


def cases_overdue(upstream: Upstream, rules: AlertRules, today: dt.date) -> list[Alert]:
    from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
    from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc

    found = []
    for state in CASE_STATES:
        for case in _pages(upstream, "mobile_enforcement", pb_grpc.CaseServiceStub, "ListCases",
                           pb.ListCasesRequest, f"state = {state}", "cases"):
            late = [(what, getattr(case, due)) for flag, due, what, states in CASE_LIMITS
                    if state in states and getattr(case, flag)]
            if not late:
                continue
            # One alert per case: its first limit run out, in the procedure's order.
            what, due = late[0]
            received = case.received_time.ToDatetime(dt.UTC) if case.HasField("received_time") else None
            reference = alerts.case_reference(case.party.name, bool(case.entity_id), received)
            found.append(Alert(alerts.CASE_OVERDUE, case.id, case.office_id, CRITICAL,
                               f"案件（{reference}）超过{what}期限", _date(due)))
    return found


def serious_incidents(upstream: Upstream, rules: AlertRules, today: dt.date) -> list[Alert]:
    from supervision.emergency.v1 import emergency_pb2 as pb
    from supervision.emergency.v1 import emergency_pb2_grpc as pb_grpc

    found = []
    for level in rules.incident_levels:
        for incident in _pages(upstream, "emergency", pb_grpc.IncidentServiceStub, "ListIncidents",
                               pb.ListIncidentsRequest, f"level = LEVEL_{level}", "incidents"):
            if incident.state == pb.INCIDENT_STATE_CLOSED:
                continue
            found.append(Alert(alerts.INCIDENT_OPEN, incident.id, incident.office_id,
                               CRITICAL if level in ("I", "II") else WARNING,
                               f"{LEVEL_NAMES[level]}（{level}级）突发事件处置中：{incident.title[:40]}"))
    return found


def certificates_expiring(upstream: Upstream, rules: AlertRules, today: dt.date) -> list[Alert]:
    from supervision.command_center.v1 import command_center_pb2 as pb
    from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc

    horizon = today + dt.timedelta(days=rules.certificate_notice_days)
    found = []
    for officer in _pages(upstream, "command_center", pb_grpc.OfficerServiceStub, "ListOfficers",
                          pb.ListOfficersRequest, "certificate_valid = true", "officers"):
        expires = _date(officer.certificate_expires)
        if expires is not None and expires <= horizon:
            # The officer by id only: names stay in command_center.
            found.append(Alert(alerts.CERTIFICATE_EXPIRING, officer.id, officer.office_id, WARNING,
                               f"执法人员 {officer.id} 的执法证将于 {expires.isoformat()} 到期", expires))
    return found


def calibrations_due(upstream: Upstream, rules: AlertRules, today: dt.date) -> list[Alert]:
    from supervision.facilities.v1 import facilities_pb2 as pb
    from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc

    horizon = today + dt.timedelta(days=rules.calibration_notice_days)
    found = []
    for status in ("EQUIPMENT_STATUS_IN_SERVICE", "EQUIPMENT_STATUS_UNDER_REPAIR"):
        for equipment in _pages(upstream, "facilities", pb_grpc.EquipmentServiceStub, "ListEquipment",
                                pb.ListEquipmentRequest, f"status = {status}", "equipment"):
            due = _date(equipment.calibration_due)
            if not equipment.needs_calibration or due is None or due > horizon:
                continue
            late = due < today
            what = equipment.category_name or equipment.category
            title = f"{what} 检定已于 {due.isoformat()} 过期" if late else f"{what} 检定将于 {due.isoformat()} 到期"
            found.append(Alert(alerts.CALIBRATION_DUE, equipment.id, equipment.office_id, CRITICAL if late else WARNING,
                               title, due))
    return found


# Per source, what its records can raise.
PROBES: dict[str, Probe] = {
    "complaints": complaints_overdue,
    "mobile_enforcement": cases_overdue,
    "emergency": serious_incidents,
    "command_center": certificates_expiring,
    "facilities": calibrations_due,
}
