"""Events command_center consumes, and the timer that sweeps task deadlines."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.command_center.domain.rules import SupervisionPolicy, load_policy
from services.command_center.domain.tasks import TaskInput, Tasks
from services.command_center.domain.workspace import Workspace
from services.common.consumer import Subscription, Timer
from services.common.contracts import day_of
from services.common.errors import InvalidArgument
from services.common.events import Event
from supervision.complaints.v1 import events_pb2 as complaints_pb2
from supervision.emergency.v1 import events_pb2 as emergency_pb2
from supervision.mobile_enforcement.v1 import events_pb2 as enforcement_pb2

# The task's source for an overdue case; its source_ref is "<case id>/<deadline>".
CASE_OVERDUE_SOURCE = "mobile_enforcement.overdue"
# The outcomes below level IV emergency's incident events name (field `outcome`): never supervised.
BELOW_LEVEL_IV_OUTCOMES = ("BELOW_LEVEL_IV", "NOT_AN_ACCIDENT")
# CaseOverdue.deadline -> the limit as the task's title names it; a limit added later is named "办理".
CASE_DEADLINES = {"filing": "立案决定", "decision": "处罚决定", "legal_review": "法制审核", "delivery": "处罚决定送达",
                  "payment": "罚款缴纳"}


class Handlers:
    def __init__(self, workspace: Workspace, tasks: Tasks, policy: SupervisionPolicy | None = None):
        self.workspace = workspace
        self.tasks = tasks
        self.policy = load_policy() if policy is None else policy

    def supervise_overdue_complaint(self, session: Session, event: Event[complaints_pb2.ComplaintOverdue]) -> None:
        """Raises one supervision task (督办) for the office of a complaint past a statutory deadline."""
        rule = self.policy.overdue_complaint
        overdue = event.message
        if not overdue.complaint_id or not overdue.office_id:
            raise InvalidArgument.of("complaint_id", "ComplaintOverdue needs complaint_id and office_id")
        today = self.workspace.today()
        due = self.workspace.calendar.add_working_days(today, rule.due_in_working_days)
        try:
            missed = day_of(overdue.due_date)
        except InvalidArgument:  # no calendar day: only the description would show it, so it is left out
            missed = None
        description = f"complaint {overdue.complaint_id} passed its {overdue.deadline or 'statutory'} deadline"
        if missed is not None:
            description += f" (due {missed.isoformat()})"
        self.tasks.raise_task_for(session, TaskInput.counted(
            overdue.office_id, f"{rule.title} {overdue.complaint_id}", description, "complaints.overdue",
            overdue.complaint_id, today, rule.due_in_working_days, due))

    def supervise_overdue_case(self, session: Session, event: Event[enforcement_pb2.CaseOverdue]) -> None:
        """Raises one supervision task (督办) for the office of a penalty case past a statutory limit,
        one per case and limit: a case late in its legal review and later in its delivery gets two."""
        rule = self.policy.overdue_case
        overdue = event.message
        if not overdue.case_id or not overdue.office_id or not overdue.deadline:
            raise InvalidArgument.of("case_id", "CaseOverdue needs case_id, office_id and deadline")
        today = self.workspace.today()
        due = self.workspace.calendar.add_working_days(today, rule.due_in_working_days)
        try:
            missed = day_of(overdue.due_date)
        except InvalidArgument:  # no calendar day: only the description would show it, so it is left out
            missed = None
        # The party by its registered name only (entity_name is empty for a person): no personal data.
        party = overdue.entity_name[:80] or f"案件 {overdue.case_id}"
        state = overdue.state or "state unknown"
        description = f"case {overdue.case_id} ({state}) passed its {overdue.deadline} deadline"
        if missed is not None:
            description += f" (due {missed.isoformat()})"
        self.tasks.raise_task_for(session, TaskInput.counted(
            overdue.office_id, f"{rule.title}（{CASE_DEADLINES.get(overdue.deadline, '办理')}）{party}", description,
            CASE_OVERDUE_SOURCE, f"{overdue.case_id}/{overdue.deadline}"[:64], today, rule.due_in_working_days, due))

    def supervise_serious_incident(
            self, session: Session,
            event: Event[emergency_pb2.IncidentReported | emergency_pb2.IncidentLevelChanged]) -> None:
        """Raises one supervision task (督办) for an incident of level I-III, as reported or re-graded."""
        incident = event.message
        # Below level IV (or not an accident at all) the office follows it up routinely: no task,
        # whatever level field an older or malformed event carries.
        if incident.outcome in BELOW_LEVEL_IV_OUTCOMES or incident.level not in self.policy.incident_levels:
            return
        if not incident.incident_id or not incident.office_id:
            raise InvalidArgument.of("incident_id", f"{event.type} needs incident_id and office_id")
        today, days = self.workspace.today(), self.policy.incident.due_in_working_days
        due = self.workspace.calendar.add_working_days(today, days)
        self.tasks.raise_task_for(session, TaskInput.counted(
            incident.office_id, f"{self.policy.incident.title}（{incident.level}级）{incident.title[:80]}",
            f"incident {incident.incident_id}, level {incident.level}", "emergency.incident", incident.incident_id,
            today, days, due))

    def subscriptions(self) -> list[Subscription]:
        return [
            # Not versioned: an overdue notice is a fact, not a state of the complaint to be superseded.
            Subscription("complaints", complaints_pb2.ComplaintOverdue, self.supervise_overdue_complaint,
                         versioned=False),
            # Not versioned either: each overdue notice of a case names another limit, at a higher version.
            Subscription("mobile_enforcement", enforcement_pb2.CaseOverdue, self.supervise_overdue_case,
                         versioned=False),
            Subscription("emergency", emergency_pb2.IncidentReported, self.supervise_serious_incident),
            Subscription("emergency", emergency_pb2.IncidentLevelChanged, self.supervise_serious_incident),
        ]

    def timers(self) -> list[Timer]:
        return [Timer("sweep_overdue_tasks", self.tasks.sweep_overdue),
                # Provisional due dates counted again after the working-day calendar changed.
                Timer("recount_provisional_tasks", self.tasks.recount_provisional)]
