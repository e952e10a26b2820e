"""facilities wired together: the runtime every host (monolith, API, worker, tests) runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import retention
from services.common.clock import shanghai_today
from services.common.config import Settings
from services.common.db import Store, utcnow
from services.common.demo import DemoOutcome
from services.common.hash_chain import Trail, TrailKeys
from services.common.indicators import IndicatorRefresher, Reading
from services.common.runtime import Registration, ServiceRuntime
from services.facilities import indicators
from services.facilities.domain.custody import Custody
from services.facilities.domain.directory import Directory
from services.facilities.domain.equipment import Inventory
from services.facilities.domain.rapid_tests import RapidTests
from services.facilities.domain.reports import Reports
from services.facilities.domain.rooms import Rooms
from services.facilities.domain.standards import Standards
from services.facilities.domain.workspace import Workspace
from services.facilities.handlers import Handlers
from services.facilities.models import (
    AppliedVersion,
    CustodyItem,
    CustodyRecord,
    DeadLetter,
    Inbox,
    IndicatorSnapshot,
    Outbox,
)

NAME = "facilities"
GRPC_SERVICES = [
    "supervision.facilities.v1.RoomService",
    "supervision.facilities.v1.EquipmentService",
    "supervision.facilities.v1.RapidTestService",
    "supervision.facilities.v1.CustodyService",
    "supervision.common.v1.IndicatorSource",
]


def build(settings: Settings, store: Store, *, today=shanghai_today, now=utcnow) -> ServiceRuntime:
    workspace = Workspace(store, Standards.load(), today, now, TrailKeys.from_settings(settings))
    rooms, inventory, rapid_tests = Rooms(workspace), Inventory(workspace), RapidTests(workspace)
    reports, custody = Reports(workspace), Custody(workspace)
    handlers = Handlers(Directory(workspace), inventory, rapid_tests)

    def compute(session: Session, office_ids: list[str] | None) -> dict[str, list[Reading]]:
        # By the standards in force on the day the refresher runs: time alone moves some figures.
        return indicators.compute(session, office_ids, workspace.today(), workspace.standards)

    refresher = IndicatorRefresher(NAME, store, IndicatorSnapshot, workspace.events, compute, now=now)

    def registrations() -> list[Registration]:
        from services.common.indicator_source import IndicatorSourceServicer
        from services.facilities import api
        from supervision.common.v1 import indicators_pb2_grpc
        from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc

        return [
            (pb_grpc.add_RoomServiceServicer_to_server, api.RoomApi(rooms)),
            (pb_grpc.add_EquipmentServiceServicer_to_server, api.EquipmentApi(inventory)),
            (pb_grpc.add_RapidTestServiceServicer_to_server, api.RapidTestApi(rapid_tests, reports)),
            (pb_grpc.add_CustodyServiceServicer_to_server, api.CustodyApi(custody)),
            (indicators_pb2_grpc.add_IndicatorSourceServicer_to_server,
             IndicatorSourceServicer(store, IndicatorSnapshot)),
        ]

    def seed_demo() -> DemoOutcome:
        from services.facilities.demo import load_demo

        return load_demo(workspace, rooms, inventory, rapid_tests, custody)

    return ServiceRuntime(
        name=NAME, store=store, outbox_model=Outbox, inbox_model=Inbox, version_model=AppliedVersion,
        dead_letter_model=DeadLetter,
        migrations_dir=Path(__file__).with_name("migrations"), grpc_registrations=registrations,
        grpc_service_names=GRPC_SERVICES, subscriptions=handlers.subscriptions(),
        timers=[*handlers.timers(), retention.timer(NAME, store, settings, Outbox.metadata)],
        seed_demo=seed_demo, indicators=refresher, trails=[Trail(CustodyRecord, custody_heads)],
        trail_keys=workspace.trail_keys,
    )


def custody_heads(session: Session) -> dict[str, str]:
    """Each custody item's trail head as the item stored it (the chain key is the item's id)."""
    return {item_id: head for item_id, head in session.execute(select(CustodyItem.id, CustodyItem.trail_head))}
