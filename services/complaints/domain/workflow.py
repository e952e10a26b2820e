"""The handling of an item once received: each step checks its input, then the state it needs,
then changes the item and its clocks. Input errors come before state errors, so a bad request is
INVALID_ARGUMENT whatever the item's state.

A step returns what the use case records: the history action, the note, and the events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.common.errors import FailedPrecondition, InvalidArgument, Violations
from services.complaints.domain.deadlines import OPEN, Clocks, latest, meet, running
from services.complaints.domain.rewards import check_level
from services.complaints.domain.routing import DISTRICT_QUEUE
from services.complaints.domain.rules import ACCEPTANCE, FILING_DECISION, MEDIATION, MEDIATION_NOTICE, REPORTER_NOTICE
from services.complaints.domain.states import (
    ACCEPTED,
    ANSWERED,
    CASE_FILED,
    CLOSED_STATES,
    COMPLAINT,
    FEEDBACK_RATINGS,
    INQUIRY,
    MEDIATION_OUTCOMES,
    NOT_FILED,
    OPEN_STATES,
    RECEIVED,
    REFUSED,
    REPORT,
    VERIFIED,
)
from services.complaints.models import Complaint, ComplaintDeadline

MAX_NOTE = 2000
MAX_NAME = 100


@dataclass
class Step:
    """What a handling step leaves to record: the history action, its note, and the events to publish."""

    action: str
    note: str = ""
    events: list[str] = field(default_factory=list)


@dataclass
class Item:
    """An item with its clocks, as a step sees it."""

    complaint: Complaint
    deadlines: list[ComplaintDeadline]

    def start(self, session: Session, clocks: Clocks, clock: str, today: dt.date) -> ComplaintDeadline:
        """Starts a statutory clock today, under the rule set in force today."""
        deadline = clocks.start(session, self.complaint, clock, today, "id")
        self.deadlines.append(deadline)
        return deadline

    def meet(self, clock: str, today: dt.date) -> None:
        """The running clock of this kind is met today (late if past due)."""
        deadline = running(self.deadlines, clock)
        if deadline is None:
            # The state checks before this guarantee the clock; a store changed by hand may not.
            raise FailedPrecondition(f"{self.complaint.id} has no {clock} clock running")
        meet(deadline, today)


def text(value: str, field_name: str, *, required: bool, limit: int = MAX_NOTE) -> str:
    """A free-text input without surrounding spaces, refused when required and empty or too long."""
    value = value.strip()
    violations = Violations()
    if required and not value:
        violations.add(field_name, "must not be empty")
    if len(value) > limit:
        violations.add(field_name, f"at most {limit} characters")
    violations.raise_if_any(f"invalid {field_name}")
    return value


def _require(complaint: Complaint, kind: str, states: tuple[str, ...], doing: str) -> None:
    if complaint.kind != kind:
        raise FailedPrecondition(f"{complaint.id} is a {complaint.kind}; only a {kind} can be {doing}")
    if complaint.state not in states:
        raise FailedPrecondition(f"{complaint.id} is {complaint.state}; it can be {doing} when "
                                 f"{' or '.join(states)}")
    if complaint.office_id == DISTRICT_QUEUE and kind != INQUIRY:
        # The bureau's 12315 desk answers questions itself; complaints and reports need an office.
        raise FailedPrecondition(f"{complaint.id} waits in the district queue; route it to an office first")


def accept(session: Session, item: Item, note: str, clocks: Clocks, today: dt.date) -> Step:
    """受理: a received complaint is accepted; its acceptance clock is met and mediation's starts."""
    note = text(note, "note", required=False)
    _require(item.complaint, COMPLAINT, (RECEIVED,), "accepted")
    item.meet(ACCEPTANCE, today)
    item.start(session, clocks, MEDIATION, today)
    item.complaint.state = ACCEPTED
    return Step("accepted", note, ["ComplaintAccepted"])


def refuse(item: Item, ground: str | None, note: str, clocks: Clocks, today: dt.date) -> Step:
    """不予受理: a received complaint is refused on a ground its rule set allows."""
    if ground is None:
        raise InvalidArgument.of("ground", "required: the refusal ground (不予受理的理由)")
    note = text(note, "note", required=False)
    _require(item.complaint, COMPLAINT, (RECEIVED,), "refused")
    # The grounds of the rule set the acceptance clock started under, like its limit.
    acceptance = latest(item.deadlines, ACCEPTANCE)
    if acceptance is None:
        # Every complaint starts its acceptance clock at intake; a store changed by hand may lack it.
        raise FailedPrecondition(f"{item.complaint.id} has no acceptance clock")
    rule_set = clocks.rules.get(acceptance.rule_set)
    if ground not in rule_set.refusal_grounds:
        raise InvalidArgument.of("ground", f"{ground} is not a refusal ground under {rule_set.title}")
    item.meet(ACCEPTANCE, today)
    item.complaint.state = REFUSED
    item.complaint.refusal_ground = ground
    return Step("refused", note, ["ComplaintRefused"])


def record_mediation_outcome(session: Session, item: Item, outcome: str | None, note: str, clocks: Clocks,
                             today: dt.date) -> Step:
    """调解结果: mediation of an accepted complaint ended; without agreement the notice clock starts."""
    if outcome not in MEDIATION_OUTCOMES:
        raise InvalidArgument.of("outcome", f"required: one of {', '.join(MEDIATION_OUTCOMES)}")
    note = text(note, "note", required=False)
    _require(item.complaint, COMPLAINT, (ACCEPTED,), "given a mediation outcome")
    item.meet(MEDIATION, today)
    item.complaint.state = MEDIATION_OUTCOMES[outcome]
    if outcome != "RESOLVED":
        # Ended without agreement: both parties must be told within the notice limit.
        item.start(session, clocks, MEDIATION_NOTICE, today)
    return Step(f"mediation {outcome.lower()}", note, ["ComplaintResolved"])


def record_notification(item: Item, note: str, now: dt.datetime, today: dt.date) -> Step:
    """告知: the parties of a mediation without agreement, or a named reporter, were told the outcome."""
    note = text(note, "note", required=True)
    complaint = item.complaint
    if complaint.kind == COMPLAINT:
        if running(item.deadlines, MEDIATION_NOTICE) is None:
            raise FailedPrecondition(f"{complaint.id} has no notice due: only an ended mediation without "
                                     "agreement is notified")
        item.meet(MEDIATION_NOTICE, today)
    elif complaint.kind == REPORT:
        if complaint.state not in (CASE_FILED, NOT_FILED):
            raise FailedPrecondition(f"{complaint.id} is {complaint.state}; the reporter is told the decision")
        if complaint.anonymous:
            raise FailedPrecondition(f"{complaint.id} is anonymous: there is nobody to tell")
        if complaint.notified_at is not None:
            raise FailedPrecondition(f"{complaint.id}: the reporter was told already")
        if running(item.deadlines, REPORTER_NOTICE) is not None:
            # Reports decided before the reporter-notice clock existed have none to meet.
            item.meet(REPORTER_NOTICE, today)
    else:
        raise FailedPrecondition(f"{complaint.id} is an inquiry; the answer is the notification")
    complaint.notified_at = now
    return Step("notified", note)


def verify_report(item: Item, note: str) -> Step:
    """核查: a received report's facts were checked."""
    note = text(note, "note", required=True)
    _require(item.complaint, REPORT, (RECEIVED,), "verified")
    item.complaint.state = VERIFIED
    return Step("verified", note)


def extend_filing_deadline(item: Item, approved_by: str, reason: str, clocks: Clocks, today: dt.date) -> Step:
    """延期: the filing decision's clock gets its one extension, approved by the head, before it falls due."""
    violations = Violations()
    for name, value, limit in (("approved_by", approved_by, MAX_NAME), ("reason", reason, MAX_NOTE)):
        if not value.strip():
            violations.add(name, "must not be empty: an extension needs the head's approval and a reason")
        elif len(value) > limit:
            violations.add(name, f"at most {limit} characters")
    violations.raise_if_any("invalid extension")
    _require(item.complaint, REPORT, (RECEIVED, VERIFIED), "given more time")
    deadline = running(item.deadlines, FILING_DECISION)
    if deadline is None:
        raise FailedPrecondition(f"{item.complaint.id} has no filing decision running")
    clocks.extend(deadline, today)
    return Step("filing deadline extended", f"approved by {approved_by.strip()}: {reason.strip()}")


def decide_report(session: Session, item: Item, file_case: bool, note: str, clocks: Clocks, today: dt.date,
                  reward_level: str = "", reward_basis: str = "") -> Step:
    """立案 or 不予立案: a verified report is filed as a case lead (with the reward level for a serious
    violation, and its basis), or closed with the reason in the note. A real-name reporter must be
    told the decision: the reporter-notice clock starts."""
    note = text(note, "note", required=not file_case)
    reward_level, reward_basis = check_level(reward_level, reward_basis)
    if reward_level and not file_case:
        raise InvalidArgument.of("reward_level", "a reward level is recorded when a case is filed")
    _require(item.complaint, REPORT, (VERIFIED,), "decided")
    item.meet(FILING_DECISION, today)
    item.complaint.state = CASE_FILED if file_case else NOT_FILED
    item.complaint.reward_level, item.complaint.reward_basis = reward_level, reward_basis
    if not item.complaint.anonymous:
        item.start(session, clocks, REPORTER_NOTICE, today)
    return Step("case filed" if file_case else "no case filed", note,
                ["ComplaintResolved", "CaseLeadRaised"] if file_case else ["ComplaintResolved"])


def answer_inquiry(item: Item, answer: str) -> Step:
    """咨询答复: a received inquiry is answered, which ends it."""
    answer = text(answer, "answer", required=True)
    _require(item.complaint, INQUIRY, (RECEIVED,), "answered")
    item.complaint.state = ANSWERED
    return Step("answered", answer, ["ComplaintResolved"])


def record_feedback(item: Item, rating: str | None, comment: str, now: dt.datetime) -> Step:
    """回访: the named complainant's satisfaction with an ended item, asked once."""
    if rating not in FEEDBACK_RATINGS:
        raise InvalidArgument.of("rating", f"required: one of {', '.join(FEEDBACK_RATINGS)}")
    comment = text(comment, "comment", required=False)
    complaint = item.complaint
    if complaint.state not in CLOSED_STATES:
        raise FailedPrecondition(f"{complaint.id} is {complaint.state}; feedback is asked once handling ended")
    if complaint.anonymous:
        raise FailedPrecondition(f"{complaint.id} is anonymous: there is nobody to ask")
    if complaint.feedback_rating is not None:
        raise FailedPrecondition(f"{complaint.id}: feedback was recorded already")
    complaint.feedback_rating, complaint.feedback_comment, complaint.feedback_at = rating, comment, now
    return Step("feedback", comment)


def reroute(item: Item, office_id: str, reason: str) -> Step:
    """The item and its running clocks move; clocks already met stay with the office that met them,
    and nothing restarts: the district bureau received the item when it received it."""
    reason = text(reason, "reason", required=True)
    complaint = item.complaint
    if office_id == complaint.office_id:
        raise InvalidArgument.of("office_id", f"{complaint.id} is with {office_id} already")
    if complaint.state not in OPEN_STATES:
        raise FailedPrecondition(f"{complaint.id} is {complaint.state}; only an open item is re-routed")
    move(item, office_id)
    return Step("rerouted", reason, ["ComplaintRerouted"])


def move(item: Item, office_id: str) -> None:
    """The item and its open clocks now belong to `office_id`."""
    item.complaint.office_id = office_id
    for deadline in item.deadlines:
        if deadline.status in OPEN:
            deadline.office_id = office_id
