"""Events mobile_enforcement consumes, and the timer that sweeps its deadlines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services.common.consumer import Subscription, Timer
from services.common.credit_code import normalise_uscc, validate_uscc
from services.common.errors import InvalidArgument
from services.common.events import Envelope
from services.mobile_enforcement.domain.case_rules import LeadInput
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.directory import Directory
from services.mobile_enforcement.domain.inspections import Inspections
from services.mobile_enforcement.domain.sweep import DeadlineSweep
from services.mobile_enforcement.domain.vocabulary import RAPID_TEST_FOLLOW_UP, SOURCE_RAPID_TEST, SOURCE_REPORT
from services.mobile_enforcement.models import Entity


def _instant(value: object, field: str) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument.of(field, f"{value!r} is not an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise InvalidArgument.of(field, "an instant needs its zone")
    return instant


def _known_code(raw: object) -> str:
    """A party's credit code as another service saw it: kept when valid, otherwise left out (the
    lead must not be lost over a mistyped code)."""
    code = normalise_uscc(str(raw or ""))
    return code if code and validate_uscc(code) is None else ""


class Handlers:
    def __init__(self, directory: Directory, inspections: Inspections, cases: Cases, sweep: DeadlineSweep):
        self.directory = directory
        self.inspections = inspections
        self.cases = cases
        self.sweep = sweep

    def office(self, session: Session, event: Envelope) -> None:
        """OfficeRegistered / OfficeUpdated: the office and the streets it covers."""
        self.directory.apply_office(session, {"id": event.aggregate_id, **event.data})

    def officer(self, session: Session, event: Envelope) -> None:
        """OfficerRegistered / OfficerUpdated: who may inspect, be drawn and handle cases."""
        self.directory.apply_officer(session, {"id": event.aggregate_id, **event.data})

    def report_lead(self, session: Session, event: Envelope) -> None:
        """CaseLeadRaised (complaints): a report becomes a lead, its filing clock counted from receipt."""
        data = event.data
        complaint_id = str(data.get("complaint_id") or event.aggregate_id)
        respondent = data.get("respondent") or {}
        category = str(data.get("category") or "")
        self.cases.open_lead_in(session, LeadInput(
            office_id=str(data.get("office_id") or event.office_id), entity_id="",
            party_name=str(respondent.get("name") or ""), party_uscc=_known_code(respondent.get("uscc")),
            party_address=" ".join(str(respondent.get(k) or "") for k in ("street", "address")).strip(),
            source=SOURCE_REPORT, source_ref=complaint_id,
            description=(f"举报（{category}）：" if category else "举报：") + str(data.get("description") or ""),
            received_at=_instant(data.get("received_at"), "data.received_at")))

    def rapid_test_positive(self, session: Session, event: Envelope) -> None:
        """RapidTestPositive (facilities): the vendor gets a follow-up inspection when it is in the
        directory, and the positive becomes a lead either way."""
        data = event.data
        test_id = str(data.get("test_id") or event.aggregate_id)
        sample = data.get("sample") or {}
        code = _known_code(sample.get("vendor_uscc"))
        entity = session.get(Entity, code) if code else None
        if entity is not None:
            self.inspections.schedule_in(session, entity, RAPID_TEST_FOLLOW_UP, test_id, None)
        reading = " ".join(str(data.get(k) or "") for k in ("reading", "unit")).strip()
        self.cases.open_lead_in(session, LeadInput(
            office_id="" if entity else str(data.get("office_id") or event.office_id),
            entity_id=entity.uscc if entity else "",
            party_name=str(sample.get("vendor_name") or sample.get("stall") or ""), party_uscc=code,
            party_address=" ".join(str(sample.get(k) or "") for k in ("market", "stall")).strip(),
            source=SOURCE_RAPID_TEST, source_ref=test_id,
            description=f"快检阳性：{sample.get('name') or '样品'} {data.get('item') or ''} {reading}".strip(),
            received_at=_instant(data.get("tested_at"), "data.tested_at")))

    def subscriptions(self) -> list[Subscription]:
        # Offices and officers are states (versioned: an older update never undoes a newer one);
        # a lead is a fact, deduplicated by its source record.
        return [
            Subscription("command_center", "OfficeRegistered", self.office),
            Subscription("command_center", "OfficeUpdated", self.office),
            Subscription("command_center", "OfficerRegistered", self.officer),
            Subscription("command_center", "OfficerUpdated", self.officer),
            Subscription("complaints", "CaseLeadRaised", self.report_lead, versioned=False),
            Subscription("facilities", "RapidTestPositive", self.rapid_test_positive, versioned=False),
        ]

    def timers(self) -> list[Timer]:
        return [Timer("sweep_deadlines", self.sweep.run)]
