"""Events command_center consumes, and the timer that sweeps task deadlines."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from services.command_center.domain.center import CommandCenter
from services.command_center.domain.tasks import TaskInput
from services.common.consumer import Subscription, Timer
from services.common.contracts import day_of
from services.common.errors import InvalidArgument
from services.common.events import Event
from supervision.complaints.v1 import events_pb2 as complaints_pb2
from supervision.emergency.v1 import events_pb2 as emergency_pb2

POLICY_FILE = Path(__file__).with_name("supervision_policy.yaml")


def load_policy(path: Path = POLICY_FILE) -> dict:
    """The bureau's supervision policy (which overdue items and incidents become tasks)."""
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class Handlers:
    def __init__(self, center: CommandCenter, policy: dict | None = None):
        self.center = center
        policy = load_policy() if policy is None else policy
        self.policy = policy["overdue_items"]
        self.incident_policy = policy["incidents"]

    def supervise_overdue_complaint(self, session: Session, event: Event[complaints_pb2.ComplaintOverdue]) -> None:
        """Raises one supervision task (督办) for the office of a complaint past a statutory deadline."""
        rule = self.policy["complaints.ComplaintOverdue"]
        overdue = event.message
        if not overdue.complaint_id or not overdue.office_id:
            raise InvalidArgument.of("complaint_id", "ComplaintOverdue needs complaint_id and office_id")
        due = self.center.calendar.add_working_days(self.center.today(), int(rule["due_in_working_days"]))
        try:
            missed = day_of(overdue.due_date)
        except InvalidArgument:  # no calendar day: only the description would show it, so it is left out
            missed = None
        description = f"complaint {overdue.complaint_id} passed its {overdue.deadline or 'statutory'} deadline"
        if missed is not None:
            description += f" (due {missed.isoformat()})"
        self.center.raise_task_for(session, TaskInput(
            office_id=overdue.office_id, title=f"{rule['title']} {overdue.complaint_id}", description=description,
            source="complaints.overdue", source_ref=overdue.complaint_id, due_date=due.date))

    def supervise_serious_incident(
            self, session: Session,
            event: Event[emergency_pb2.IncidentReported | emergency_pb2.IncidentLevelChanged]) -> None:
        """Raises one supervision task (督办) for an incident of level I-III, as reported or re-graded."""
        incident = event.message
        if incident.level not in self.incident_policy["levels"]:
            return
        if not incident.incident_id or not incident.office_id:
            raise InvalidArgument.of("incident_id", f"{event.type} needs incident_id and office_id")
        due = self.center.calendar.add_working_days(self.center.today(),
                                                    int(self.incident_policy["due_in_working_days"]))
        self.center.raise_task_for(session, TaskInput(
            office_id=incident.office_id,
            title=f"{self.incident_policy['title']}（{incident.level}级）{incident.title[:80]}",
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
        return [Timer("sweep_overdue_tasks", self.center.sweep_overdue)]
