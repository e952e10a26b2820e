"""mobile_enforcement wired together: the runtime every host (monolith, API, worker, tests) runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import retention
from services.common.calendar_reload import LiveCalendar
from services.common.clock import shanghai_today
from services.common.config import Settings
from services.common.db import Store, utcnow
from services.common.demo import DemoOutcome
from services.common.hash_chain import Trail, TrailKeys
from services.common.indicators import IndicatorRefresher, Reading
from services.common.runtime import Registration, ServiceRuntime
from services.mobile_enforcement import indicators
from services.mobile_enforcement.documents import render_pdf
from services.mobile_enforcement.domain.assignments import Assignments
from services.mobile_enforcement.domain.audit import AuditTrails
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.checklists import Catalog, Checklists
from services.mobile_enforcement.domain.directory import Directory
from services.mobile_enforcement.domain.document_settings import read_settings
from services.mobile_enforcement.domain.documents import Documents
from services.mobile_enforcement.domain.entities import Entities
from services.mobile_enforcement.domain.entity_import import EntityImport
from services.mobile_enforcement.domain.evidence import DEFAULT_MAX_BYTES
from services.mobile_enforcement.domain.inspections import Inspections
from services.mobile_enforcement.domain.provisional import ProvisionalRecount
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.domain.signing import Signing
from services.mobile_enforcement.domain.spot_checks import SpotChecks
from services.mobile_enforcement.domain.sweep import DeadlineSweep
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.handlers import Handlers
from services.mobile_enforcement.models import (
    AppliedVersion,
    AuditRecord,
    Case,
    DeadLetter,
    Inbox,
    IndicatorSnapshot,
    Inspection,
    Outbox,
)

NAME = "mobile_enforcement"
GRPC_SERVICES = [
    "supervision.mobile_enforcement.v1.EntityService",
    "supervision.mobile_enforcement.v1.ChecklistService",
    "supervision.mobile_enforcement.v1.SpotCheckService",
    "supervision.mobile_enforcement.v1.InspectionService",
    "supervision.mobile_enforcement.v1.CaseService",
    "supervision.mobile_enforcement.v1.AuditTrailService",
    "supervision.mobile_enforcement.v1.DocumentService",
    "supervision.common.v1.IndicatorSource",
]


def build(settings: Settings, store: Store, *, today=shanghai_today, now=utcnow) -> ServiceRuntime:
    calendar = LiveCalendar(settings.working_calendar_file or None)
    workspace = Workspace(store, RuleBook.load(), Catalog.load(), calendar, today, now,
                          TrailKeys.from_settings(settings))
    entities, importer, checklists = Entities(workspace), EntityImport(workspace), Checklists(workspace)
    spot_checks, inspections, cases = SpotChecks(workspace), Inspections(workspace), Cases(workspace)
    trails, sweep = AuditTrails(workspace), DeadlineSweep(workspace)
    documents = Documents(workspace, read_settings(), render_pdf)
    assignments, signing = Assignments(workspace, inspections), Signing(documents)
    handlers = Handlers(Directory(workspace), inspections, cases, sweep)

    def compute_indicators(session: Session, office_ids: list[str] | None) -> dict[str, list[Reading]]:
        return indicators.compute(session, office_ids)

    refresher = IndicatorRefresher(NAME, store, IndicatorSnapshot, workspace.events, compute_indicators, now=now)

    def registrations() -> list[Registration]:
        from services.common.indicator_source import IndicatorSourceServicer
        from services.mobile_enforcement import api
        from supervision.common.v1 import indicators_pb2_grpc
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc

        return [
            (pb_grpc.add_EntityServiceServicer_to_server, api.EntityApi(entities, importer)),
            (pb_grpc.add_ChecklistServiceServicer_to_server, api.ChecklistApi(checklists)),
            (pb_grpc.add_SpotCheckServiceServicer_to_server, api.SpotCheckApi(spot_checks)),
            (pb_grpc.add_InspectionServiceServicer_to_server, api.InspectionApi(inspections, assignments,
                                                                                  DEFAULT_MAX_BYTES)),
            (pb_grpc.add_CaseServiceServicer_to_server, api.CaseApi(cases)),
            (pb_grpc.add_AuditTrailServiceServicer_to_server, api.AuditTrailApi(trails)),
            (pb_grpc.add_DocumentServiceServicer_to_server, api.DocumentApi(documents, signing)),
            (indicators_pb2_grpc.add_IndicatorSourceServicer_to_server,
             IndicatorSourceServicer(store, IndicatorSnapshot)),
        ]

    def seed_demo() -> DemoOutcome:
        from services.mobile_enforcement.demo import load_demo

        return load_demo(workspace, importer, spot_checks, inspections, cases, sweep, documents)

    return ServiceRuntime(
        name=NAME, store=store, outbox_model=Outbox, inbox_model=Inbox, version_model=AppliedVersion,
        dead_letter_model=DeadLetter, migrations_dir=Path(__file__).with_name("migrations"),
        grpc_registrations=registrations, grpc_service_names=GRPC_SERVICES, subscriptions=handlers.subscriptions(),
        timers=[*handlers.timers(), ProvisionalRecount(workspace).timer(),
                retention.timer(NAME, store, settings, Outbox.metadata)],
        seed_demo=seed_demo, indicators=refresher,
        trails=[Trail(AuditRecord, audit_heads)], trail_keys=workspace.trail_keys,
    )


def audit_heads(session: Session) -> dict[str, str]:
    """Each inspection's and case's trail head as it stored it, by chain key (inspection/<id>, case/<id>)."""
    heads = {f"inspection/{i}": head for i, head in session.execute(select(Inspection.id, Inspection.trail_head))}
    heads.update({f"case/{i}": head for i, head in session.execute(select(Case.id, Case.trail_head))})
    return heads
