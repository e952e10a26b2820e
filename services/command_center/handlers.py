"""Events command_center consumes, and the timer that sweeps task deadlines."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from services.command_center.domain.center import CommandCenter
from services.command_center.domain.tasks import TaskInput
from services.common.consumer import Subscription, Timer
from services.common.errors import InvalidArgument
from services.common.events import Envelope

POLICY_FILE = Path(__file__).with_name("supervision_policy.yaml")


def load_policy(path: Path = POLICY_FILE) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class Handlers:
    def __init__(self, center: CommandCenter, policy: dict | None = None):
        self.center = center
        policy = load_policy() if policy is None else policy
        self.policy = policy["overdue_items"]
        self.incident_policy = policy["incidents"]

    def supervise_overdue_complaint(self, session: Session, event: Envelope) -> None:
        """An item past its statutory deadline becomes a supervision task for its office (督办)."""
        rule = self.policy["complaints.ComplaintOverdue"]
        complaint_id = str(event.data.get("complaint_id") or event.aggregate_id)
        office_id = str(event.data.get("office_id") or event.office_id)
        if not complaint_id or not office_id:
            raise InvalidArgument.of("data.complaint_id", "ComplaintOverdue needs complaint_id and office_id")
        due = self.center.calendar.add_working_days(self.center.today(), int(rule["due_in_working_days"]))
        deadline = str(event.data.get("deadline", ""))
        self.center.raise_task_for(session, TaskInput(
            office_id=office_id, title=f"{rule['title']} {complaint_id}",
            description=f"complaint {complaint_id} passed its {deadline or 'statutory'} deadline",
            source="complaints.overdue", source_ref=complaint_id, due_date=due.date))

    def supervise_serious_incident(self, session: Session, event: Envelope) -> None:
        """Incidents of levels I-III (as reported, or after re-grading) are supervised by the bureau."""
        level = str(event.data.get("level", ""))
        if level not in self.incident_policy["levels"]:
            return
        incident_id = str(event.data.get("incident_id") or event.aggregate_id)
        office_id = str(event.data.get("office_id") or event.office_id)
        if not incident_id or not office_id:
            raise InvalidArgument.of("data.incident_id", f"{event.type} needs incident_id and office_id")
        due = self.center.calendar.add_working_days(self.center.today(),
                                                    int(self.incident_policy["due_in_working_days"]))
        title = str(event.data.get("title", ""))[:80]
        self.center.raise_task_for(session, TaskInput(
            office_id=office_id, title=f"{self.incident_policy['title']}（{level}级）{title}",
            description=f"incident {incident_id}, level {level}", source="emergency.incident",
            source_ref=incident_id, due_date=due.date))

    def subscriptions(self) -> list[Subscription]:
        return [
            # Not versioned: an overdue notice is a fact, not a state of the complaint to be superseded.
            Subscription("complaints", "ComplaintOverdue", self.supervise_overdue_complaint, versioned=False),
            Subscription("emergency", "IncidentReported", self.supervise_serious_incident),
            Subscription("emergency", "IncidentLevelChanged", self.supervise_serious_incident),
        ]

    def timers(self) -> list[Timer]:
        return [Timer("sweep_overdue_tasks", self.center.sweep_overdue)]
