"""Plain helpers of the gateway's tests (the API tests' fixtures are in conftest.py). A small
district: real source services (tests.support.host) whose in-process buses also deliver to the
gateway, and the gateway hosted as in production (gRPC, HTTP server, feeder, recorder). A source
not hosted here is a source that is down."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.type import date_pb2

from services.common import migrate
from services.common.bus import InProcessBus
from services.common.clock import shanghai_today
from services.common.config import Settings
from services.common.db import Store
from services.common.sources import SOURCES
from services.gateway import service as gateway_service
from services.gateway.config import GatewayConfig
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.gateway.v1 import gateway_pb2_grpc as pb_grpc
from tests.support import Clock, host

GROUPS = (cc_pb.GROUP_KIND_GENERAL, cc_pb.GROUP_KIND_SUPERVISION, cc_pb.GROUP_KIND_CASE_HANDLING,
          cc_pb.GROUP_KIND_COMPLAINT_HANDLING)
STREETS = {"MH01": "莘庄镇", "MH02": "七宝镇", "MH03": "颛桥镇"}
NAMES = {"MH01": "莘庄市场监督管理所", "MH02": "七宝市场监督管理所", "MH03": "颛桥市场监督管理所"}
# Reconciles only when a test asks for one; heartbeats often, so a stream test never waits long.
GATEWAY_ENV = {"RECONCILE_INTERVAL_SECONDS": "3600", "STREAM_HEARTBEAT_SECONDS": "1",
               "COMPLAINT_FORM_RATE_PER_MINUTE": "30", "COMPLAINT_FORM_BURST": "3"}
DOWN = "127.0.0.1:1"  # nothing listens there
# Debian's Chromium, driven by Playwright (no browser download).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: object

    @property
    def error(self) -> dict:
        return self.body["error"]


def date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


class District:
    def __init__(self, tmp_path: Path, gateway_store_url: str, settings: Settings,
                 services: tuple[str, ...] = ("command_center",), gateway_env: dict[str, str] | None = None):
        self.clock = Clock(today=shanghai_today())
        self.settings = settings
        self.sources = {name: host(name, f"sqlite:///{tmp_path / name}.db", settings, self.clock)
                        for name in services}
        center = self.sources["command_center"]
        for name, running in self.sources.items():
            if name != "command_center":  # every source learns the offices and officers
                center.bus.subscribe(running.runtime.consumer(), running.runtime.subscriptions)
        self.store = Store(gateway_store_url)
        self.runtime = gateway_service.build(settings, self.store, today=self.clock,
                                             config=GatewayConfig.from_env({**GATEWAY_ENV, **(gateway_env or {})}))
        migrate.upgrade("gateway", self.runtime.migrations_dir, self.store.url)
        self.link = Link(self.runtime.consumer())
        for running in self.sources.values():
            running.bus.subscribe(self.link, self.runtime.subscriptions)
        addresses = {name: DOWN for name in SOURCES}
        addresses.update({name: f"127.0.0.1:{r.hosted.server.port}" for name, r in self.sources.items()})
        self.gateway = gateway_service.hosted(self.runtime, settings, InProcessBus(), port=0, host="127.0.0.1",
                                              http_port=0, run_timers=False, sources=addresses)
        self.gateway.start()
        assert self.gateway.parts.feeder.ready.wait(15), "the gateway did not ask its sources"
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.gateway.server.port}")
        self.monitoring = pb_grpc.MonitoringServiceStub(self.channel)
        self.offices = cc_grpc.OfficeServiceStub(center.channel)
        self.officers = cc_grpc.OfficerServiceStub(center.channel)

    @property
    def monitor(self):
        return self.runtime.parts.monitor

    @property
    def port(self) -> int:
        return self.gateway.http_port

    def add_offices(self, office_ids=("MH01", "MH02", "MH03"), *, certified: dict[str, int] | None = None,
                    metadata=None) -> None:
        """Offices with one officer per group; `certified`: how many of the four hold a valid certificate."""
        for office_id in office_ids:
            self.offices.CreateOffice(cc_pb.CreateOfficeRequest(request_id=f"office-{office_id}", office=cc_pb.Office(
                id=office_id, name=NAMES[office_id], district="闵行区", streets=[STREETS[office_id]])),
                metadata=metadata)
            valid = (certified or {}).get(office_id, 4)
            for seat, group in enumerate(GROUPS):
                self.register_officer(office_id, seat + 1, group, valid=seat < valid, metadata=metadata)
        self.settle()

    def register_officer(self, office_id: str, seat: int, group=cc_pb.GROUP_KIND_SUPERVISION, *, valid: bool = True,
                         metadata=None) -> None:
        expires = self.clock.today + dt.timedelta(days=200 if valid else -10)
        self.officers.RegisterOfficer(cc_pb.RegisterOfficerRequest(
            request_id=f"officer-{office_id}-{seat}", officer=cc_pb.Officer(
                id=f"{office_id}-{seat:02d}", name="王伟", office_id=office_id, group=group,
                certificate_no=f"SH{office_id}{seat:02d}", certificate_expires=date(expires))), metadata=metadata)

    def settle(self) -> None:
        """Everything committed is published; the buses apply it (to the gateway too) before this returns."""
        for _ in range(2):  # a source's events can make another source publish
            for running in self.sources.values():
                running.settle()

    def index_of(self, office_id: str) -> float | None:
        return self.monitor.view.offices[office_id].score.index

    def request(self, method: str, path: str, body=None, *, headers: dict[str, str] | None = None,
                token: str = "", raw: bytes | None = None) -> Reply:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kind = response.getheader("Content-Type", "")
            parsed = json.loads(payload) if "json" in kind else payload.decode("utf-8", "replace")
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, parsed)
        finally:
            connection.close()

    def get(self, path: str, **options) -> Reply:
        return self.request("GET", path, **options)

    def stream(self, *, last_event_id: str = "", token: str = "", query: dict[str, str] | None = None) -> SseClient:
        return SseClient(self.port, last_event_id=last_event_id, token=token, query=query)

    def close(self) -> None:
        self.channel.close()
        self.gateway.stop(0.5)
        self.store.dispose()
        for running in self.sources.values():
            running.close()


class Link:
    """The gateway's consumer behind a link the test can break: while `lost`, deliveries vanish
    on the way, as over a broker that lost them (the sources believe them delivered)."""

    def __init__(self, consumer):
        self.consumer = consumer
        self.service = consumer.service
        self.lost = False

    def handle(self, subscription, wire) -> str:
        if self.lost:
            return "lost"
        return self.consumer.handle(subscription, wire)

    def handle_many(self, deliveries) -> list[str]:
        if self.lost:
            return ["lost"] * len(deliveries)
        return self.consumer.handle_many(deliveries)


class SseClient:
    """A reader of /api/v1/stream over a plain HTTP connection."""

    def __init__(self, port: int, *, last_event_id: str = "", token: str = "", query: dict[str, str] | None = None):
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        path = "/api/v1/stream" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()

    def next(self, timeout: float = 10.0) -> tuple[str, str, dict]:
        """The next event as (id, event, data), skipping keep-alive comments."""
        deadline = time.monotonic() + timeout
        event_id, name, data = "", "message", []
        while time.monotonic() < deadline:
            line = self.response.fp.readline().decode("utf-8").rstrip("\n")
            if line.startswith(":") or line.startswith("retry:"):
                continue
            if not line:
                if data:
                    return event_id, name, json.loads("\n".join(data))
                continue
            field, _, value = line.partition(": ")
            if field == "id":
                event_id = value
            elif field == "event":
                name = value
            elif field == "data":
                data.append(value)
        raise AssertionError("no event in time")

    def until(self, event: str, predicate=lambda data: True, timeout: float = 10.0) -> list[tuple[str, str, dict]]:
        """Every event up to and including the first `event` whose data satisfies `predicate`."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            item = self.next(deadline - time.monotonic())
            seen.append(item)
            if item[1] == event and predicate(item[2]):
                return seen
        raise AssertionError(f"no {event} event in time; saw {[(i, e) for i, e, _ in seen]}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.sock.shutdown(2)
        self.connection.close()


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


# ---------------------------------------------------------------- the field app's district

FIELD_USCC = "91310112MA1000001R"


def field_district(base: Path, settings: Settings, metadata=None,
                   gateway_env: dict[str, str] | None = None) -> District:
    """Three offices with command_center, mobile_enforcement and facilities, the attachments under
    `base`; at MH01 a catering entity with a planned routine inspection (`district.inspection_id`)."""
    from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me_pb
    from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc

    running = District(base, f"sqlite:///{base / 'gateway.db'}", settings,
                       services=("command_center", "mobile_enforcement", "facilities"),
                       gateway_env={"ATTACHMENT_DIR": str(base / "attachments"), **(gateway_env or {})})
    running.add_offices(metadata=metadata)
    channel = running.sources["mobile_enforcement"].channel
    running.entities = me_grpc.EntityServiceStub(channel)
    running.inspections = me_grpc.InspectionServiceStub(channel)
    running.entities.RegisterEntity(me_pb.RegisterEntityRequest(entity=me_pb.Entity(
        uscc=FIELD_USCC, name="小杨生煎（莘庄店）", category=me_pb.ENTITY_CATEGORY_CATERING, address="莘松路1号",
        street="莘庄镇", risk_level=me_pb.RISK_LEVEL_LOW)), metadata=metadata)
    running.inspection_id = schedule_inspection(running, metadata)
    return running


def schedule_inspection(district: District, metadata=None) -> str:
    """A new planned routine inspection of the MH01 entity; its id."""
    from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me_pb

    return district.inspections.ScheduleInspection(me_pb.ScheduleInspectionRequest(inspection=me_pb.Inspection(
        entity_id=FIELD_USCC, kind=me_pb.INSPECTION_KIND_ROUTINE)), metadata=metadata).id

