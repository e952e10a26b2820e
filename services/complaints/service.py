"""complaints wired together: the runtime every host (monolith, API, worker, tests) runs."""

from __future__ import annotations

from pathlib import Path

from services.common import retention
from services.common.calendar_reload import LiveCalendar
from services.common.clock import shanghai_today
from services.common.config import Settings
from services.common.db import Store, utcnow
from services.common.demo import DemoOutcome
from services.common.indicators import IndicatorRefresher
from services.common.runtime import Registration, ServiceRuntime
from services.complaints import indicators
from services.complaints.domain.complaints import Complaints
from services.complaints.domain.directory import Directory
from services.complaints.domain.provisional import PublishedClocks
from services.complaints.domain.public_status import PublicStatusLookup
from services.complaints.domain.report_rewards import ReportRewards
from services.complaints.domain.rules import RuleBook
from services.complaints.domain.statistics import Statistics
from services.complaints.domain.sweep import DeadlineSweep
from services.complaints.domain.workspace import Workspace
from services.complaints.handlers import Handlers
from services.complaints.models import AppliedVersion, DeadLetter, Inbox, IndicatorSnapshot, Outbox

NAME = "complaints"
GRPC_SERVICES = [
    "supervision.complaints.v1.ComplaintService",
    "supervision.common.v1.IndicatorSource",
]


def build(settings: Settings, store: Store, *, today=shanghai_today, now=utcnow) -> ServiceRuntime:
    clocks = PublishedClocks(RuleBook.load(), LiveCalendar(settings.working_calendar_file or None))
    workspace = Workspace(store, clocks, today, now)
    complaints, sweep = Complaints(workspace), DeadlineSweep(workspace)
    handlers = Handlers(Directory(workspace), sweep, ReportRewards(workspace))
    refresher = IndicatorRefresher(NAME, store, IndicatorSnapshot, workspace.events, indicators.compute, now=now)

    def registrations() -> list[Registration]:
        from services.common.indicator_source import IndicatorSourceServicer
        from services.complaints import api
        from supervision.common.v1 import indicators_pb2_grpc
        from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc

        return [
            (pb_grpc.add_ComplaintServiceServicer_to_server,
             api.ComplaintApi(complaints, Statistics(workspace), PublicStatusLookup(workspace))),
            (indicators_pb2_grpc.add_IndicatorSourceServicer_to_server,
             IndicatorSourceServicer(store, IndicatorSnapshot)),
        ]

    def seed_demo() -> DemoOutcome:
        from services.complaints.demo import load_demo

        return load_demo(workspace, complaints, sweep)

    return ServiceRuntime(
        name=NAME, store=store, outbox_model=Outbox, inbox_model=Inbox, version_model=AppliedVersion,
        dead_letter_model=DeadLetter,
        migrations_dir=Path(__file__).with_name("migrations"), grpc_registrations=registrations,
        grpc_service_names=GRPC_SERVICES, subscriptions=handlers.subscriptions(),
        timers=[*handlers.timers(), retention.timer(NAME, store, settings, Outbox.metadata)],
        seed_demo=seed_demo, indicators=refresher,
    )
