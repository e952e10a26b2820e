"""The monolith with mobile_enforcement after command_center: the demo district's directory, plans,
inspections and cases load from the offices and officers command_center's events delivered."""

from __future__ import annotations

import collections

import grpc
import pytest
from sqlalchemy import func, select

from services.common import contracts, hash_chain
from services.mobile_enforcement.domain.vocabulary import CATEGORIES
from services.mobile_enforcement.models import AuditRecord, Case, Entity, Inspection, Outbox, Plan
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.mobile_enforcement.v1 import events_pb2 as events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc


@pytest.fixture(scope="module")
def district(demo_district):
    return demo_district


def test_the_demo_has_every_type_a_plan_per_office_and_work_in_every_state(district):
    runtime = district.services["mobile_enforcement"].runtime
    with runtime.store.read() as session:
        types = collections.Counter(session.scalars(select(Entity.category)))
        offices = set(session.scalars(select(Entity.office_id)))
        plans = collections.Counter(session.scalars(select(Plan.office_id)))
        inspections = set(session.execute(select(Inspection.state, Inspection.outcome)).all())
        cases = set(session.scalars(select(Case.state)))
        published = collections.Counter(session.scalars(select(Outbox.event_type)))
        overdue = session.scalar(select(func.count()).select_from(Case).where(Case.filing_overdue.is_(True)))
        trails = [hash_chain.verify(session, AuditRecord, f"case/{c.id}", runtime.trail_keys,
                                    expected_head=c.trail_head)
                  for c in session.scalars(select(Case).limit(30))]
    # Every key object type, and the rest of the market ("": no key type, an industry code).
    assert set(types) == {*CATEGORIES, ""} and sum(types.values()) > 2000 and types[""] >= 14 * 18
    assert len(offices) == 14 and len(plans) == 14 and set(plans.values()) == {1}
    assert {("PLANNED", None), ("IN_PROGRESS", None), ("COMPLETED", "COMPLIANT"), ("COMPLETED", "ADVISED"),
            ("COMPLETED", "RECTIFICATION_ORDERED"), ("COMPLETED", "CASE_LEAD")} <= inspections
    assert cases == {"LEAD", "NOT_FILED", "FILED", "INVESTIGATED", "LEGAL_REVIEW", "NOTIFIED", "HEARING", "DECIDED",
                     "DELIVERED", "EXECUTED", "CLOSED"}
    assert overdue and all(published[contracts.type_name(message)] for message in (
        events.CaseOverdue, events.RectificationOverdue, events.PublicationOverdue, events.CaseFiled,
        events.CaseClosed))
    assert all(trail.intact for trail in trails)
    assert runtime.seed_demo().loaded is False  # never over existing data


def test_every_demo_plan_verifies_through_the_api(district):
    channel = grpc.insecure_channel(f"127.0.0.1:{district.services['mobile_enforcement'].server.port}")
    spot_checks = pb_grpc.SpotCheckServiceStub(channel)
    plans = spot_checks.ListPlans(pb.ListPlansRequest()).plans
    assert len(plans) == 14 and all(p.target_count > 0 and p.eligible_inspector_count >= 2 for p in plans)
    assert all(spot_checks.VerifyPlan(pb.VerifyPlanRequest(id=p.id)).matches for p in plans)
    district.services["mobile_enforcement"].settle()
    readings = indicators_pb2_grpc.IndicatorSourceStub(channel).ListIndicators(indicators_pb2.ListIndicatorsRequest())
    assert {r.office_id for r in readings.indicators} == {p.office_id for p in plans}
    assert all(r.has_data for r in readings.indicators if r.key.endswith("spot_check_completion"))
    channel.close()


def test_the_demo_has_one_document_of_each_kind_and_each_verifies_in_its_trail(district):
    """A new user of the demo can download a document of every kind; a document is in its subject's
    trail, which still verifies."""
    channel = grpc.insecure_channel(f"127.0.0.1:{district.services['mobile_enforcement'].server.port}")
    documents = pb_grpc.DocumentServiceStub(channel).ListDocuments(pb.ListDocumentsRequest(page_size=100)).documents
    assert sorted(pb.DocumentKind.Name(d.kind).removeprefix("DOCUMENT_KIND_") for d in documents) == sorted([
        "INSPECTION_RECORD", "RECTIFICATION_ORDER", "FILING_APPROVAL", "PENALTY_NOTICE", "HEARING_NOTICE",
        "PENALTY_DECISION", "DELIVERY_RECEIPT"])
    trails = pb_grpc.AuditTrailServiceStub(channel)
    assert all(trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=d.subject)).intact for d in documents)
    content = pb_grpc.DocumentServiceStub(channel).GetDocumentContent(pb.GetDocumentContentRequest(id=documents[0].id))
    assert content.content.startswith(b"%PDF") and content.document.sha256 == documents[0].sha256
    channel.close()
