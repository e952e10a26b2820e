"""command_center wired together: the runtime every host (monolith, API, worker, tests) runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from services.command_center import indicators
from services.command_center.domain.duty_list import DutyList
from services.command_center.domain.officers import Officers
from services.command_center.domain.offices import Offices
from services.command_center.domain.tasks import Tasks
from services.command_center.domain.workspace import Workspace
from services.command_center.handlers import Handlers
from services.command_center.models import AppliedVersion, DeadLetter, Inbox, IndicatorSnapshot, Outbox
from services.common import retention
from services.common.calendar_reload import LiveCalendar
from services.common.clock import shanghai_today
from services.common.config import Settings
from services.common.db import Store, utcnow
from services.common.demo import DemoOutcome
from services.common.indicators import IndicatorRefresher, Reading
from services.common.runtime import Registration, ServiceRuntime

NAME = "command_center"
GRPC_SERVICES = [
    "supervision.command_center.v1.OfficeService",
    "supervision.command_center.v1.OfficerService",
    "supervision.command_center.v1.DutyListService",
    "supervision.command_center.v1.TaskService",
    "supervision.common.v1.IndicatorSource",
]


def build(settings: Settings, store: Store, *, today=shanghai_today, now=utcnow) -> ServiceRuntime:
    calendar = LiveCalendar(settings.working_calendar_file or None)
    workspace = Workspace(store, today, calendar, now)
    offices, officers, duty_list, tasks = Offices(workspace), Officers(workspace), DutyList(workspace), Tasks(workspace)
    handlers = Handlers(workspace, tasks)

    def compute(session: Session, office_ids: list[str] | None) -> dict[str, list[Reading]]:
        return indicators.compute(session, office_ids, today())

    refresher = IndicatorRefresher(NAME, store, IndicatorSnapshot, workspace.events, compute, now=now)

    def registrations() -> list[Registration]:
        from services.command_center import api
        from services.common.indicator_source import IndicatorSourceServicer
        from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
        from supervision.common.v1 import indicators_pb2_grpc

        return [
            (pb_grpc.add_OfficeServiceServicer_to_server, api.OfficeApi(offices)),
            (pb_grpc.add_OfficerServiceServicer_to_server, api.OfficerApi(officers, workspace)),
            (pb_grpc.add_DutyListServiceServicer_to_server, api.DutyListApi(duty_list)),
            (pb_grpc.add_TaskServiceServicer_to_server, api.TaskApi(tasks)),
            (indicators_pb2_grpc.add_IndicatorSourceServicer_to_server,
             IndicatorSourceServicer(store, IndicatorSnapshot)),
        ]

    def seed_demo() -> DemoOutcome:
        from services.command_center.demo import load_demo

        return load_demo(workspace, offices, officers, duty_list, tasks)

    return ServiceRuntime(
        name=NAME, store=store, outbox_model=Outbox, inbox_model=Inbox, version_model=AppliedVersion,
        dead_letter_model=DeadLetter, migrations_dir=Path(__file__).with_name("migrations"),
        grpc_registrations=registrations,
        grpc_service_names=GRPC_SERVICES, subscriptions=handlers.subscriptions(),
        timers=[*handlers.timers(), retention.timer(NAME, store, settings, Outbox.metadata)],
        seed_demo=seed_demo, indicators=refresher,
        item_counts=lambda session: indicators.item_counts(session, today()),
    )
