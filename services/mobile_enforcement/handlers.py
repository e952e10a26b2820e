"""Events mobile_enforcement consumes, and the timer that sweeps its deadlines."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.orm import Session

from services.common import contracts
from services.common.consumer import Subscription, Timer
from services.common.credit_code import normalise_uscc, validate_uscc
from services.common.errors import InvalidArgument
from services.common.events import Event
from services.mobile_enforcement.domain.case_rules import LeadInput
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.directory import Directory
from services.mobile_enforcement.domain.inspections import Inspections
from services.mobile_enforcement.domain.sweep import DeadlineSweep
from services.mobile_enforcement.domain.vocabulary import RAPID_TEST_FOLLOW_UP, SOURCE_RAPID_TEST, SOURCE_REPORT
from services.mobile_enforcement.models import Entity
from supervision.command_center.v1 import events_pb2 as command_center_events
from supervision.complaints.v1 import events_pb2 as complaints_events
from supervision.facilities.v1 import events_pb2 as facilities_events

OfficeMessage = command_center_events.OfficeRegistered | command_center_events.OfficeUpdated
OfficerMessage = command_center_events.OfficerRegistered | command_center_events.OfficerUpdated


def _received(stamp: Timestamp, present: bool, field: str) -> dt.datetime:
    """When a lead was received: without it the filing clock cannot start, so the event is refused."""
    instant = contracts.instant_of(stamp, present)
    if instant is None:
        raise InvalidArgument.of(field, "is required: the filing clock counts from it")
    return instant


def _known_code(raw: str) -> str:
    """A party's credit code as another service saw it: kept when valid, otherwise left out (the
    lead must not be lost over a mistyped code)."""
    code = normalise_uscc(raw)
    return code if code and validate_uscc(code) is None else ""


class Handlers:
    def __init__(self, directory: Directory, inspections: Inspections, cases: Cases, sweep: DeadlineSweep):
        self.directory = directory
        self.inspections = inspections
        self.cases = cases
        self.sweep = sweep

    def office(self, session: Session, event: Event[OfficeMessage]) -> None:
        """Keeps the office and the streets that route entities to it (a moved street takes its businesses)."""
        office = event.message
        self.directory.apply_office(session, office.office_id, name=office.name, district=office.district,
                                    streets=list(office.streets))

    def officer(self, session: Session, event: Event[OfficerMessage]) -> None:
        """Keeps the officer and the certificate that lets them inspect, be drawn and handle cases."""
        officer = event.message
        self.directory.apply_officer(
            session, officer.officer_id, office_id=officer.office_id, name=officer.name, group=officer.group,
            certificate_no=officer.certificate_no, certificate_expires=contracts.day_of(officer.certificate_expires))

    def report_lead(self, session: Session, event: Event[complaints_events.CaseLeadRaised]) -> None:
        """Opens a case lead against the reported party, its filing clock counted from the report's receipt."""
        report = event.message
        respondent = report.respondent
        self.cases.open_lead_in(session, LeadInput(
            office_id=report.office_id, entity_id="", party_name=respondent.name,
            party_uscc=_known_code(respondent.uscc),
            party_address=" ".join(part for part in (respondent.street, respondent.address) if part),
            source=SOURCE_REPORT, source_ref=report.complaint_id,
            description=(f"举报（{report.category}）：" if report.category else "举报：") + report.description,
            received_at=_received(report.received_at, report.HasField("received_at"), "received_at")))

    def rapid_test_positive(self, session: Session, event: Event[facilities_events.RapidTestPositive]) -> None:
        """Opens a case lead for the positive, and a follow-up inspection when the vendor is in the directory."""
        positive = event.message
        sample = positive.sample
        code = _known_code(sample.vendor_uscc)
        entity = session.get(Entity, code) if code else None
        if entity is not None:
            self.inspections.schedule_in(session, entity, RAPID_TEST_FOLLOW_UP, positive.test_id, None)
        reading = " ".join(part for part in (positive.reading, positive.unit) if part)
        self.cases.open_lead_in(session, LeadInput(
            office_id="" if entity else positive.office_id, entity_id=entity.uscc if entity else "",
            party_name=sample.vendor_name or sample.stall, party_uscc=code,
            party_address=" ".join(part for part in (sample.market, sample.stall) if part),
            source=SOURCE_RAPID_TEST, source_ref=positive.test_id,
            description=f"快检阳性：{sample.name or '样品'} {positive.item} {reading}".strip(),
            received_at=_received(positive.tested_at, positive.HasField("tested_at"), "tested_at")))

    def subscriptions(self) -> list[Subscription]:
        # Offices and officers are states (versioned: an older update never undoes a newer one);
        # a lead is a fact, deduplicated by its source record.
        return [
            Subscription("command_center", command_center_events.OfficeRegistered, self.office),
            Subscription("command_center", command_center_events.OfficeUpdated, self.office),
            Subscription("command_center", command_center_events.OfficerRegistered, self.officer),
            Subscription("command_center", command_center_events.OfficerUpdated, self.officer),
            Subscription("complaints", complaints_events.CaseLeadRaised, self.report_lead, versioned=False),
            Subscription("facilities", facilities_events.RapidTestPositive, self.rapid_test_positive,
                         versioned=False),
        ]

    def timers(self) -> list[Timer]:
        return [Timer("sweep_deadlines", self.sweep.run)]
