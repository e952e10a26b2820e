"""assessment wired together: the runtime every host (monolith, API, worker, tests) runs."""

from __future__ import annotations

import os
from pathlib import Path

from services.assessment import indicators
from services.assessment.domain.improvement import ImprovementPlans
from services.assessment.domain.live_values import LiveValuesCache
from services.assessment.domain.registry import Registry
from services.assessment.domain.schemes import Schemes
from services.assessment.domain.scores import Scores
from services.assessment.domain.staff import StaffAssessments
from services.assessment.domain.stages import Stages
from services.assessment.domain.workspace import Workspace
from services.assessment.handlers import Handlers
from services.assessment.models import AppliedVersion, DeadLetter, Inbox, IndicatorSnapshot, Outbox
from services.assessment.sources import IndicatorSources, parse_timeout, remote_sources
from services.common import retention
from services.common.clock import shanghai_today
from services.common.config import Settings
from services.common.db import Store, utcnow
from services.common.demo import DemoOutcome
from services.common.indicators import IndicatorRefresher
from services.common.runtime import Registration, ServiceRuntime

NAME = "assessment"
GRPC_SERVICES = [
    "supervision.assessment.v1.SchemeService",
    "supervision.assessment.v1.ScoreService",
    "supervision.assessment.v1.ImprovementService",
    "supervision.assessment.v1.StaffAssessmentService",
    "supervision.common.v1.IndicatorSource",
]


def build(settings: Settings, store: Store, *, today=shanghai_today, now=utcnow) -> ServiceRuntime:
    # Read here rather than in Settings: only assessment calls other services' IndicatorSource.
    sources = IndicatorSources(remote_sources(os.environ.get("INDICATOR_SOURCES")),
                               parse_timeout(os.environ.get("INDICATOR_SOURCE_TIMEOUT_SECONDS")))
    live_values = LiveValuesCache(settings.live_score_cache_seconds, sources.addresses)
    workspace = Workspace(store, today)
    schemes = Schemes(workspace)
    scores = Scores(workspace, schemes, sources.fetch, live_values)
    stages = Stages(workspace, schemes)
    plans = ImprovementPlans(workspace)
    staff = StaffAssessments(workspace)
    handlers = Handlers(Registry(workspace), plans)
    refresher = IndicatorRefresher(
        NAME, store, IndicatorSnapshot, workspace.events,
        lambda session, office_ids: indicators.compute(session, office_ids, today()), now=now)

    def registrations() -> list[Registration]:
        from services.assessment import api
        from services.common.indicator_source import IndicatorSourceServicer
        from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
        from supervision.common.v1 import indicators_pb2_grpc

        return [
            (pb_grpc.add_SchemeServiceServicer_to_server, api.SchemeApi(schemes, workspace.catalogue)),
            (pb_grpc.add_ScoreServiceServicer_to_server, api.ScoreApi(scores, workspace.catalogue, stages)),
            (pb_grpc.add_ImprovementServiceServicer_to_server, api.ImprovementApi(plans, workspace.catalogue)),
            (pb_grpc.add_StaffAssessmentServiceServicer_to_server, api.StaffAssessmentApi(staff)),
            (indicators_pb2_grpc.add_IndicatorSourceServicer_to_server,
             IndicatorSourceServicer(store, IndicatorSnapshot)),
        ]

    def seed_demo() -> DemoOutcome:
        from services.assessment.demo import load_demo

        return load_demo(workspace, schemes, scores, plans, staff)

    return ServiceRuntime(
        name=NAME, store=store, outbox_model=Outbox, inbox_model=Inbox, version_model=AppliedVersion,
        dead_letter_model=DeadLetter,
        migrations_dir=Path(__file__).with_name("migrations"), grpc_registrations=registrations,
        grpc_service_names=GRPC_SERVICES, subscriptions=handlers.subscriptions(),
        timers=[*handlers.timers(), retention.timer(NAME, store, settings, Outbox.metadata)],
        seed_demo=seed_demo, indicators=refresher,
    )
