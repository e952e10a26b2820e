"""emergency wired together: the runtime every host (monolith, API, worker, tests) runs."""

from __future__ import annotations

from pathlib import Path

from services.common import retention
from services.common.clock import shanghai_today
from services.common.config import Settings
from services.common.db import Store, utcnow
from services.common.demo import DemoOutcome
from services.common.indicators import IndicatorRefresher
from services.common.runtime import Registration, ServiceRuntime
from services.emergency.domain.emergency import Emergency
from services.emergency.domain.rules import RuleBook
from services.emergency.handlers import Handlers
from services.emergency.models import AppliedVersion, DeadLetter, Inbox, IndicatorSnapshot, Outbox

NAME = "emergency"
MONOLITH_PORT = 50054
GRPC_SERVICES = [
    "supervision.emergency.v1.IncidentService",
    "supervision.common.v1.IndicatorSource",
]


def build(settings: Settings, store: Store, *, today=shanghai_today, now=utcnow) -> ServiceRuntime:
    emergency = Emergency(store, RuleBook.load(), today, now)
    handlers = Handlers(emergency)
    refresher = IndicatorRefresher(NAME, store, IndicatorSnapshot, emergency.events, emergency.compute_indicators,
                                   now=now)

    def registrations() -> list[Registration]:
        from services.common.indicator_source import IndicatorSourceServicer
        from services.emergency import api
        from supervision.common.v1 import indicators_pb2_grpc
        from supervision.emergency.v1 import emergency_pb2_grpc as pb_grpc

        return [
            (pb_grpc.add_IncidentServiceServicer_to_server, api.IncidentApi(emergency)),
            (indicators_pb2_grpc.add_IndicatorSourceServicer_to_server,
             IndicatorSourceServicer(store, IndicatorSnapshot)),
        ]

    def seed_demo() -> DemoOutcome:
        from services.emergency.demo import load_demo

        return load_demo(emergency)

    return ServiceRuntime(
        name=NAME, store=store, outbox_model=Outbox, inbox_model=Inbox, version_model=AppliedVersion,
        dead_letter_model=DeadLetter,
        migrations_dir=Path(__file__).with_name("migrations"), grpc_registrations=registrations,
        grpc_service_names=GRPC_SERVICES, subscriptions=handlers.subscriptions(),
        timers=[*handlers.timers(), retention.timer(NAME, store, settings, Outbox.metadata)],
        seed_demo=seed_demo, indicators=refresher,
    )
