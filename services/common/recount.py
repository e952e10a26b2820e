"""A statutory clock counted again after the working-day calendar changed, as each service
publishes it (supervision.common.v1.DeadlineRecomputed)."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.contracts import date_of
from services.common.working_days import DueDate
from supervision.common.v1.events_pb2 import DeadlineRecomputed


@dataclass(frozen=True)
class Recount:
    """One clock whose due date or provisional flag moved when it was counted again."""

    subject_type: str
    subject_id: str
    reference: str
    office_id: str
    clock: str
    rule_set: str
    previous: DueDate
    current: DueDate

    @property
    def moved(self) -> bool:
        """Whether the count changed anything worth telling (date or provisional flag)."""
        return self.previous != self.current

    def event(self) -> DeadlineRecomputed:
        """The event the publisher records in its outbox for this recount."""
        return DeadlineRecomputed(
            subject_type=self.subject_type, subject_id=self.subject_id, reference=self.reference,
            office_id=self.office_id, clock=self.clock, previous_due_date=date_of(self.previous.date),
            previous_provisional=self.previous.provisional, due_date=date_of(self.current.date),
            provisional=self.current.provisional, rule_set=self.rule_set)
