"""Upgrade in place: events written before the contracts were typed, still in a publisher's outbox
when the new code starts, are relayed as they are and applied by the upgraded consumers with the
effect they had before (data captured from the publishers of that time: pre_contract_events.json).
The broker path (such an event already in a queue) is in tests/integration/test_nameko_worker.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from services.assessment.models import Office as AssessmentOffice
from services.assessment.models import Officer as AssessmentOfficer
from services.common.db import utcnow
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from tests.api.complaints.support import ComplaintsClient
from tests.contracts import pre_contract


def left_in_outbox(running, *wires: dict) -> None:
    """The rows as the old EventWriter left them: bare type, the old envelope, not yet sent."""
    outbox = running.runtime.outbox_model
    with running.store.transaction() as session:
        for wire in wires:
            session.add(outbox(event_id=wire["id"], event_type=wire["type"], envelope=wire, created_at=utcnow(),
                               attempts=0))


def parked(running) -> list[tuple[str, str]]:
    model = running.runtime.dead_letter_model
    with running.store.read() as session:
        return [(r.event_type, r.error) for r in session.scalars(select(model))]


def test_an_office_and_its_officer_left_in_the_outbox_are_learned_by_every_consumer(center):
    hosted = center("command_center", "complaints", "assessment")
    office = pre_contract.envelope("command_center", "OfficeRegistered", {
        "id": "MH09", "name": "浦锦所", "district": "闵行区", "streets": ["浦锦街道"]})
    officer = pre_contract.envelope("command_center", "OfficerRegistered", {
        "id": "MH09-01", "name": "王伟", "office_id": "MH09", "group": "GENERAL", "certificate_no": "SH0901",
        "certificate_expires": "2027-06-30"})

    left_in_outbox(hosted["command_center"], office, officer)
    hosted.settle()

    assert ComplaintsClient(hosted["complaints"]).create(street="浦锦街道").office_id == "MH09"
    with hosted["assessment"].store.read() as session:
        assert session.get(AssessmentOffice, "MH09") is not None
        assert session.get(AssessmentOfficer, "MH09-01").office_id == "MH09"
    assert parked(hosted["complaints"]) == parked(hosted["assessment"]) == []
    # A newer office state from the upgraded publisher still supersedes the old-form one.
    cc_grpc.OfficeServiceStub(hosted["command_center"].channel).CreateOffice(cc.CreateOfficeRequest(
        request_id="reg-mh08", office=cc.Office(id="MH08", name="新虹所", district="闵行区", streets=["新虹街道"])))
    hosted.settle()
    assert ComplaintsClient(hosted["complaints"]).create(street="新虹街道").office_id == "MH08"


@pytest.mark.parametrize(("event_type", "data", "kind", "officer", "on_time"), [
    ("TaskCompleted", {"id": "T-OLD-1", "office_id": "MH09", "title": "督办", "source": "bureau", "source_ref": "",
                       "due_date": "2026-08-10", "state": "COMPLETED", "overdue": True, "completed_by": "MH09-01"},
     "EVIDENCE_KIND_TASK", "MH09-01", False),
    ("ComplaintResolved", {"complaint_id": "C-OLD-1", "office_id": "MH09", "kind": "COMPLAINT", "state": "RESOLVED",
                           "outcome": "RESOLVED", "handled_by": "MH09-01", "on_time": True},
     "EVIDENCE_KIND_COMPLAINT", "MH09-01", True),
], ids=["task", "complaint"])
def test_old_form_evidence_credits_the_officer_it_credited_before(center, event_type, data, kind, officer, on_time):
    hosted = center("command_center", "complaints", "assessment")
    left_in_outbox(hosted["command_center"], pre_contract.envelope("command_center", "OfficeRegistered", {
        "id": "MH09", "name": "浦锦所", "district": "闵行区", "streets": ["浦锦街道"]}))
    source = "command_center" if event_type == "TaskCompleted" else "complaints"
    when = dt.datetime.combine(hosted.clock.today, dt.time(2), dt.UTC)
    left_in_outbox(hosted[source], pre_contract.envelope(source, event_type, data, time=when))
    hosted.settle()

    found = pb_grpc.StaffAssessmentServiceStub(hosted["assessment"].channel).ListEvidence(
        pb.ListEvidenceRequest(filter=f'officer_id = "{officer}"')).evidence
    assert [(pb.EvidenceKind.Name(e.kind), e.reference, e.on_time) for e in found] == [
        (kind, data.get("id") or data.get("complaint_id"), on_time)]
    assert parked(hosted["assessment"]) == []


def test_an_old_form_event_that_does_not_fit_its_message_is_parked_not_lost(center):
    hosted = center("command_center", "complaints")
    broken = pre_contract.envelope("command_center", "OfficeRegistered", {"id": "MH09", "streets": "浦锦街道"})

    left_in_outbox(hosted["command_center"], broken)
    hosted.settle()

    assert [event_type for event_type, _ in parked(hosted["complaints"])] == ["OfficeRegistered"]
    assert ComplaintsClient(hosted["complaints"]).create(street="浦锦街道").office_id == "_district_queue"
