"""Events assessment consumes, and the timer that sweeps improvement plans' due dates."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.assessment.domain import evidence, history, live_values
from services.assessment.domain.catalogue import SOURCES
from services.assessment.domain.improvement import ImprovementPlans
from services.assessment.domain.registry import Registry
from services.common.clock import shanghai_date
from services.common.consumer import Subscription, Timer
from services.common.events import Event
from supervision.command_center.v1 import events_pb2 as command_center_pb2
from supervision.common.v1.events_pb2 import IndicatorsChanged
from supervision.complaints.v1 import events_pb2 as complaints_pb2
from supervision.mobile_enforcement.v1 import events_pb2 as mobile_enforcement_pb2

# Work that counts as evidence: (publisher, its event).
EVIDENCE_EVENTS = (
    ("command_center", command_center_pb2.TaskCompleted),
    ("mobile_enforcement", mobile_enforcement_pb2.InspectionCompleted),
    ("complaints", complaints_pb2.ComplaintResolved),
    ("mobile_enforcement", mobile_enforcement_pb2.CaseClosed),
)


class Handlers:
    def __init__(self, registry: Registry, plans: ImprovementPlans):
        self.registry = registry
        self.plans = plans

    def office_changed(
            self, session: Session,
            event: Event[command_center_pb2.OfficeRegistered | command_center_pb2.OfficeUpdated]) -> None:
        """Keeps the office and its name: the offices scored, ranked and assessed."""
        self.registry.office_changed(session, event.message)

    def officer_changed(
            self, session: Session,
            event: Event[command_center_pb2.OfficerRegistered | command_center_pb2.OfficerUpdated]) -> None:
        """Keeps the officer, their office and group: the people graded each quarter."""
        self.registry.officer_changed(session, event.message)

    def indicators_changed(self, session: Session, event: Event[IndicatorsChanged]) -> None:
        """Records the office's indicator values in the history, from which closed periods are scored."""
        history.record(session, event.source, event.message, event.time)
        # In the store, not in memory: the API processes serving live scores read it there.
        live_values.advance_mark(session, event.source, event.message.office_id, event.message.version)

    def work_done(self, session: Session, event: Event) -> None:
        """Counts the finished work as evidence for each officer credited (平时考核) and the office's workload."""
        # A fact of another service's, stored once: none of assessment's own indicators counts it.
        evidence.record(session, evidence.from_message(event.source, event.message, shanghai_date(event.time)))

    def subscriptions(self) -> list[Subscription]:
        registry_events = [
            Subscription("command_center", command_center_pb2.OfficeRegistered, self.office_changed),
            Subscription("command_center", command_center_pb2.OfficeUpdated, self.office_changed),
            Subscription("command_center", command_center_pb2.OfficerRegistered, self.officer_changed),
            Subscription("command_center", command_center_pb2.OfficerUpdated, self.officer_changed),
        ]
        # History wants every version, even one that arrives after a newer one: not versioned,
        # and a version already stored is skipped by history.record. assessment's own indicators
        # come back the same way, so its own figures are closed from history too.
        history_events = [Subscription(source, IndicatorsChanged, self.indicators_changed, versioned=False)
                          for source in SOURCES]
        # Facts that happened once, kept once by their record's id: not states to supersede.
        evidence_events = [Subscription(source, message, self.work_done, versioned=False)
                           for source, message in EVIDENCE_EVENTS]
        return registry_events + history_events + evidence_events

    def timers(self) -> list[Timer]:
        return [Timer("sweep_improvement_plans", self.plans.sweep_overdue)]
