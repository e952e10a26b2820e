"""What the facilities API tests share: hosting facilities with a clock that moves both today and now;
the publishers it listens to (command_center for offices and officers, mobile_enforcement for cases)
hosted beside it, so their events reach facilities as their own API calls record them; the client
the `client` fixture (conftest.py) hands out, and the room-check and refusal helpers several test
modules use."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message
from google.type import date_pb2
from sqlalchemy import func, select

from services.common import contracts
from services.common.bus import InProcessBus
from services.common.events import Envelope, Event
from services.facilities.domain.standards import Standards
from services.facilities.models import (
    CustodyItem,
    CustodyRecord,
    Equipment,
    FourUnifiedCheck,
    Outbox,
    RapidTest,
    Room,
    RoomCheck,
)
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.common.v1 import events_pb2 as common_events
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.facilities.v1 import facilities_pb2 as pb
from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc
from tests import support
from tests.conftest import make_settings
from tests.contracts import case_procedure
from tests.support import RunningService, host, violations

# 10:00 on Tuesday 10 November 2026 in Shanghai.
START = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)
VALID_USCC = "91350100M000100Y43"
STANDARDS = Standards.load()
INVALID, PRECONDITION, NOT_FOUND = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                                    grpc.StatusCode.NOT_FOUND)
TODAY = dt.date(2026, 11, 10)
ALL_MET = {"rapid_test": ["ventilation", "water_supply", "result_board", "sample_zone"]}


@dataclass
class InstantClock(support.InstantClock):
    """The test's instant, starting at START."""

    instant: dt.datetime = field(default=START)


def host_facilities(store_url: str, clock: InstantClock, **settings_overrides: str) -> RunningService:
    """The service's `now` wired to the test clock as well as `today`."""
    return host("facilities", store_url, make_settings(**settings_overrides), clock, now=clock.now)


def date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(value)
    return message


def expect_error(call, code: grpc.StatusCode) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return violations(info.value)


M = TypeVar("M", bound=Message)
# The streets command_center's offices cover (a street belongs to one office).
STREETS = {"MH01": "莘庄镇", "MH02": "七宝镇"}


def subscribe(consumer: RunningService, publisher: RunningService) -> None:
    """`consumer` applies what `publisher` relays, as in `make run`."""
    publisher.bus.subscribe(consumer.runtime.consumer(), consumer.runtime.subscriptions)


def outbox(running: RunningService, message: type[Message] | None = None) -> list[dict]:
    """The envelopes a service recorded (of one message type), in the order it recorded them."""
    outbox_model = running.runtime.outbox_model
    query = select(outbox_model).order_by(outbox_model.id)
    if message is not None:
        query = query.where(outbox_model.event_type == contracts.type_name(message))
    with running.store.read() as session:
        return [row.envelope for row in session.scalars(query)]


class FacilitiesClient:
    """facilities, and the publishers it listens to hosted beside it on their own SQLite stores in
    `workdir`. Their relays run only when the test settles, so a test decides when (and in which
    order) their events arrive."""

    def __init__(self, running: RunningService, workdir: Path):
        self.running = running
        self.workdir = workdir
        # Indicators are refreshed by settle() alone: a background pass that has taken the dirty
        # marks but not committed yet would make settle() return before the snapshot is written.
        running.runtime.indicators.stop()
        self.clock: InstantClock = running.clock
        self.rooms = pb_grpc.RoomServiceStub(running.channel)
        self.equipment = pb_grpc.EquipmentServiceStub(running.channel)
        self.tests = pb_grpc.RapidTestServiceStub(running.channel)
        self.custody = pb_grpc.CustodyServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)
        self.publishers: dict[str, RunningService] = {}
        self.command_center = self._publisher("command_center")
        self.offices = cc_grpc.OfficeServiceStub(self.command_center.channel)
        self.officers = cc_grpc.OfficerServiceStub(self.command_center.channel)

    def _publisher(self, name: str, **build_options) -> RunningService:
        running = host(name, f"sqlite:///{self.workdir / f'{name}.db'}", make_settings(), self.clock,
                       **build_options)
        running.hosted.relay.stop()  # relayed by settle() alone
        if running.runtime.indicators is not None:
            running.runtime.indicators.stop()
        subscribe(self.running, running)
        self.publishers[name] = running
        return running

    def close(self) -> None:
        for publisher in self.publishers.values():
            publisher.close()
        self.running.close()

    # ------------------------------------------------------------ other services' events

    def settle(self) -> None:
        """Relays what the publishers recorded to facilities (and to each other), in their order."""
        for publisher in self.publishers.values():
            publisher.settle()

    def published(self, source: str, message: type[Message]) -> list[dict]:
        """The envelopes `source` recorded of one message type, relayed or not."""
        return outbox(self.publishers[source], message)

    def deliver(self, wire: dict) -> None:
        """Delivers one of a publisher's envelopes to facilities now, ahead of the relay (as a broker
        may, out of order)."""
        self.running.bus.publish(wire)

    def office(self, office_id: str = "MH01", name: str = "莘庄市场监督管理所", deliver: bool = True) -> cc.Office:
        """command_center registers the office (OfficeRegistered)."""
        created = self.offices.CreateOffice(cc.CreateOfficeRequest(office=cc.Office(
            id=office_id, name=name, district="闵行区", streets=[STREETS.get(office_id, f"{office_id}街道")])))
        if deliver:
            self.settle()
        return created

    def rename_office(self, office_id: str, name: str, deliver: bool = True) -> cc.Office:
        """command_center renames the office (OfficeUpdated)."""
        updated = self.offices.UpdateOffice(cc.UpdateOfficeRequest(office=cc.Office(id=office_id, name=name),
                                                                   update_mask=FieldMask(paths=["name"])))
        if deliver:
            self.settle()
        return updated

    def officer(self, officer_id: str, office_id: str = "MH01", expires: dt.date | None = None) -> cc.Officer:
        """command_center registers an officer of the case-handling group (OfficerRegistered), with a
        certificate valid for a year unless told."""
        expires = expires or self.clock.today + dt.timedelta(days=365)
        registered = self.officers.RegisterOfficer(cc.RegisterOfficerRequest(officer=cc.Officer(
            id=officer_id, name="王伟", office_id=office_id, group=cc.GROUP_KIND_CASE_HANDLING,
            certificate_no=f"SH{officer_id.replace('-', '')}", certificate_expires=date(expires))))
        self.settle()
        return registered

    def renew_certificate(self, officer_id: str, expires: dt.date) -> cc.Officer:
        """command_center changes the officer's certificate expiry (OfficerUpdated)."""
        updated = self.officers.UpdateOfficer(cc.UpdateOfficerRequest(
            officer=cc.Officer(id=officer_id, certificate_expires=date(expires)),
            update_mask=FieldMask(paths=["certificate_expires"])))
        self.settle()
        return updated

    @property
    def cases(self) -> me_grpc.CaseServiceStub:
        """mobile_enforcement's cases, hosted on first use: it first catches up on what command_center
        published so far (its offices and officers), then follows it like facilities does."""
        if "mobile_enforcement" not in self.publishers:
            self.settle()
            running = self._publisher("mobile_enforcement", now=self.clock.now)
            catch_up = InProcessBus()
            catch_up.subscribe(running.runtime.consumer(), running.runtime.subscriptions)
            for wire in outbox(self.command_center):
                catch_up.publish(wire)
            subscribe(running, self.command_center)
        return me_grpc.CaseServiceStub(self.publishers["mobile_enforcement"].channel)

    def file_case(self, officer_ids: list[str], office_id: str = "MH01", deliver: bool = True) -> str:
        """mobile_enforcement opens a lead and files it as a case of the two officers (CaseFiled);
        returns the case id."""
        lead = self.cases.OpenLead(me.OpenLeadRequest(lead=me.Case(
            office_id=office_id, source=me.LEAD_SOURCE_REFERRAL, description="涉嫌销售假冒注册商标白酒",
            party=me.Party(name="莘庄烟酒商行"))))
        self.cases.FileCase(me.FileCaseRequest(id=lead.id, officer_ids=officer_ids))
        if deliver:
            self.settle()
        return lead.id

    def close_case(self, case_id: str, deliver: bool = True) -> None:
        """mobile_enforcement takes the case through the ordinary procedure to a warning, delivered and
        executed, and closes it (CaseClosed)."""
        case_procedure.closed(self.cases, case_id, case_procedure.warning())
        if deliver:
            self.settle()

    # ------------------------------------------------------------ reading the service

    def readings(self, office_id: str = "MH01") -> dict[str, tuple[float, float]]:
        self.running.settle()
        response = self.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(office_ids=[office_id]))
        return {i.key: (i.numerator, i.denominator) for i in response.indicators}

    def events(self, message: type[M]) -> list[Event[M]]:
        """The events of one type facilities recorded, read back from its outbox as a consumer decodes them."""
        return [Event(envelope, contracts.decode(message, envelope.type, envelope.data))
                for envelope in map(Envelope.from_wire, outbox(self.running, message))]

    def counts(self) -> dict[str, int]:
        with self.running.store.read() as session:
            counted = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                       for model in (Room, RoomCheck, FourUnifiedCheck, Equipment, RapidTest, CustodyItem,
                                     CustodyRecord)}
            counted["events"] = session.scalar(
                select(func.count()).select_from(Outbox)
                .where(Outbox.event_type != contracts.type_name(common_events.IndicatorsChanged)))
            return counted

    # ------------------------------------------------------------ making things

    def register(self, category: str = "pesticide_reader", office_id: str = "MH01", serial: str = "",
                 last_calibrated: dt.date | None = None, due: dt.date | None = None,
                 request_id: str = "") -> pb.Equipment:
        """Registers equipment; one of a calibrated category was calibrated 30 days ago unless told."""
        rules = STANDARDS.equipment.in_force(self.clock.today).categories[category]
        if last_calibrated is None and rules.calibration_months is not None:
            last_calibrated = self.clock.today - dt.timedelta(days=30)
        equipment = pb.Equipment(office_id=office_id, category=category, model="NY-12",
                                 serial_no=serial or f"SN-{uuid.uuid4().hex[:10]}",
                                 last_calibrated_on=date(last_calibrated) if last_calibrated else None,
                                 calibration_due=date(due) if due else None)
        return self.equipment.RegisterEquipment(pb.RegisterEquipmentRequest(request_id=request_id,
                                                                            equipment=equipment))

    def record(self, equipment_id: str, reading: float = 12.0, **changes) -> pb.RapidTest:
        return self.tests.RecordTest(rapid_test_request(equipment_id, reading, **changes))


def rapid_test_request(equipment_id: str, reading: float = 12.0, *, office_id: str = "MH01",
                       item: str = "pesticide_residue", method: str = "enzyme_inhibition",
                       tested_at: dt.datetime | None = None, request_id: str = "", result: int = 0,
                       origin: int = pb.TEST_ORIGIN_MARKET_SAMPLING, **sample) -> pb.RecordTestRequest:
    fields = {"name": "豇豆", "vendor_name": "王记蔬菜", "vendor_uscc": VALID_USCC, "market": "莘庄农贸市场",
              "stall": "12号"}
    fields.update(sample)
    return pb.RecordTestRequest(request_id=request_id, office_id=office_id, origin=origin, sample=pb.Sample(**fields),
                                item=item, method=method, equipment_id=equipment_id, reading=reading, result=result,
                                tested_at=timestamp(tested_at) if tested_at else None)


def refused(client, call, code: grpc.StatusCode, field: str | None) -> None:
    """The call is refused with `code` (and a violation on `field`), and nothing changed."""
    before = client.counts()
    found = expect_error(call, code)
    if field:
        assert field in found, found
    assert client.counts() == before


def room_check(kind="rapid_test", area=25.0, met=None, present=True, checked_on=None, **changes) -> pb.RoomCheck:
    return pb.RoomCheck(office_id=changes.pop("office_id", "MH01"), kind=kind, present=present, area_m2=area,
                        requirements_met=ALL_MET.get(kind, []) if met is None else met, checked_by="区局检查组",
                        checked_on=date(checked_on) if checked_on else None, **changes)
