"""mobile_enforcement's inspections through a real gRPC server, from scheduling to publication; their trail."""

from __future__ import annotations

import datetime as dt

import grpc
from sqlalchemy import delete, select, update

from services.common.contracts import date_of, timestamp_of
from services.mobile_enforcement.models import AuditRecord
from supervision.common.v1.events_pb2 import StatutoryClock
from supervision.mobile_enforcement.v1 import events_pb2 as events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    TODAY,
    date,
    directory,
    expect_error,
    location,
    plan_request,
    targets_of,
    uscc,
)

PLAN_DUE = TODAY + dt.timedelta(days=30)


def test_a_spot_check_inspection_from_start_to_publication(client):
    directory(client, 10)
    plan = client.spot_checks.DrawPlan(plan_request(ratio_basis_points=1000, tier_ratios=[],
                                                    due_date=date(PLAN_DUE)))
    target = targets_of(client, plan.id)[0]
    others = [o for o in ("MH01-001", "MH01-002", "MH01-003", "MH01-004") if o not in target.inspector_ids]
    found = expect_error(lambda: client.inspections.StartInspection(pb.StartInspectionRequest(
        id=target.inspection_id, officer_ids=others, location=location())), PRECONDITION)
    assert "the draw assigned officer" in found["officer_ids"]
    started = client.inspections.StartInspection(pb.StartInspectionRequest(
        id=target.inspection_id, officer_ids=target.inspector_ids, location=location()))
    assert (started.state, started.checklist_category, started.checklist_version) == (
        pb.INSPECTION_STATE_IN_PROGRESS, pb.ENTITY_CATEGORY_CATERING, 2)
    assert started.unanswered_items[:3] == ["CAT-01", "CAT-02", "CAT-03"] and len(started.unanswered_items) == 12
    recorded = client.answer_all(started, {"CAT-07": ("消毒柜未通电", ["evidence/1.jpg"])})
    assert recorded.unanswered_items == [] and len(recorded.findings) == 12
    corrected = client.inspections.RecordFindings(pb.RecordFindingsRequest(id=started.id, findings=[
        pb.Finding(item_code="CAT-09", result=pb.ITEM_RESULT_NOT_APPLICABLE, note="非集体用餐单位")]))
    assert next(f for f in corrected.findings if f.item_code == "CAT-09").result == pb.ITEM_RESULT_NOT_APPLICABLE
    due = TODAY + dt.timedelta(days=10)
    done = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, summary="消毒设施未正常运转", rectification_due=date(due)))
    # 20 working days after Monday 2 November 2026: Monday 30 November.
    assert (done.outcome, done.publication_due, done.rectification_due) == (
        pb.INSPECTION_OUTCOME_RECTIFICATION_ORDERED, date(dt.date(2026, 11, 30)), date(due))
    [completed] = client.events(events.InspectionCompleted)
    # Evidence of the team's work: who did it, on which day, and the plan's due date as its clock.
    assert completed.message == events.InspectionCompleted(
        inspection_id=done.id, version=done.version, office_id="MH01", entity_id=target.entity_id,
        kind="SPOT_CHECK", plan_id=plan.id, outcome="RECTIFICATION_ORDERED", rectification_due=date_of(due),
        completed_at=timestamp_of(client.clock.now()), publication_due=date_of(dt.date(2026, 11, 30)),
        officer_ids=list(target.inspector_ids), completed_on=date_of(TODAY),
        clocks=[StatutoryClock(clock="due_date", due_date=date_of(PLAN_DUE), met=True)], category="CATERING")
    published = client.inspections.PublishInspectionResult(pb.PublishInspectionResultRequest(id=done.id))
    assert published.HasField("publish_time") and not published.publication_overdue
    confirmed = client.inspections.ConfirmRectification(pb.ConfirmRectificationRequest(id=done.id, note="已整改"))
    assert confirmed.rectification_confirmed
    [result] = client.events(events.InspectionResultPublished)
    assert (result.message.inspection_id, result.message.published_at) == (done.id, timestamp_of(client.clock.now()))
    assert client.readings() == {"spot_check_completion": (1, plan.target_count),
                                 "inspection_checklist_complete": (1, 1), "case_filing_on_time": (0, 0),
                                 "case_closing_on_time": (0, 0), "publication_on_time": (1, 1),
                                 "entities_supervised": (10, 1)}
    trail = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=f"inspection/{done.id}"))
    assert (trail.intact, trail.records_checked) == (True, 6)
    for call in (lambda: client.inspections.PublishInspectionResult(pb.PublishInspectionResultRequest(id=done.id)),
                 lambda: client.inspections.ConfirmRectification(pb.ConfirmRectificationRequest(id=done.id)),
                 lambda: client.inspections.StartInspection(pb.StartInspectionRequest(
                     id=done.id, officer_ids=target.inspector_ids, location=location()))):
        expect_error(call, PRECONDITION)


UNLAWFUL_STARTS = [
    (["MH01-001"], location(), INVALID, "officer_ids"),  # one inspector
    (["MH01-001", "MH01-001"], location(), INVALID, "officer_ids[1]"),
    (["MH01-001", "MH02-001"], location(), INVALID, "officer_ids[1]"),  # another office's officer
    (["MH01-001", "MH01-099"], location(), INVALID, "officer_ids[1]"),
    (["MH01-001", "MH01-004"], location(), PRECONDITION, "officer_ids[1]"),  # certificate expired
    (["MH01-001", "MH01-003"], location(), PRECONDITION, "officer_ids[1]"),  # conflict declared
    (["MH01-001", "MH01-002"], None, INVALID, "location.point"),
    (["MH01-001", "MH01-002"], pb.Location(point={"latitude": 91, "longitude": 121}), INVALID,
     "location.point.latitude"),
]


def test_an_inspection_is_started_by_a_lawful_team_only(client):
    client.entity(1)
    client.officer("MH01-004", expires=TODAY - dt.timedelta(days=1))
    client.spot_checks.DeclareConflict(pb.DeclareConflictRequest(conflict=pb.Conflict(
        officer_id="MH01-003", entity_id=uscc(1), reason="曾在该店任职")))
    planned = client.routine(uscc(1))
    before = client.counts()
    for officers, place, code, field in UNLAWFUL_STARTS:
        request = pb.StartInspectionRequest(id=planned.id, officer_ids=officers, location=place)
        found = expect_error(lambda request=request: client.inspections.StartInspection(request), code)
        assert field in found, officers
    expect_error(lambda: client.inspections.StartInspection(pb.StartInspectionRequest(
        id="nope", officer_ids=["MH01-001", "MH01-002"], location=location())), NOT_FOUND)
    assert client.counts() == before
    assert client.inspections.GetInspection(pb.GetInspectionRequest(id=planned.id)).state == \
        pb.INSPECTION_STATE_PLANNED


def test_completion_needs_every_item_and_an_outcome_the_failures_allow(client):
    client.entity(1)
    started = client.started(uscc(1))
    client.inspections.RecordFindings(pb.RecordFindingsRequest(id=started.id, findings=[
        pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_PASS)]))
    before = client.counts()
    found = expect_error(lambda: client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, outcome=pb.INSPECTION_OUTCOME_COMPLIANT)), PRECONDITION)
    assert "checklist.CAT-02" in found and "checklist.CAT-01" not in found and len(found) == 11
    client.answer_all(client.inspections.GetInspection(pb.GetInspectionRequest(id=started.id)),
                      {"CAT-06": ("冰箱内发现过期牛奶", [])})
    before = client.counts()
    found = expect_error(lambda: client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, outcome=pb.INSPECTION_OUTCOME_RECTIFICATION_ORDERED,
        rectification_due=date(TODAY + dt.timedelta(days=5)))), PRECONDITION)
    assert "CASE_LEAD" in found["outcome"]
    for request, field in [
        (pb.CompleteInspectionRequest(id=started.id, outcome=pb.INSPECTION_OUTCOME_CASE_LEAD,
                                      rectification_due=date(TODAY + dt.timedelta(days=3))), "rectification_due"),
        (pb.CompleteInspectionRequest(id=started.id, outcome=77), "outcome"),
        (pb.CompleteInspectionRequest(id=started.id, summary="x" * 4001), "summary"),
    ]:
        assert field in expect_error(lambda request=request: client.inspections.CompleteInspection(request), INVALID)
    for findings, field in [
        ([], "findings"),
        ([pb.Finding(item_code="HM-01", result=pb.ITEM_RESULT_PASS)], "findings[0].item_code"),
        ([pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_UNSPECIFIED)], "findings[0].result"),
        ([pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_PASS)] * 2, "findings[1].item_code"),
        ([pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_FAIL, evidence_refs=[""])],
         "findings[0].evidence_refs[0]"),
    ]:
        assert field in expect_error(lambda findings=findings: client.inspections.RecordFindings(
            pb.RecordFindingsRequest(id=started.id, findings=findings)), INVALID)
    assert client.counts() == before
    done = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(id=started.id))
    assert done.outcome == pb.INSPECTION_OUTCOME_CASE_LEAD and done.lead_case_id
    lead = client.cases.GetCase(pb.GetCaseRequest(id=done.lead_case_id))
    assert (lead.state, lead.source, lead.source_ref, lead.entity_id) == (
        pb.CASE_STATE_LEAD, pb.LEAD_SOURCE_INSPECTION, done.id, uscc(1))
    assert "CAT-06" in lead.description
    [completed] = client.events(events.InspectionCompleted)
    assert (completed.message.lead_case_id, completed.message.kind, list(completed.message.clocks)) == (
        done.lead_case_id, "ROUTINE", [])  # scheduled without a due date: no clock to meet
    # The failure has a note but no evidence: the record counts as incomplete.
    assert client.readings()["inspection_checklist_complete"] == (0, 1)


def test_scheduling_and_reading_inspections(client):
    client.entity(1)
    scheduled = client.inspections.ScheduleInspection(pb.ScheduleInspectionRequest(
        request_id="s1", inspection=pb.Inspection(entity_id=uscc(1), kind=pb.INSPECTION_KIND_COMPLAINT,
                                                   source_ref="C-1", due_date=date(TODAY))))
    assert (scheduled.state, scheduled.office_id, scheduled.kind) == (
        pb.INSPECTION_STATE_PLANNED, "MH01", pb.INSPECTION_KIND_COMPLAINT)
    listed = client.inspections.ListInspections(pb.ListInspectionsRequest(
        filter="state = PLANNED AND kind = COMPLAINT"))
    assert [i.id for i in listed.inspections] == [scheduled.id]
    before = client.counts()
    for inspection, code, field in [
        (pb.Inspection(entity_id=uscc(1), kind=pb.INSPECTION_KIND_SPOT_CHECK), INVALID, "inspection.kind"),
        (pb.Inspection(entity_id=uscc(1)), INVALID, "inspection.kind"),
        (pb.Inspection(entity_id="", kind=pb.INSPECTION_KIND_ROUTINE), INVALID, "inspection.entity_id"),
        (pb.Inspection(entity_id=uscc(1), kind=pb.INSPECTION_KIND_ROUTINE, due_date=date(TODAY - dt.timedelta(1))),
         INVALID, "inspection.due_date"),
        (pb.Inspection(entity_id=uscc(7), kind=pb.INSPECTION_KIND_ROUTINE), NOT_FOUND, None),
        (pb.Inspection(entity_id=uscc(1), kind=pb.INSPECTION_KIND_COMPLAINT, source_ref="C-1"),
         grpc.StatusCode.ALREADY_EXISTS, None),
    ]:
        found = expect_error(lambda inspection=inspection: client.inspections.ScheduleInspection(
            pb.ScheduleInspectionRequest(inspection=inspection)), code)
        assert field is None or field in found
    assert client.counts() == before
    expect_error(lambda: client.inspections.GetInspection(pb.GetInspectionRequest(id="x")), NOT_FOUND)
    expect_error(lambda: client.inspections.ListInspections(pb.ListInspectionsRequest(filter="state = DONE")), INVALID)
    expect_error(lambda: client.inspections.ConfirmRectification(pb.ConfirmRectificationRequest(
        id=scheduled.id, note="x" * 2001)), INVALID)
    expect_error(lambda: client.inspections.PublishInspectionResult(pb.PublishInspectionResultRequest(
        id=scheduled.id)), PRECONDITION)
    client.clock.advance(days=1)
    client.answer_all(client.inspections.StartInspection(pb.StartInspectionRequest(
        id=scheduled.id, officer_ids=["MH01-002", "MH01-001"], location=location())))
    client.inspections.CompleteInspection(pb.CompleteInspectionRequest(id=scheduled.id))
    [late] = client.events(events.InspectionCompleted)
    assert (list(late.message.officer_ids), late.message.completed_on, list(late.message.clocks)) == (
        ["MH01-002", "MH01-001"], date_of(TODAY + dt.timedelta(days=1)),
        [StatutoryClock(clock="due_date", due_date=date_of(TODAY), met=False)])


# ---------------------------------------------------------------- evidence trail


def test_altering_a_stored_record_is_detected_and_named(client):
    client.entity(1)
    started = client.started(uscc(1))
    client.answer_all(started)
    done = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(id=started.id))
    subject = f"inspection/{done.id}"
    assert client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=subject)).intact
    # Behind the service's back, as someone with access to the database would.
    with client.running.store.engine.begin() as connection:
        record = connection.scalar(select(AuditRecord.record).where(AuditRecord.chain_key == subject,
                                                                    AuditRecord.sequence == 2))
        connection.execute(update(AuditRecord).where(AuditRecord.chain_key == subject, AuditRecord.sequence == 2)
                           .values(record=record.replace('"PASS"', '"FAIL"', 1)))
    broken = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=subject))
    assert (broken.intact, broken.broken_record, broken.problem, broken.records_checked) == (False, 2, "content", 1)
    assert "record 2" in broken.detail
    with client.running.store.engine.begin() as connection:
        connection.execute(update(AuditRecord).where(AuditRecord.chain_key == subject, AuditRecord.sequence == 2)
                           .values(record=record))
        connection.execute(delete(AuditRecord).where(AuditRecord.chain_key == subject, AuditRecord.sequence == 3))
    cut = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=subject))
    assert (cut.intact, cut.problem, cut.broken_record) == (False, "truncated", 3)
    for subject, code in (("", INVALID), ("plan/x", INVALID), ("inspection/", INVALID), ("case/nope", NOT_FOUND)):
        expect_error(lambda subject=subject: client.trails.VerifyAuditTrail(
            pb.VerifyAuditTrailRequest(subject=subject)), code)
