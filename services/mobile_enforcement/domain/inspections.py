"""Inspections: scheduled (by a plan, by hand, by a rapid-test positive), started by a lawful team
at a location, every checklist item answered with notes and evidence, completed with an outcome
at least as severe as the failures call for (a case lead opened when they call for one), results
published within the limit, rectification confirmed. Every step is a record in the inspection's
hash-chained trail."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_read, require_write
from services.common.context import Caller
from services.common.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Violations
from services.common.hash_chain import GENESIS
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.mobile_enforcement.domain import deadlines, evidence, finding_rows, findings, published
from services.mobile_enforcement.domain.case_rules import LeadInput
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.checklists import Checklist
from services.mobile_enforcement.domain.directory import certified_on, check_team, conflicted_officers
from services.mobile_enforcement.domain.entities import get_entity
from services.mobile_enforcement.domain.finding_rows import RecordedFinding
from services.mobile_enforcement.domain.findings import Answered, FindingInput
from services.mobile_enforcement.domain.vocabulary import (
    COMPLETED,
    FAIL,
    GENERAL,
    IN_PROGRESS,
    INSPECTION_KINDS,
    LEAD_OPENED,
    PLANNED,
    RECTIFICATION_ORDERED,
    SOURCE_INSPECTION,
    SPOT_CHECK,
)
from services.mobile_enforcement.domain.workspace import Workspace, join_ids, split_ids, stored, utc_text
from services.mobile_enforcement.models import (
    Case,
    Entity,
    Finding,
    Inspection,
    InspectionEvidence,
    Officer,
    RequestKey,
)

SUBJECT = "inspection/{}"
MAX_SOURCE_REF = 64
MAX_ADDRESS = 300
MAX_NOTE = 2000


@dataclass
class ScheduleInput:
    """An inspection to schedule by hand (routine, complaint, follow-up), before validation."""

    entity_id: str
    kind: str
    source_ref: str
    due_date: dt.date | None


@dataclass(frozen=True)
class LocationInput:
    """Where an inspection takes place, as the officers' device reports it."""

    latitude: float
    longitude: float
    address: str


@dataclass(frozen=True)
class InspectionView:
    """An inspection with its recorded results and the checklist they answer."""

    inspection: Inspection
    # In item code order: the stored rows, or (answering RecordFindings) their values.
    findings: Sequence[Finding | RecordedFinding]
    # The checklist it is recorded against; None until it starts.
    checklist: Checklist | None
    # The files attached on site, in the order attached.
    evidence: list[InspectionEvidence] = field(default_factory=list)

    @property
    def unanswered(self) -> list[str]:
        """The codes of the checklist items without a result yet."""
        return findings.unanswered(self.checklist, _answered(self.findings)) if self.checklist else []


@dataclass(frozen=True)
class InspectionFilter:
    """Which inspections a listing shows; None matches any."""

    office_id: str | None = None
    entity_id: str | None = None
    plan_id: str | None = None
    kind: str | None = None
    state: str | None = None


def get_inspection(session: Session, inspection_id: str) -> Inspection:
    """An inspection by id; NOT_FOUND when unknown."""
    inspection = session.get(Inspection, inspection_id) if inspection_id else None
    if inspection is None:
        raise NotFound(f"inspection {inspection_id!r} not found")
    return inspection


def _findings_of(session: Session, inspection_id: str) -> list[Finding]:
    return list(session.scalars(select(Finding).where(Finding.inspection_id == inspection_id)
                                .order_by(Finding.item_code)))


def _answered(rows: Sequence[Finding | RecordedFinding]) -> list[Answered]:
    return [Answered(r.item_code, r.result, r.note, list(r.evidence_refs)) for r in rows]


def _require(inspection: Inspection, state: str, doing: str) -> None:
    if inspection.state != state:
        raise FailedPrecondition(f"inspection {inspection.id} is {inspection.state}; only a {state} inspection "
                                 f"can be {doing}")


def check_version(inspection: Inspection, expected: int) -> None:
    """Refuses (ABORTED) a change made against another version than the inspection's; 0 expects none."""
    if expected and expected != inspection.version:
        raise Aborted(f"inspection {inspection.id} is at version {inspection.version}, not {expected}: it was "
                      "changed meanwhile; re-read it and retry")


def check_location(location: LocationInput | None) -> LocationInput:
    """The location, when it names a point on Earth and an address of acceptable length."""
    violations = Violations()
    if location is None or (location.latitude == 0 and location.longitude == 0):
        violations.add("location.point", "where the inspection takes place is required")
        raise InvalidArgument(f"invalid location: {violations.items[0].field}: {violations.items[0].description}",
                              violations.items)
    if not -90 <= location.latitude <= 90:
        violations.add("location.point.latitude", "between -90 and 90")
    if not -180 <= location.longitude <= 180:
        violations.add("location.point.longitude", "between -180 and 180")
    if len(location.address) > MAX_ADDRESS:
        violations.add("location.address", f"at most {MAX_ADDRESS} characters")
    violations.raise_if_any("invalid location")
    return location


class Inspections:
    """Inspections (监督检查): scheduling, the work on site, completion, publication, rectification."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        # A completion whose failures call for a case opens the lead in the same transaction.
        self.cases = Cases(workspace)

    # ------------------------------------------------------------------ scheduling

    def schedule(self, caller: Caller, request_id: str, data: ScheduleInput) -> InspectionView:
        """Schedules an inspection of an entity the caller's office supervises (once per request id)."""
        violations = Violations()
        if data.kind not in INSPECTION_KINDS:
            violations.add("inspection.kind", f"must be one of {', '.join(INSPECTION_KINDS)}")
        elif data.kind == SPOT_CHECK:
            violations.add("inspection.kind", "spot checks are scheduled by drawing a plan (SpotCheckService)")
        if not data.entity_id.strip():
            violations.add("inspection.entity_id", "must not be empty")
        if len(data.source_ref) > MAX_SOURCE_REF:
            violations.add("inspection.source_ref", f"at most {MAX_SOURCE_REF} characters")
        if data.due_date is not None and data.due_date < self.workspace.today():
            violations.add("inspection.due_date", f"{data.due_date} is in the past")
        violations.raise_if_any("invalid inspection")

        def create(session: Session) -> str:
            entity = get_entity(session, data.entity_id)
            require_write(caller, entity.office_id)
            if data.source_ref and self._by_source(session, data.kind, data.source_ref) is not None:
                raise AlreadyExists(f"a {data.kind} inspection for {data.source_ref} is already scheduled")
            return self.schedule_in(session, entity, data.kind, data.source_ref.strip(), data.due_date).id

        return run_once(self.workspace.store, RequestKey, request_id, "ScheduleInspection", create, self._view)

    def schedule_in(self, session: Session, entity: Entity, kind: str, source_ref: str,
                    due_date: dt.date | None) -> Inspection:
        """Schedules in the caller's transaction; a source record already inspected returns that inspection."""
        existing = self._by_source(session, kind, source_ref) if source_ref else None
        if existing is not None:
            return existing
        inspection = Inspection(id=str(uuid.uuid4()), office_id=entity.office_id, entity_id=entity.uscc, kind=kind,
                                source_ref=source_ref, assigned_officer_ids="", inspector_ids="", state=PLANNED,
                                due_date=due_date, location_address="", checklist_category="", summary="",
                                rectification_overdue=False, publication_overdue=False,
                                created_at=self.workspace.now(), trail_head=GENESIS, version=1)
        session.add(inspection)
        session.flush()
        return inspection

    @staticmethod
    def _by_source(session: Session, kind: str, source_ref: str) -> Inspection | None:
        return session.scalar(select(Inspection).where(Inspection.kind == kind, Inspection.source_ref == source_ref))

    # ------------------------------------------------------------------ on site

    def start(self, caller: Caller, inspection_id: str, officer_ids: list[str],
              location: LocationInput | None, request_id: str = "", expected_version: int = 0) -> InspectionView:
        """Starts a planned inspection on site, with a lawful team, against the checklist in force
        (once per request id; at expected_version when one is given)."""
        place = check_location(location)

        def change(session: Session, inspection: Inspection, today: dt.date) -> None:
            _require(inspection, PLANNED, "started")
            entity = get_entity(session, inspection.entity_id)
            rules = self.workspace.rules.in_force(today)
            team = check_team(session, inspection.office_id, officer_ids, entity.uscc, today, rules.minimum_officers)
            self._check_assigned(session, inspection, team, today)
            # An entity of no key object type is inspected with the general checklist.
            checklist = self.workspace.catalog.in_force(entity.category or GENERAL, today)
            inspection.state, inspection.inspector_ids = IN_PROGRESS, join_ids(team)
            inspection.latitude, inspection.longitude = place.latitude, place.longitude
            inspection.location_address = place.address.strip()
            inspection.checklist_category, inspection.checklist_version = checklist.category, checklist.version
            inspection.started_at = self.workspace.now()
            self._trail(session, inspection, "started", caller, inspectors=team,
                        location=[place.latitude, place.longitude, inspection.location_address],
                        checklist=f"{checklist.category}/{checklist.version}")

        return self._once(caller, request_id, "StartInspection", inspection_id, expected_version, change)

    def _check_assigned(self, session: Session, inspection: Inspection, team: list[str], today: dt.date) -> None:
        """A spot check is done by the inspectors the draw assigned; only one who can no longer act
        (certificate lapsed, conflict declared since) is replaced."""
        assigned = split_ids(inspection.assigned_officer_ids)
        if not assigned:
            return
        conflicted = conflicted_officers(session, inspection.entity_id, assigned)
        able = [officer_id for officer_id in assigned
                if officer_id not in conflicted and (officer := session.get(Officer, officer_id)) is not None
                and officer.office_id == inspection.office_id and certified_on(officer, today)]
        missing = [officer_id for officer_id in able if officer_id not in team]
        if missing:
            violations = Violations()
            for officer_id in missing:
                violations.add("officer_ids", f"the draw assigned officer {officer_id}, who may act today")
            raise FailedPrecondition(f"inspection {inspection.id} is done by the inspectors the plan drew",
                                     violations.items)

    def record_findings(self, caller: Caller, inspection_id: str, given: list[FindingInput], request_id: str = "",
                        expected_version: int = 0) -> InspectionView:
        """Records (or corrects) results of checklist items of an inspection in progress (once per
        request id; at expected_version when one is given)."""
        if expected_version < 0:
            raise InvalidArgument.of("expected_version", "0 (any) or a version the inspection had")
        written: list[tuple[Session, InspectionView]] = []

        def carry_out(session: Session) -> str:
            view = self._record_findings_in(session, caller, inspection_id, given, expected_version)
            written.append((session, view))
            return view.inspection.id

        def answer(session: Session, resource_id: str) -> InspectionView:
            # The view the write built from the rows it read and wrote; a repeated request (or a second
            # attempt, in another session) reads the inspection as it is now.
            if written and written[-1][0] is session:
                return written[-1][1]
            return self._view(session, resource_id)

        return run_once(self.workspace.store, RequestKey, request_id, "RecordFindings", carry_out, answer)

    def _record_findings_in(self, session: Session, caller: Caller, inspection_id: str, given: list[FindingInput],
                            expected_version: int) -> InspectionView:
        """RecordFindings in the caller's transaction: the checks of a field action (_change_in) on the
        rows finding_rows reads and writes, and the answer built from them instead of read back."""
        connection = session.connection()
        inspection = finding_rows.inspection_row(connection, inspection_id)
        if inspection is None:
            raise NotFound(f"inspection {inspection_id!r} not found")
        require_write(caller, inspection.office_id)
        check_version(inspection, expected_version)
        inspection.version += 1
        _require(inspection, IN_PROGRESS, "recorded")
        checklist = self._checklist(inspection)
        accepted = findings.check_findings(given, checklist)
        # The version is written first, as every other field action does: the inspection's row is
        # locked before the trail's lock, in the same order, so two actions cannot deadlock.
        finding_rows.set_inspection(connection, inspection.id, version=inspection.version)
        attached = finding_rows.evidence_rows(connection, inspection.id)
        evidence.check_references(accepted, {e.sha256 for e in attached})
        recorded = finding_rows.recorded_findings(connection, inspection.id)
        now = self.workspace.now()
        finding_rows.upsert_findings(connection, inspection.id, accepted, caller.subject, now, set(recorded))
        inspection.trail_head = self.workspace.record(
            session, SUBJECT.format(inspection.id), "findings recorded", caller.subject, state=inspection.state,
            findings=[{"item": f.item_code, "result": f.result, "note": f.note, "evidence": f.evidence_refs}
                      for f in accepted])
        finding_rows.set_inspection(connection, inspection.id, trail_head=inspection.trail_head)
        for f in accepted:
            # As the store reads it back: the instant in UTC, the references a list of their own.
            recorded[f.item_code] = RecordedFinding(f.item_code, f.result, f.note, list(f.evidence_refs),
                                                    caller.subject, now.astimezone(dt.UTC))
        # Item codes are [A-Z]{2,4}-NN (checklists._ITEM_CODE): sorted here as the store orders them.
        return InspectionView(inspection, [recorded[code] for code in sorted(recorded)], checklist, attached)

    def complete(self, caller: Caller, inspection_id: str, outcome: str | None, summary: str,
                 rectification_due: dt.date | None, request_id: str = "", expected_version: int = 0) -> InspectionView:
        """Completes an inspection with every item answered, at least the outcome its failures call for
        (once per request id; at expected_version when one is given)."""
        def change(session: Session, inspection: Inspection, today: dt.date) -> None:
            _require(inspection, IN_PROGRESS, "completed")
            checklist = self._checklist(inspection)
            answered = _answered(_findings_of(session, inspection.id))
            final = findings.check_completion(checklist, answered, outcome, rectification_due, summary, today)
            rules = self.workspace.rules.in_force(today)
            inspection.state, inspection.outcome, inspection.summary = COMPLETED, final, summary.strip()
            inspection.completed_at = self.workspace.now()
            inspection.evidence_complete = findings.evidence_complete(answered)
            inspection.rectification_due = rectification_due if final == RECTIFICATION_ORDERED else None
            publication = deadlines.inspection_publication_due(self.workspace.calendar, rules, today)
            inspection.publication_due = publication.date
            inspection.publication_due_provisional = publication.provisional
            if final == LEAD_OPENED:
                inspection.lead_case_id = self._open_lead(session, inspection, checklist, answered, caller).id
            self._trail(session, inspection, "completed", caller, outcome=final, summary=inspection.summary,
                        rectification_due=_iso(inspection.rectification_due), lead_case_id=inspection.lead_case_id,
                        publication_due=inspection.publication_due.isoformat(), rule_set=rules.id)
            self._event(session, inspection, published.inspection_completed(inspection, today))
            self.workspace.touched(session, [inspection.office_id])

        return self._once(caller, request_id, "CompleteInspection", inspection_id, expected_version, change)

    def attach_evidence(self, caller: Caller, request_id: str, inspection_id: str, given: evidence.EvidenceInput,
                        max_bytes: int = evidence.DEFAULT_MAX_BYTES) -> InspectionView:
        """Records a file of the attachment store on the inspection and in its trail (once per request
        id; the same file twice is attached once). The version stays: evidence only adds, so it never
        conflicts with what another officer does to the inspection meanwhile."""
        accepted = evidence.check_evidence(given, self.workspace.now(), max_bytes)

        def attach(session: Session) -> str:
            # Locked as a step locks it, so the trail's appends queue up instead of deadlocking.
            inspection = session.get(Inspection, inspection_id, with_for_update=True) if inspection_id else None
            if inspection is None:
                raise NotFound(f"inspection {inspection_id!r} not found")
            require_write(caller, inspection.office_id)
            checklist = self._checklist(inspection) if inspection.checklist_version else None
            evidence.check_attachable(accepted, inspection.id, inspection.state, inspection.started_at, checklist)
            attached = evidence.evidence_of(session, inspection.id)
            if any(row.sha256 == accepted.sha256 for row in attached):
                return inspection.id
            row = InspectionEvidence(
                inspection_id=inspection.id, sha256=accepted.sha256, position=len(attached) + 1, kind=accepted.kind,
                content_type=accepted.content_type, size_bytes=accepted.size_bytes,
                captured_at=stored(accepted.captured_at, "capture_time"), latitude=accepted.latitude,
                longitude=accepted.longitude, accuracy_meters=accepted.accuracy_meters, item_code=accepted.item_code,
                attached_by=caller.subject, attached_at=self.workspace.now())
            session.add(row)
            position = None if row.latitude is None else [row.latitude, row.longitude, row.accuracy_meters]
            self._trail(session, inspection, "evidence attached", caller, sha256=row.sha256, kind=row.kind,
                        content_type=row.content_type, size_bytes=row.size_bytes,
                        capture_time=utc_text(row.captured_at), position=position, item_code=row.item_code)
            return inspection.id

        return run_once(self.workspace.store, RequestKey, request_id, "AttachEvidence", attach, self._view)

    def _open_lead(self, session: Session, inspection: Inspection, checklist: Checklist, answered: list[Answered],
                   caller: Caller) -> Case:
        failed = [item for a in answered if a.result == FAIL and (item := checklist.item(a.item_code)) is not None]
        description = "；".join(f"{item.code} {item.text}（{item.legal_basis}）" for item in failed)
        return self.cases.open_lead_in(session, LeadInput(
            office_id=inspection.office_id, entity_id=inspection.entity_id, party_name="", party_uscc="",
            party_address="", source=SOURCE_INSPECTION, source_ref=inspection.id,
            description=f"检查发现：{description}"[:4000], received_at=self.workspace.now()), caller)

    def confirm_rectification(self, caller: Caller, inspection_id: str, note: str) -> InspectionView:
        """Confirms that the rectification (整改) an inspection ordered was done."""
        if len(note) > MAX_NOTE:
            raise InvalidArgument.of("note", f"at most {MAX_NOTE} characters")

        def change(session: Session, inspection: Inspection, today: dt.date) -> None:
            _require(inspection, COMPLETED, "confirmed as rectified")
            if inspection.outcome != RECTIFICATION_ORDERED:
                raise FailedPrecondition(f"inspection {inspection.id} ordered no rectification")
            if inspection.rectification_confirmed_at is not None:
                raise FailedPrecondition(f"the rectification of {inspection.id} was already confirmed")
            inspection.rectification_confirmed_at = self.workspace.now()
            self._trail(session, inspection, "rectification confirmed", caller, note=note.strip(),
                        late=today > stored(inspection.rectification_due, "rectification_due"))

        return self._transition(caller, inspection_id, change)

    def publish(self, caller: Caller, inspection_id: str) -> InspectionView:
        """Publishes a completed inspection's result (双随机、一公开)."""
        def change(session: Session, inspection: Inspection, today: dt.date) -> None:
            _require(inspection, COMPLETED, "published")
            if inspection.published_at is not None:
                raise FailedPrecondition(f"the result of {inspection.id} was published on {inspection.published_at}")
            inspection.published_at = self.workspace.now()
            inspection.publication_overdue = (inspection.publication_overdue
                                              or today > stored(inspection.publication_due, "publication_due"))
            self._trail(session, inspection, "result published", caller)
            self._event(session, inspection, published.inspection_result_published(inspection))
            self.workspace.touched(session, [inspection.office_id])

        return self._transition(caller, inspection_id, change)

    # ------------------------------------------------------------------ reads

    def get(self, caller: Caller, inspection_id: str) -> InspectionView:
        """One inspection, to a caller who may read its office."""
        with self.workspace.store.read() as session:
            view = self._view(session, inspection_id)
        require_read(caller, view.inspection.office_id)
        return view

    def list(self, caller: Caller, page: Page, where: InspectionFilter) -> ListResult[InspectionView]:
        """A page of the inspections the caller may read, by id."""
        scope = office_scope(caller, where.office_id)
        query = select(Inspection).where(Inspection.id > page.after).order_by(Inspection.id).limit(page.size)
        for column, value in ((Inspection.office_id, scope), (Inspection.entity_id, where.entity_id),
                              (Inspection.plan_id, where.plan_id), (Inspection.kind, where.kind),
                              (Inspection.state, where.state)):
            if value:
                query = query.where(column == value)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
            views = self.views_of(session, rows)
        return ListResult(views, next_token(rows[-1].id if rows else None, len(rows), page))

    def views_of(self, session: Session, rows: Sequence[Inspection]) -> Sequence[InspectionView]:
        """The views of several inspections, their findings and evidence read in one query each."""
        found: dict[str, list[Finding]] = {row.id: [] for row in rows}
        if found:
            for finding in session.scalars(select(Finding).where(Finding.inspection_id.in_(list(found)))
                                           .order_by(Finding.inspection_id, Finding.item_code)):
                found[finding.inspection_id].append(finding)
        attached = evidence.evidence_by_inspection(session, [row.id for row in rows])
        return [InspectionView(row, found[row.id], self._checklist(row) if row.checklist_version else None,
                               attached[row.id]) for row in rows]

    # ------------------------------------------------------------------ shared

    def _view(self, session: Session, inspection_id: str) -> InspectionView:
        inspection = get_inspection(session, inspection_id)
        checklist = self._checklist(inspection) if inspection.checklist_version else None
        return InspectionView(inspection, _findings_of(session, inspection.id), checklist,
                              evidence.evidence_of(session, inspection.id))

    def _checklist(self, inspection: Inspection) -> Checklist:
        return self.workspace.catalog.version(inspection.checklist_category,
                                              stored(inspection.checklist_version, "checklist_version"))

    def _transition(self, caller: Caller, inspection_id: str,
                    change: Callable[[Session, Inspection, dt.date], None]) -> InspectionView:
        with self.workspace.store.transaction() as session:
            return self._view(session, self._change_in(session, caller, inspection_id, 0, change))

    def _once(self, caller: Caller, request_id: str, method: str, inspection_id: str, expected_version: int,
              change: Callable[[Session, Inspection, dt.date], None]) -> InspectionView:
        """A field action: carried out once per caller and request id (a repeat answers the inspection
        as it is now, before any version is compared), at expected_version when one is given."""
        if expected_version < 0:
            raise InvalidArgument.of("expected_version", "0 (any) or a version the inspection had")

        def carry_out(session: Session) -> str:
            return self._change_in(session, caller, inspection_id, expected_version, change)

        return run_once(self.workspace.store, RequestKey, request_id, method, carry_out, self._view)

    def _change_in(self, session: Session, caller: Caller, inspection_id: str, expected_version: int,
                   change: Callable[[Session, Inspection, dt.date], None]) -> str:
        inspection = get_inspection(session, inspection_id)
        require_write(caller, inspection.office_id)
        check_version(inspection, expected_version)
        inspection.version += 1
        change(session, inspection, self.workspace.today())
        return inspection.id

    def _trail(self, session: Session, inspection: Inspection, action: str, caller: Caller, **details: Any) -> None:
        inspection.trail_head = self.workspace.record(session, SUBJECT.format(inspection.id), action, caller.subject,
                                                      state=inspection.state, **details)

    def _event(self, session: Session, inspection: Inspection, message: Message) -> None:
        self.workspace.events.record(session, message, aggregate_type="inspection", aggregate_id=inspection.id,
                                     version=inspection.version, office_id=inspection.office_id)


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""

