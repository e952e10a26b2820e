"""What each published event carries. Never the complainant's name, phone or ID number: free
text that travels (a report's description, for the case lead) has them redacted first."""

from __future__ import annotations

from typing import Any

from services.complaints.domain.deadlines import LATE, OVERDUE, latest
from services.complaints.domain.personal_data import PersonalData, redact
from services.complaints.domain.rules import ACCEPTANCE, FILING_DECISION, MEDIATION
from services.complaints.domain.workflow import Item
from services.complaints.models import Complaint, ComplaintDeadline


def _base(complaint: Complaint) -> dict[str, Any]:
    return {"complaint_id": complaint.id, "office_id": complaint.office_id, "kind": complaint.kind,
            "state": complaint.state}


def _due(item: Item, clock: str) -> dict[str, Any]:
    deadline = latest(item.deadlines, clock)
    if deadline is None:
        return {}
    return {f"{clock}_due": deadline.due_date.isoformat(), f"{clock}_due_provisional": deadline.provisional,
            "rule_set": deadline.rule_set}


def _respondent(complaint: Complaint) -> dict[str, str]:
    return {"name": complaint.respondent_name, "uscc": complaint.respondent_uscc,
            "address": complaint.respondent_address, "street": complaint.respondent_street}


def received(item: Item, _from_office: str, _actor: str) -> dict[str, Any]:
    complaint = item.complaint
    return {**_base(complaint), "channel": complaint.channel, "category": complaint.category,
            "received_at": complaint.received_at.isoformat(), "anonymous": complaint.anonymous,
            "respondent": _respondent(complaint), "possible_duplicate_of": complaint.possible_duplicate_of,
            **_due(item, ACCEPTANCE), **_due(item, FILING_DECISION)}


def accepted(item: Item, _from_office: str, _actor: str) -> dict[str, Any]:
    return {**_base(item.complaint), **_due(item, MEDIATION)}


def refused(item: Item, _from_office: str, _actor: str) -> dict[str, Any]:
    return {**_base(item.complaint), "ground": item.complaint.refusal_ground}


def resolved(item: Item, _from_office: str, actor: str) -> dict[str, Any]:
    """Handling ended: the outcome is the final state (RESOLVED, MEDIATION_FAILED, TERMINATED,
    CASE_FILED, NOT_FILED, ANSWERED); who ended it and whether every statutory clock was met in
    time (evidence for the officers' routine assessment)."""
    return {**_base(item.complaint), "outcome": item.complaint.state, "handled_by": actor,
            "on_time": not any(d.status in (OVERDUE, LATE) for d in item.deadlines)}


def rerouted(item: Item, from_office: str, _actor: str) -> dict[str, Any]:
    return {**_base(item.complaint), "from_office_id": from_office}


def case_lead(item: Item, _from_office: str, _actor: str) -> dict[str, Any]:
    """CaseLeadRaised, for mobile_enforcement: the report as a lead for a penalty case."""
    complaint = item.complaint
    personal = PersonalData(complaint.complainant_name, complaint.complainant_phone, complaint.complainant_id_number)
    return {"complaint_id": complaint.id, "office_id": complaint.office_id, "respondent": _respondent(complaint),
            "category": complaint.category, "description": redact(complaint.description, personal),
            "received_at": complaint.received_at.isoformat()}


def overdue(complaint: Complaint, deadline: ComplaintDeadline) -> dict[str, Any]:
    """ComplaintOverdue; command_center raises a supervision task per complaint_id from it."""
    return {"complaint_id": complaint.id, "office_id": complaint.office_id, "kind": complaint.kind,
            "deadline": deadline.kind, "due_date": deadline.due_date.isoformat()}


BUILDERS = {
    "ComplaintReceived": received,
    "ComplaintAccepted": accepted,
    "ComplaintRefused": refused,
    "ComplaintResolved": resolved,
    "ComplaintRerouted": rerouted,
    "CaseLeadRaised": case_lead,
}
