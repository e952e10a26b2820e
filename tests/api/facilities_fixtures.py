"""Hosting facilities for the API tests, with a clock that moves both today and now, helpers that
announce other services' events through the real in-process bus, the `client` fixture the test modules
import, and the room-check and refusal helpers several of them share."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.type import date_pb2
from sqlalchemy import func, select

from services.common.clock import shanghai_date
from services.common.events import Envelope
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
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.facilities.v1 import facilities_pb2 as pb
from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc
from tests.conftest import make_settings
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
class InstantClock:
    """One instant the test moves; the service reads now (UTC) and today (Asia/Shanghai) from it."""

    instant: dt.datetime = field(default=START)

    def now(self) -> dt.datetime:
        return self.instant

    def __call__(self) -> dt.date:
        return shanghai_date(self.instant)

    @property
    def today(self) -> dt.date:
        return self()

    def advance(self, **delta: float) -> None:
        self.instant += dt.timedelta(**delta)


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


class FacilitiesClient:
    def __init__(self, running: RunningService):
        self.running = running
        # Indicators are refreshed by settle() alone: a background pass that has taken the dirty
        # marks but not committed yet would make settle() return before the snapshot is written.
        running.runtime.indicators.stop()
        self.clock: InstantClock = running.clock
        self.rooms = pb_grpc.RoomServiceStub(running.channel)
        self.equipment = pb_grpc.EquipmentServiceStub(running.channel)
        self.tests = pb_grpc.RapidTestServiceStub(running.channel)
        self.custody = pb_grpc.CustodyServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)

    # ------------------------------------------------------------ other services' events

    def announce(self, source: str, event_type: str, subject: str, version: int, data: dict,
                 office_id: str = "", event_id: str = "") -> dict:
        aggregate_id = subject.split("/", 1)[1]
        wire = Envelope(id=event_id or str(uuid.uuid4()), source=source, type=event_type, subject=subject,
                        time=dt.datetime.now(dt.UTC), office_id=office_id, aggregate_id=aggregate_id,
                        aggregate_version=version, data=data).to_wire()
        self.running.bus.publish(wire)
        return wire

    def office(self, office_id: str = "MH01", name: str = "莘庄市场监督管理所", version: int = 1,
               event_type: str = "OfficeRegistered") -> dict:
        return self.announce("command_center", event_type, f"office/{office_id}", version,
                             {"id": office_id, "name": name, "district": "闵行区", "streets": ["莘庄镇"]}, office_id)

    def officer(self, officer_id: str, office_id: str = "MH01", expires: dt.date | None = None, version: int = 1,
                event_type: str = "OfficerRegistered") -> None:
        expires = expires or self.clock.today + dt.timedelta(days=365)
        self.announce("command_center", event_type, f"officer/{officer_id}", version,
                      {"id": officer_id, "name": "王伟", "office_id": office_id, "group": "CASE_HANDLING",
                       "certificate_no": f"SH{officer_id[-2:]}01", "certificate_expires": expires.isoformat()},
                      office_id)

    def case(self, case_id: str, event_type: str, version: int, office_id: str = "MH01") -> None:
        self.announce("mobile_enforcement", event_type, f"case/{case_id}", version,
                      {"case_id": case_id, "office_id": office_id}, office_id)

    # ------------------------------------------------------------ reading the service

    def readings(self, office_id: str = "MH01") -> dict[str, tuple[float, float]]:
        self.running.settle()
        response = self.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(office_ids=[office_id]))
        return {i.key: (i.numerator, i.denominator) for i in response.indicators}

    def events(self, event_type: str) -> list[dict]:
        with self.running.store.read() as session:
            rows = session.scalars(select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id))
            return [row.envelope for row in rows]

    def counts(self) -> dict[str, int]:
        with self.running.store.read() as session:
            counted = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                       for model in (Room, RoomCheck, FourUnifiedCheck, Equipment, RapidTest, CustodyItem,
                                     CustodyRecord)}
            counted["events"] = session.scalar(select(func.count()).select_from(Outbox)
                                               .where(Outbox.event_type != "IndicatorsChanged"))
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


@pytest.fixture
def client(store_url):
    running = host_facilities(store_url, InstantClock())
    client = FacilitiesClient(running)
    client.office()
    yield client
    running.close()


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
