"""emergency wired together: the runtime every host (monolith, API, worker, tests) runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from services.common import retention
from services.common.clock import shanghai_today
from services.common.config import Settings
from services.common.db import Store, utcnow
from services.common.demo import DemoOutcome
from services.common.indicators import IndicatorRefresher, Reading
from services.common.runtime import Registration, ServiceRuntime
from services.emergency import indicators
from services.emergency.domain.directory import Directory
from services.emergency.domain.drills import Drills, yearly_target
from services.emergency.domain.incidents import Incidents
from services.emergency.domain.rules import RuleBook
from services.emergency.domain.workspace import Workspace
from services.emergency.handlers import Handlers
from services.emergency.models import AppliedVersion, DeadLetter, Inbox, IndicatorSnapshot, Outbox

NAME = "emergency"
GRPC_SERVICES = [
    "supervision.emergency.v1.IncidentService",
    "supervision.common.v1.IndicatorSource",
]


def build(settings: Settings, store: Store, *, today=shanghai_today, now=utcnow) -> ServiceRuntime:
    workspace = Workspace(store, RuleBook.load(), today, now)
    incidents, drills = Incidents(workspace), Drills(workspace)
    handlers = Handlers(Directory(workspace), incidents)

    def compute(session: Session, office_ids: list[str] | None) -> dict[str, list[Reading]]:
        day = today()
        return indicators.compute(session, office_ids, day, yearly_target(workspace.book, day))

    refresher = IndicatorRefresher(NAME, store, IndicatorSnapshot, workspace.events, compute, now=now)

    def registrations() -> list[Registration]:
        from services.common.indicator_source import IndicatorSourceServicer
        from services.emergency import api
        from supervision.common.v1 import indicators_pb2_grpc
        from supervision.emergency.v1 import emergency_pb2_grpc as pb_grpc

        return [
            (pb_grpc.add_IncidentServiceServicer_to_server, api.IncidentApi(incidents, drills)),
            (indicators_pb2_grpc.add_IndicatorSourceServicer_to_server,
             IndicatorSourceServicer(store, IndicatorSnapshot)),
        ]

    def seed_demo() -> DemoOutcome:
        from services.emergency.demo import load_demo

        return load_demo(workspace, incidents, drills)

    return ServiceRuntime(
        name=NAME, store=store, outbox_model=Outbox, inbox_model=Inbox, version_model=AppliedVersion,
        dead_letter_model=DeadLetter,
        migrations_dir=Path(__file__).with_name("migrations"), grpc_registrations=registrations,
        grpc_service_names=GRPC_SERVICES, subscriptions=handlers.subscriptions(),
        timers=[*handlers.timers(), retention.timer(NAME, store, settings, Outbox.metadata)],
        seed_demo=seed_demo, indicators=refresher,
    )
