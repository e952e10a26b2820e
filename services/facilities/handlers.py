"""Events facilities consumes, and the timers that sweep calibration due dates and re-test windows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.common.consumer import Subscription, Timer
from services.common.events import Event
from services.facilities.domain.directory import Directory
from services.facilities.domain.equipment import Inventory
from services.facilities.domain.rapid_tests import RapidTests
from supervision.command_center.v1 import events_pb2 as command_center
from supervision.mobile_enforcement.v1 import events_pb2 as mobile_enforcement


class Handlers:
    def __init__(self, directory: Directory, inventory: Inventory, rapid_tests: RapidTests):
        self.directory = directory
        self.inventory = inventory
        self.rapid_tests = rapid_tests

    def office(self, session: Session,
               event: Event[command_center.OfficeRegistered | command_center.OfficeUpdated]) -> None:
        """Keeps the office (OfficeRegistered and OfficeUpdated) and gives it the standard rooms it lacks."""
        self.directory.apply_office(session, event.message)

    def officer(self, session: Session,
                event: Event[command_center.OfficerRegistered | command_center.OfficerUpdated]) -> None:
        """Keeps the officer and their certificate (OfficerRegistered, OfficerUpdated): who may sign custody steps."""
        self.directory.apply_officer(session, event.message)

    def case_filed(self, session: Session, event: Event[mobile_enforcement.CaseFiled]) -> None:
        """Notes the case as open: goods checked in against it are evidence and may not be disposed of."""
        self.directory.apply_case(session, event.message, closed=False)

    def case_closed(self, session: Session, event: Event[mobile_enforcement.CaseClosed]) -> None:
        """Notes the case as closed: its confiscated goods may now be disposed of."""
        self.directory.apply_case(session, event.message, closed=True)

    def subscriptions(self) -> list[Subscription]:
        # Versioned: an OfficeUpdated or CaseClosed overtaken by an older event is never undone by it.
        return [
            Subscription("command_center", command_center.OfficeRegistered, self.office),
            Subscription("command_center", command_center.OfficeUpdated, self.office),
            Subscription("command_center", command_center.OfficerRegistered, self.officer),
            Subscription("command_center", command_center.OfficerUpdated, self.officer),
            Subscription("mobile_enforcement", mobile_enforcement.CaseFiled, self.case_filed),
            Subscription("mobile_enforcement", mobile_enforcement.CaseClosed, self.case_closed),
        ]

    def timers(self) -> list[Timer]:
        return [Timer("notify_calibration_due", self.inventory.sweep_calibration),
                Timer("expire_retest_windows", self.rapid_tests.sweep_retest_windows)]
