"""Events complaints consumes (its copy of the offices), and the timer that sweeps deadlines."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.common.consumer import Subscription, Timer
from services.common.events import Event
from services.complaints.domain.directory import Directory
from services.complaints.domain.routing import OfficeMessage, read_announcement
from services.complaints.domain.sweep import DeadlineSweep
from supervision.command_center.v1 import events_pb2 as command_center


class Handlers:
    def __init__(self, directory: Directory, sweep: DeadlineSweep):
        self.directory = directory
        self.sweep = sweep

    def learn_office(self, session: Session, event: Event[OfficeMessage]) -> None:
        """Keeps the office and its streets to route complaints; moves district-queue items on them to it."""
        # OfficeRegistered and OfficeUpdated carry the whole office, so both apply the same way; the
        # consumer's version check drops an announcement older than the one applied.
        self.directory.apply_office(session, read_announcement(event.message))

    def subscriptions(self) -> list[Subscription]:
        return [Subscription("command_center", command_center.OfficeRegistered, self.learn_office),
                Subscription("command_center", command_center.OfficeUpdated, self.learn_office)]

    def timers(self) -> list[Timer]:
        return [Timer("sweep_complaint_deadlines", self.sweep.run)]
