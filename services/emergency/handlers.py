"""Events emergency consumes (command_center's directory), and the timer that sweeps action deadlines."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2
from sqlalchemy.orm import Session

from services.common.consumer import Subscription, Timer
from services.common.contracts import day_of
from services.common.errors import InvalidArgument
from services.common.events import Event
from services.emergency.domain.directory import Directory
from services.emergency.domain.incidents import Incidents
from supervision.command_center.v1 import events_pb2 as command_center


class Handlers:
    def __init__(self, directory: Directory, incidents: Incidents):
        self.directory = directory
        self.incidents = incidents

    def keep_office(self, session: Session,
                    event: Event[command_center.OfficeRegistered | command_center.OfficeUpdated]) -> None:
        """Keeps the office (name, district, streets) that incidents and drills belong to."""
        office = event.message
        self.directory.apply_office(session, office.office_id, name=office.name, district=office.district,
                                    streets=list(office.streets))

    def keep_officer(self, session: Session,
                     event: Event[command_center.OfficerRegistered | command_center.OfficerUpdated]) -> None:
        """Keeps the officer and their office, so only an incident's own officers are dispatched to it."""
        officer = event.message
        self.directory.apply_officer(
            session, officer.officer_id, name=officer.name, office_id=officer.office_id, group=officer.group,
            certificate_no=officer.certificate_no, certificate_expires=certificate_day(officer.certificate_expires))

    def subscriptions(self) -> list[Subscription]:
        # Versioned: each event carries the whole office or officer, so an older one is skipped.
        return [
            Subscription("command_center", command_center.OfficeRegistered, self.keep_office),
            Subscription("command_center", command_center.OfficeUpdated, self.keep_office),
            Subscription("command_center", command_center.OfficerRegistered, self.keep_officer),
            Subscription("command_center", command_center.OfficerUpdated, self.keep_officer),
        ]

    def timers(self) -> list[Timer]:
        return [Timer("sweep_overdue_actions", self.incidents.sweep_overdue)]


def certificate_day(value: date_pb2.Date) -> dt.date | None:
    """The certificate's last valid day, None when unset; refuses a date that is no calendar day."""
    # Refused as InvalidArgument, so the consumer parks the event instead of retrying it for ever.
    if not (value.year or value.month or value.day):
        return None
    day = day_of(value, "data.certificate_expires")  # raises for a day that does not exist
    if day is None:  # partly set
        raise InvalidArgument.of("data.certificate_expires",
                                 f"{value.year:04d}-{value.month:02d}-{value.day:02d} is not a calendar day")
    return day
