"""A district registered through the public APIs, for a center started without the demo data
(tests, scaling runs with hundreds or thousands of offices): offices and officers in
command_center, rapid-test readers in facilities, businesses in mobile_enforcement.

Offices and officers reach the other services as events, later than command_center answers: the
run starts only once every service lists the offices among its indicators and, in monolithic mode,
once the officers' events are delivered (an event of the in-process bus counts as published in
/metrics after every consumer of the process applied it). Acting earlier would name an officer a
service does not know yet: a refusal the simulator would have caused.

Request ids are derived from the office ids, so running it twice registers nothing twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial

from google.type import date_pb2

from simulator import content
from simulator.actions.entities import TRADES
from simulator.clients import SERVICES, Clients
from simulator.clock import shanghai_today
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.facilities.v1 import facilities_pb2 as fa
from supervision.facilities.v1 import facilities_pb2_grpc as fa_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc

log = logging.getLogger("simulator")
GROUPS = [cc.GROUP_KIND_GENERAL, cc.GROUP_KIND_SUPERVISION, cc.GROUP_KIND_CASE_HANDLING,
          cc.GROUP_KIND_COMPLAINT_HANDLING]
CATEGORIES = ["HYPERMARKET", "SUPERMARKET", "CONVENIENCE_STORE", "WET_MARKET", "PHARMACY", "REAL_ESTATE_AGENCY",
              "OPTICAL_SHOP", "BEAUTY_SALON", "CATERING", "PRIMARY_MEDICAL_INSTITUTION", "FOOD_PRODUCER",
              "PROPERTY_MANAGEMENT"]
RISKS = ["LOW", "MEDIUM", "LOW", "HIGH", "LOW", "MEDIUM", "VERY_HIGH", "LOW"]
IMPORT_ROWS = 20_000  # mobile_enforcement's most rows per import
HEADER = "uscc,name,category,address,street,risk_level,key_supervision,industry_code\n"
# Every so many businesses one of no key object type (a petrol station, a hotel running lifts...):
# the directory holds the whole market, by industry code.
NO_KEY_TYPE_EVERY = 8
PARALLEL = 16
# How long the events of a new district may take to reach every service: a base, and more per
# office (each office's events pass every consumer and move the live index of all offices).
SETTLE_SECONDS = 120.0
SETTLE_SECONDS_PER_OFFICE = 1.0
PROGRESS_SECONDS = 30.0
PUBLISHED = "supervision_events_published_total"
# The relay counts events by their message's short name (the routing key).
OFFICER_REGISTERED = cc_events.OfficerRegistered.DESCRIPTOR.name


def office_id(number: int) -> str:
    return f"SIM{number:04d}"


async def _batched(calls: Iterable[Callable[[], Awaitable]]) -> None:
    """At most PARALLEL requests in flight (a gRPC call starts when the stub is called, not when it
    is awaited, so each is made only when its batch runs): a bootstrap is no flood."""
    pending = list(calls)
    for start in range(0, len(pending), PARALLEL):
        await asyncio.gather(*(call() for call in pending[start:start + PARALLEL]))


async def bootstrap(clients: Clients, offices: int, businesses_per_office: int = 24, seed: int = 1,
                    settle: float | None = None) -> None:
    """`settle`: how long the events may take to reach every service (default: grows with the district)."""
    rng = random.Random(seed)
    timeout = clients.timeout
    today = shanghai_today()
    expires = today + dt.timedelta(days=730)
    numbers = range(1, offices + 1)
    office_stub = clients.stub("command_center", cc_grpc.OfficeServiceStub)
    officer_stub = clients.stub("command_center", cc_grpc.OfficerServiceStub)
    started = time.monotonic()
    settle = settle or SETTLE_SECONDS + SETTLE_SECONDS_PER_OFFICE * offices
    officers_before = await published(clients, "command_center", OFFICER_REGISTERED)
    await _batched(partial(office_stub.CreateOffice, cc.CreateOfficeRequest(
        request_id=f"bootstrap-office-{office_id(n)}",
        office=cc.Office(id=office_id(n), name=f"模拟{n}号市场监督管理所", district="闵行区", streets=[_street(n)])),
        timeout=timeout) for n in numbers)
    # Two officers per group, all certified: an office able to staff every team.
    await _batched(partial(officer_stub.RegisterOfficer, cc.RegisterOfficerRequest(
        request_id=f"bootstrap-officer-{office_id(n)}-{seat}",
        officer=cc.Officer(id=f"{office_id(n)}-{seat + 1:02d}", name=content.person_name(rng), office_id=office_id(n),
                           group=GROUPS[seat % 4], certificate_no=f"SIM{n:04d}{seat:02d}",
                           certificate_expires=_date(expires))), timeout=timeout)
        for n in numbers for seat in range(8))
    await wait_until_known(clients, {office_id(n) for n in numbers}, settle)
    if officers_before is not None:
        await wait_until_published(clients, "command_center", OFFICER_REGISTERED, officers_before + 8 * offices,
                                   settle)
    else:
        log.info("no event counters in the center's /metrics (not a monolith, or not on --metrics?): "
                 "waiting 5 s for the officers")
        await asyncio.sleep(5)
    if "facilities" in clients.present:
        stub = clients.stub("facilities", fa_grpc.EquipmentServiceStub)
        calibrated = _date(today - dt.timedelta(days=30))
        await _batched(partial(stub.RegisterEquipment, fa.RegisterEquipmentRequest(
            request_id=f"bootstrap-reader-{office_id(n)}-{category}",
            equipment=fa.Equipment(office_id=office_id(n), category=category, model="多功能食品安全检测仪 FS-2000",
                                   serial_no=f"{office_id(n)}-{category}-1", last_calibrated_on=calibrated)),
            timeout=timeout) for n in numbers for category in ("rapid_test_reader", "pesticide_reader"))
    if "mobile_enforcement" in clients.present and businesses_per_office:
        stub = clients.stub("mobile_enforcement", me_grpc.EntityServiceStub)
        rows = [row for n in numbers for row in _businesses(n, businesses_per_office)]
        for start in range(0, len(rows), IMPORT_ROWS):
            csv = HEADER + "".join(rows[start:start + IMPORT_ROWS])
            answer = await stub.ImportEntities(me.ImportEntitiesRequest(
                request_id=f"bootstrap-entities-{offices}x{businesses_per_office}-{start}",
                content=csv.encode("utf-8")), timeout=600)
            if answer.rejected_rows:
                raise RuntimeError(f"bootstrap: mobile_enforcement refused rows: {answer.rejected_rows[:3]}")
    log.info("bootstrapped %d offices in %.1f s", offices, time.monotonic() - started)


async def wait_until_known(clients: Clients, offices: set[str], settle: float) -> None:
    """Until every service answering lists the offices among its indicators (each service lists
    every office it knows)."""
    started = time.monotonic()
    said = started
    waiting = [name for name in SERVICES if name in clients.present and name != "gateway"]
    while waiting:
        missing = {}
        for name in waiting:
            answer = await clients.stub(name, indicators_pb2_grpc.IndicatorSourceStub).ListIndicators(
                indicators_pb2.ListIndicatorsRequest(), timeout=clients.timeout)
            unknown = len(offices - {value.office_id for value in answer.indicators})
            if unknown:
                missing[name] = unknown
        waiting = list(missing)
        now = time.monotonic()
        if waiting and now - started > settle:
            raise RuntimeError(f"bootstrap: {', '.join(waiting)} did not learn the new offices within {settle:.0f} s")
        if waiting and now - said > PROGRESS_SECONDS:
            said = now
            log.info("waiting for the services to learn the offices: %s",
                     ", ".join(f"{name} {len(offices) - n}/{len(offices)}" for name, n in missing.items()))
        if waiting:
            await asyncio.sleep(0.5)


async def published(clients: Clients, service: str, event_type: str) -> float | None:
    """How many events of a type the service published, from the center's /metrics (METRICS_PORT, the
    whole process in monolithic mode); None when the counter is not there."""
    text = await clients.metrics_text()
    if text is None or PUBLISHED not in text:
        return None
    # A process that never published the type has no line for it yet: zero.
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(PUBLISHED + "{") and f'service="{service}"' in line
               and f'event_type="{event_type}"' in line)


async def wait_until_published(clients: Clients, service: str, event_type: str, at_least: float,
                               settle: float) -> None:
    started = time.monotonic()
    said = started
    while (count := await published(clients, service, event_type) or 0.0) < at_least:
        now = time.monotonic()
        if now - started > settle:
            raise RuntimeError(f"bootstrap: {event_type} events not delivered within {settle:.0f} s "
                               f"({count:.0f} of {at_least:.0f})")
        if now - said > PROGRESS_SECONDS:
            said = now
            log.info("waiting for %s events to be delivered: %.0f of %.0f", event_type, count, at_least)
        await asyncio.sleep(0.5)


def _street(number: int) -> str:
    return f"模拟{number}号街道"


def _date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _businesses(number: int, count: int) -> list[str]:
    rows = []
    street = _street(number)
    for k in range(count):
        first_17 = f"91{content.MINHANG}{number:04d}{k:05d}"
        category = CATEGORIES[k % len(CATEGORIES)]
        key = "true" if category in ("HYPERMARKET", "WET_MARKET", "FOOD_PRODUCER") else "false"
        industry_code, name = "", f"模拟{number}号{category.lower()}{k}"
        if k % NO_KEY_TYPE_EVERY == NO_KEY_TYPE_EVERY - 1:
            trade = TRADES[k // NO_KEY_TYPE_EVERY % len(TRADES)]
            category, industry_code, key, name = "", trade.industry_code, "false", f"模拟{number}号{trade.label}{k}"
        rows.append(f"{first_17 + content.uscc_check_character(first_17)},{name},"
                    f"{category},闵行区{street}{k + 1}号,{street},{RISKS[k % len(RISKS)]},{key},{industry_code}\n")
    return rows
