"""Events assessment consumes, and the timer that sweeps improvement plans' due dates."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.assessment.domain import evidence, history, registry
from services.assessment.domain.assessment import Assessment
from services.assessment.domain.catalogue import SOURCES
from services.common.clock import shanghai_date
from services.common.consumer import Subscription, Timer
from services.common.events import Envelope
from services.common.indicators import INDICATORS_CHANGED

# Work that counts as evidence: (source, event type) -> kind of evidence.
EVIDENCE_EVENTS = {
    ("command_center", "TaskCompleted"): evidence.TASK,
    ("mobile_enforcement", "InspectionCompleted"): evidence.INSPECTION,
    ("complaints", "ComplaintResolved"): evidence.COMPLAINT,
    ("mobile_enforcement", "CaseClosed"): evidence.CASE,
}


class Handlers:
    def __init__(self, assessment: Assessment):
        self.assessment = assessment

    def office_changed(self, session: Session, event: Envelope) -> None:
        registry.apply_office(session, event.data, event.aggregate_id)

    def officer_changed(self, session: Session, event: Envelope) -> None:
        registry.apply_officer(session, event.data, event.aggregate_id)

    def indicators_changed(self, session: Session, event: Envelope) -> None:
        office_id = str(event.data.get("office_id") or event.office_id)
        history.record(session, event.source, office_id, event.aggregate_version, event.data, event.time)

    def evidence_for(self, kind: str) -> Callable[[Session, Envelope], None]:
        def record(session: Session, event: Envelope) -> None:
            item = evidence.from_event(kind, event.source, event.aggregate_id, event.office_id,
                                       shanghai_date(event.time), event.data)
            if item is not None:
                self.assessment.record_evidence(session, item)

        return record

    def subscriptions(self) -> list[Subscription]:
        registry_events = [
            Subscription("command_center", "OfficeRegistered", self.office_changed),
            Subscription("command_center", "OfficeUpdated", self.office_changed),
            Subscription("command_center", "OfficerRegistered", self.officer_changed),
            Subscription("command_center", "OfficerUpdated", self.officer_changed),
        ]
        # History wants every version, even one that arrives after a newer one: not versioned,
        # and a version already stored is skipped by history.record. assessment's own indicators
        # come back the same way, so its own figures are closed from history too.
        history_events = [Subscription(source, INDICATORS_CHANGED, self.indicators_changed, versioned=False)
                          for source in SOURCES]
        # Facts that happened once, kept once by their record's id: not states to supersede.
        evidence_events = [Subscription(source, event_type, self.evidence_for(kind), versioned=False)
                           for (source, event_type), kind in EVIDENCE_EVENTS.items()]
        return registry_events + history_events + evidence_events

    def timers(self) -> list[Timer]:
        return [Timer("sweep_improvement_plans", self.assessment.plans.sweep_overdue)]
