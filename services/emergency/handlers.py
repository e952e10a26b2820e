"""Events emergency consumes (command_center's directory), and the timer that sweeps action deadlines."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.common.consumer import Subscription, Timer
from services.common.events import Envelope
from services.emergency.domain.emergency import Emergency


class Handlers:
    def __init__(self, emergency: Emergency):
        self.emergency = emergency

    def keep_office(self, session: Session, event: Envelope) -> None:
        self.emergency.apply_office(session, event.data)

    def keep_officer(self, session: Session, event: Envelope) -> None:
        self.emergency.apply_officer(session, event.data)

    def subscriptions(self) -> list[Subscription]:
        # Versioned: each event carries the whole office or officer, so an older one is skipped.
        return [
            Subscription("command_center", "OfficeRegistered", self.keep_office),
            Subscription("command_center", "OfficeUpdated", self.keep_office),
            Subscription("command_center", "OfficerRegistered", self.keep_officer),
            Subscription("command_center", "OfficerUpdated", self.keep_officer),
        ]

    def timers(self) -> list[Timer]:
        return [Timer("sweep_overdue_actions", self.emergency.sweep_overdue)]
