"""Events facilities consumes, and the timers that sweep calibration due dates and re-test windows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.common.consumer import Subscription, Timer
from services.common.events import Envelope
from services.facilities.domain.directory import Directory
from services.facilities.domain.equipment import Inventory
from services.facilities.domain.rapid_tests import RapidTesting


class Handlers:
    def __init__(self, directory: Directory, inventory: Inventory, testing: RapidTesting):
        self.directory = directory
        self.inventory = inventory
        self.testing = testing

    def office(self, session: Session, event: Envelope) -> None:
        """OfficeRegistered / OfficeUpdated: the local office, and the standard rooms of a new one."""
        self.directory.apply_office(session, {"id": event.aggregate_id, **event.data})

    def officer(self, session: Session, event: Envelope) -> None:
        """OfficerRegistered / OfficerUpdated: who may sign custody steps."""
        self.directory.apply_officer(session, {"id": event.aggregate_id, **event.data})

    def case_filed(self, session: Session, event: Envelope) -> None:
        self._case(session, event, closed=False)

    def case_closed(self, session: Session, event: Envelope) -> None:
        self._case(session, event, closed=True)

    def _case(self, session: Session, event: Envelope, *, closed: bool) -> None:
        case_id = str(event.data.get("case_id") or event.aggregate_id)
        office_id = str(event.data.get("office_id") or event.office_id)
        self.directory.apply_case(session, case_id, office_id, closed=closed)

    def subscriptions(self) -> list[Subscription]:
        # Versioned: an OfficeUpdated or CaseClosed overtaken by an older event is never undone by it.
        return [
            Subscription("command_center", "OfficeRegistered", self.office),
            Subscription("command_center", "OfficeUpdated", self.office),
            Subscription("command_center", "OfficerRegistered", self.officer),
            Subscription("command_center", "OfficerUpdated", self.officer),
            Subscription("mobile_enforcement", "CaseFiled", self.case_filed),
            Subscription("mobile_enforcement", "CaseClosed", self.case_closed),
        ]

    def timers(self) -> list[Timer]:
        return [Timer("notify_calibration_due", self.inventory.sweep_calibration),
                Timer("expire_retest_windows", self.testing.sweep_retest_windows)]
