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
        due = self.workspace.calendar.add_working_days(self.workspace.today(), rule.due_in_working_days)
        try:
            missed = day_of(overdue.due_date)
        except InvalidArgument:  # no calendar day: only the description would show it, so it is left out
            missed = None
        description = f"complaint {overdue.complaint_id} passed its {overdue.deadline or 'statutory'} deadline"
        if missed is not None:
            description += f" (due {missed.isoformat()})"
        self.tasks.raise_task_for(session, TaskInput(
            office_id=overdue.office_id, title=f"{rule.title} {overdue.complaint_id}", description=description,
            source="complaints.overdue", source_ref=overdue.complaint_id, due_date=due.date))

    def supervise_serious_incident(
            self, session: Session,
            event: Event[emergency_pb2.IncidentReported | emergency_pb2.IncidentLevelChanged]) -> None:
        """Raises one supervision task (督办) for an incident of level I-III, as reported or re-graded."""
        incident = event.message
        if incident.level not in self.policy.incident_levels:
            return
        if not incident.incident_id or not incident.office_id:
            raise InvalidArgument.of("incident_id", f"{event.type} needs incident_id and office_id")
        due = self.workspace.calendar.add_working_days(self.workspace.today(), self.policy.incident.due_in_working_days)
        self.tasks.raise_task_for(session, TaskInput(
            office_id=incident.office_id,
            title=f"{self.policy.incident.title}（{incident.level}级）{incident.title[:80]}",
            description=f"incident {incident.incident_id}, level {incident.level}", source="emergency.incident",
            source_ref=incident.incident_id, due_date=due.date))

    def subscriptions(self) -> list[Subscription]:
        return [
            # Not versioned: an overdue notice is a fact, not a state of the complaint to be superseded.
            Subscription("complaints", complaints_pb2.ComplaintOverdue, self.supervise_overdue_complaint,
                         versioned=False),
            Subscription("emergency", emergency_pb2.IncidentReported, self.supervise_serious_incident),
            Subscription("emergency", emergency_pb2.IncidentLevelChanged, self.supervise_serious_incident),
        ]

    def timers(self) -> list[Timer]:
        return [Timer("sweep_overdue_tasks", self.tasks.sweep_overdue)]
