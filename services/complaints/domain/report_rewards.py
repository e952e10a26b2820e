"""The reward of a report (举报奖励), computed when the penalty case it led to closes with a fine or a
confiscation: mobile_enforcement's CaseClosed names the report as its source."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.common.clock import shanghai_date
from services.common.context import SYSTEM_CALLER
from services.common.errors import InvalidArgument
from services.complaints.domain import history, intake, rewards
from services.complaints.domain.deadlines import deadlines_of
from services.complaints.domain.states import CASE_FILED, REPORT
from services.complaints.domain.workflow import Item, Step
from services.complaints.domain.workspace import Workspace
from services.complaints.models import Complaint, ReportReward
from supervision.mobile_enforcement.v1.events_pb2 import CaseClosed

log = logging.getLogger(__name__)
# How mobile_enforcement names a case lead that came from a report.
REPORT_SOURCE = "REPORT"
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


@dataclass(frozen=True)
class CaseClosure:
    """What a closed case says about the report it came from: its fines and confiscated gains."""

    case_id: str
    complaint_id: str
    base_fen: int


def read_closure(message: CaseClosed) -> CaseClosure | None:
    """The closure of a case that came from a report, None for a case from elsewhere; a malformed
    amount is refused (the event is parked, never half applied)."""
    if message.source != REPORT_SOURCE or not message.source_ref:
        return None
    total = 0
    for field, value in (("fine_yuan", message.fine_yuan), ("confiscated_gains_yuan", message.confiscated_gains_yuan)):
        if value:
            if not _AMOUNT.match(value):
                raise InvalidArgument.of(field, "a decimal number of yuan with at most two places")
            total += intake.fen(value)
    return CaseClosure(message.case_id, message.source_ref, total)


class ReportRewards:
    """Computes the reward of a report once its case closed; called by handlers in their transaction."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def case_closed(self, session: Session, closure: CaseClosure) -> ReportReward | None:
        """Records the reward when the report has a level and the case a fine or confiscation."""
        complaint = session.get(Complaint, closure.complaint_id)
        if complaint is None or complaint.kind != REPORT or complaint.state != CASE_FILED:
            log.warning("closed case names no filed report here", extra={"case_id": closure.case_id,
                                                                        "complaint_id": closure.complaint_id})
            return None
        if session.get(ReportReward, complaint.id) is not None:
            return None
        if not complaint.reward_level or closure.base_fen <= 0:
            # No reward level (not a serious violation), or no fine or confiscated gains to share.
            return None
        rules = self.workspace.rewards.on(shanghai_date(complaint.received_at))
        reward = rewards.compute(rules, complaint.reward_level, closure.base_fen)
        row = ReportReward(complaint_id=complaint.id, case_id=closure.case_id, rule_set=reward.rule_set,
                           level=reward.level, base_fen=reward.base_fen, rate_basis_points=reward.basis_points,
                           amount_fen=reward.amount_fen, explanation=reward.explanation,
                           computed_on=self.workspace.today())
        session.add(row)
        item = Item(complaint, deadlines_of(session, [complaint.id])[complaint.id])
        history.record(self.workspace, session, item, Step("reward computed", reward.explanation),
                       SYSTEM_CALLER.subject, complaint.state, complaint.office_id)
        return row
