"""What each published event carries: the messages of supervision.complaints.v1.events.

Never the complainant's name, phone or ID number: free text that travels (a report's description,
for the case lead) has them redacted first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from google.protobuf.message import Message

from services.common.context import SYSTEM
from services.common.contracts import date_of, timestamp_of
from services.complaints.domain.deadlines import LATE, OVERDUE, latest
from services.complaints.domain.personal_data import PersonalData, redact
from services.complaints.domain.rules import ACCEPTANCE, FILING_DECISION, MEDIATION, RuleBook
from services.complaints.domain.workflow import Item
from services.complaints.models import Complaint, ComplaintDeadline
from supervision.common.v1.events_pb2 import StatutoryClock
from supervision.complaints.v1 import events_pb2 as pb
from supervision.complaints.v1.complaints_pb2 import Respondent

# The statutory clocks an item's handling is judged by (the mediation notice is told after the
# handling ended, so it is no clock of the handling).
STATUTORY_CLOCKS = (ACCEPTANCE, MEDIATION, FILING_DECISION)

# A builder: (the item after the step, the office it was in before, who acted, the domain's today,
# the rule sets, which say whether a clock's rule set is confirmed).
Builder = Callable[[Item, str, str, dt.date, RuleBook], Message]


def provisional_rule(rules: RuleBook, deadline: ComplaintDeadline | None) -> bool:
    """Whether the clock's due date comes from a rule set marked unconfirmed."""
    return deadline is not None and not rules.get(deadline.rule_set).confirmed


def _respondent(complaint: Complaint) -> Respondent:
    return Respondent(name=complaint.respondent_name, uscc=complaint.respondent_uscc,
                      address=complaint.respondent_address, street=complaint.respondent_street)


def _met(deadline: ComplaintDeadline) -> bool:
    return deadline.status not in (OVERDUE, LATE)


def received(item: Item, _from_office: str, _actor: str, _today: dt.date, rules: RuleBook) -> pb.ComplaintReceived:
    """ComplaintReceived: the new item, where it was routed and the first clock's due day."""
    complaint = item.complaint
    acceptance, filing = latest(item.deadlines, ACCEPTANCE), latest(item.deadlines, FILING_DECISION)
    first = acceptance or filing
    return pb.ComplaintReceived(
        complaint_id=complaint.id, version=complaint.version, office_id=complaint.office_id, kind=complaint.kind,
        state=complaint.state, channel=complaint.channel, category=complaint.category,
        received_at=timestamp_of(complaint.received_at), anonymous=complaint.anonymous,
        respondent=_respondent(complaint), possible_duplicate_of=complaint.possible_duplicate_of,
        acceptance_due=date_of(acceptance.due_date) if acceptance else None,
        acceptance_due_provisional=bool(acceptance and acceptance.provisional),
        filing_decision_due=date_of(filing.due_date) if filing else None,
        filing_decision_due_provisional=bool(filing and filing.provisional),
        rule_set=first.rule_set if first else "", provisional_rule=provisional_rule(rules, first),
        category_code=complaint.category_code, handler_id=complaint.handler_id)


def accepted(item: Item, _from_office: str, _actor: str, _today: dt.date, rules: RuleBook) -> pb.ComplaintAccepted:
    """ComplaintAccepted: mediation started, and when it is due."""
    complaint = item.complaint
    mediation = latest(item.deadlines, MEDIATION)
    return pb.ComplaintAccepted(
        complaint_id=complaint.id, version=complaint.version, office_id=complaint.office_id, kind=complaint.kind,
        state=complaint.state, mediation_due=date_of(mediation.due_date) if mediation else None,
        mediation_due_provisional=bool(mediation and mediation.provisional),
        rule_set=mediation.rule_set if mediation else "", provisional_rule=provisional_rule(rules, mediation),
        handler_id=complaint.handler_id)


def refused(item: Item, _from_office: str, _actor: str, _today: dt.date, _rules: RuleBook) -> pb.ComplaintRefused:
    """ComplaintRefused, with the statutory ground."""
    complaint = item.complaint
    return pb.ComplaintRefused(complaint_id=complaint.id, version=complaint.version, office_id=complaint.office_id,
                               kind=complaint.kind, state=complaint.state, ground=complaint.refusal_ground)


def clocks_of(item: Item, rules: RuleBook) -> list[StatutoryClock]:
    """Each statutory clock the item ran, as it stood: the latest deadline of each kind, and whether
    its rule set is unconfirmed."""
    clocks = []
    for kind in STATUTORY_CLOCKS:
        deadline = latest(item.deadlines, kind)
        if deadline is not None:
            clocks.append(StatutoryClock(clock=kind, due_date=date_of(deadline.due_date), met=_met(deadline),
                                         provisional=deadline.provisional,
                                         provisional_rule=provisional_rule(rules, deadline)))
    return clocks


def resolved(item: Item, _from_office: str, actor: str, today: dt.date, rules: RuleBook) -> pb.ComplaintResolved:
    """Handling ended: the outcome is the final state (RESOLVED, MEDIATION_FAILED, TERMINATED,
    CASE_FILED, NOT_FILED, ANSWERED); who ended it, credited unless the system did, the day, and
    each statutory clock met or not (evidence for the officers' routine assessment)."""
    complaint = item.complaint
    return pb.ComplaintResolved(
        complaint_id=complaint.id, version=complaint.version, office_id=complaint.office_id, kind=complaint.kind,
        state=complaint.state, outcome=complaint.state, handled_by=actor,
        on_time=all(_met(d) for d in item.deadlines),
        officer_ids=[actor] if actor and actor != SYSTEM else [], resolved_on=date_of(today),
        clocks=clocks_of(item, rules), handler_id=complaint.handler_id)


def rerouted(item: Item, from_office: str, _actor: str, _today: dt.date, _rules: RuleBook) -> pb.ComplaintRerouted:
    """ComplaintRerouted: the office the item now belongs to and the one it came from."""
    complaint = item.complaint
    return pb.ComplaintRerouted(complaint_id=complaint.id, version=complaint.version, office_id=complaint.office_id,
                                kind=complaint.kind, state=complaint.state, from_office_id=from_office,
                                handler_id=complaint.handler_id)


def case_lead(item: Item, _from_office: str, _actor: str, _today: dt.date, _rules: RuleBook) -> pb.CaseLeadRaised:
    """CaseLeadRaised, for mobile_enforcement: the report as a lead for a penalty case."""
    complaint = item.complaint
    personal = PersonalData(complaint.complainant_name, complaint.complainant_phone, complaint.complainant_id_number)
    return pb.CaseLeadRaised(complaint_id=complaint.id, version=complaint.version, office_id=complaint.office_id,
                             respondent=_respondent(complaint), category=complaint.category,
                             description=redact(complaint.description, personal),
                             received_at=timestamp_of(complaint.received_at))


def overdue(complaint: Complaint, deadline: ComplaintDeadline, rules: RuleBook) -> pb.ComplaintOverdue:
    """ComplaintOverdue; command_center raises a supervision task per complaint_id from it."""
    return pb.ComplaintOverdue(complaint_id=complaint.id, version=complaint.version, office_id=complaint.office_id,
                               kind=complaint.kind, deadline=deadline.kind, due_date=date_of(deadline.due_date),
                               provisional_rule=provisional_rule(rules, deadline), handler_id=complaint.handler_id)


BUILDERS: dict[str, Builder] = {
    "ComplaintReceived": received,
    "ComplaintAccepted": accepted,
    "ComplaintRefused": refused,
    "ComplaintResolved": resolved,
    "ComplaintRerouted": rerouted,
    "CaseLeadRaised": case_lead,
}
