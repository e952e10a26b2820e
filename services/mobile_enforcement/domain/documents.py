"""Enforcement documents (执法文书): which document a subject may have at its step, and the use case
that issues it: its content assembled (document_content), rendered by the renderer the service is
built with, numbered in the bureau's format for its kind (document_settings; the Shanghai year of
issue, a sequence per kind and year never given twice), stored and its SHA-256 recorded in the
subject's trail, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from services.common.access import office_scope, require_read, require_write
from services.common.clock import shanghai_date
from services.common.context import Caller
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, Violations
from services.common.idempotency import MAX_REQUEST_ID, earlier_request, run_once
from services.common.paging import ListResult, Page, next_token
from services.mobile_enforcement.domain.cases import Cases, get_case
from services.mobile_enforcement.domain.document_content import (
    DocumentContent,
    Person,
    Sources,
    case_content,
    content_digest,
    digest,
    inspection_content,
)
from services.mobile_enforcement.domain.document_settings import (
    CASE,
    DELIVERY_RECEIPT,
    FILING_APPROVAL,
    HEARING_NOTICE,
    INSPECTION,
    INSPECTION_RECORD,
    KINDS,
    MAX_SUBJECT,
    PDF,
    PENALTY_DECISION,
    PENALTY_NOTICE,
    SUBJECT_KINDS,
    TITLES,
    DocumentSettings,
)
from services.mobile_enforcement.domain.inspections import get_inspection
from services.mobile_enforcement.domain.vocabulary import (
    RECTIFICATION_ORDERED,
)
from services.mobile_enforcement.domain.workspace import Workspace, split_ids, stored
from services.mobile_enforcement.models import (
    Case,
    Document,
    DocumentCounter,
    Entity,
    Finding,
    Inspection,
    Office,
    Officer,
    RequestKey,
)

# ---------------------------------------------------------------- requests and guards


@dataclass(frozen=True)
class DocumentFilter:
    """Which documents a listing shows; None matches any."""

    office_id: str | None = None
    subject: str | None = None
    kind: str | None = None


def parse_subject(subject: str, field_name: str = "subject") -> tuple[str, str]:
    """("inspection" or "case", id) of "inspection/<id>" or "case/<id>"; InvalidArgument otherwise."""
    kind, _, record_id = subject.strip().partition("/")
    if kind not in SUBJECT_KINDS or not record_id or len(subject) > MAX_SUBJECT:
        raise InvalidArgument.of(field_name, "inspection/<id> or case/<id>")
    return kind, record_id


def check_request(subject: str, kind: str, request_id: str = "") -> tuple[str, str]:
    """The subject parsed, with the kind one of its subject's; every violation at once."""
    violations = Violations()
    if len(request_id) > MAX_REQUEST_ID:
        violations.add("request_id", f"at most {MAX_REQUEST_ID} characters")
    parsed: tuple[str, str] | None = None
    try:
        parsed = parse_subject(subject)
    except InvalidArgument as error:
        violations.items.extend(error.violations)
    if kind not in KINDS:
        violations.add("kind", f"must be one of {', '.join(KINDS)}")
    elif parsed is not None and kind not in SUBJECT_KINDS[parsed[0]]:
        violations.add("kind", f"a {parsed[0]} has documents of kinds {', '.join(SUBJECT_KINDS[parsed[0]])}")
    violations.raise_if_any("invalid document request")
    return stored(parsed, "subject")


def check_issuable(kind: str, owner: Inspection | Case) -> None:
    """Refuses a document before the step that makes it (FAILED_PRECONDITION naming the step)."""
    problem = _not_yet(kind, owner)
    if problem:
        what = f"inspection {owner.id}" if isinstance(owner, Inspection) else f"case {owner.id}"
        raise FailedPrecondition(f"no {TITLES[kind]} ({kind}) for {what} yet: {problem}")


def _not_yet(kind: str, owner: Inspection | Case) -> str:
    if isinstance(owner, Inspection):
        if kind == INSPECTION_RECORD:
            return "" if owner.started_at is not None else "the inspection has not started"
        return "" if owner.outcome == RECTIFICATION_ORDERED else "the inspection ordered no rectification"
    if kind == FILING_APPROVAL:
        return "" if owner.filed_on is not None else f"it is {owner.state}, not filed"
    if kind == PENALTY_NOTICE:
        return "" if owner.notified_on is not None else "the advance notice (告知) has not been issued"
    if kind == HEARING_NOTICE:
        return "" if owner.hearing_at is not None and owner.hearing_notified_on is not None \
            else "no hearing has been scheduled"
    # PENALTY_DECISION, DELIVERY_RECEIPT
    if owner.decided_on is None:
        return "it is not decided"
    if owner.simplified:
        return "it was decided on the spot by the simplified procedure, whose decision is handed over there"
    return ""


# ---------------------------------------------------------------- the use case

Renderer = Callable[[DocumentContent], bytes]


@dataclass(frozen=True)
class Draft:
    """A document rendered ahead of its transaction, and the content it was rendered from."""

    content: DocumentContent
    pdf: bytes


def owner_of(session: Session, subject_kind: str, record_id: str, *, lock: bool = False) -> Inspection | Case:
    """The inspection or case a document is of. `lock`: its row is locked first (PostgreSQL), as a
    step of the procedure locks it before appending to its trail, so that an issue and a step of
    the same subject queue up instead of deadlocking on the row and the trail's lock."""
    if not lock:
        return get_inspection(session, record_id) if subject_kind == INSPECTION else get_case(session, record_id)
    owner: Inspection | Case | None = None
    if record_id and subject_kind == INSPECTION:
        owner = session.get(Inspection, record_id, with_for_update=True)
    elif record_id:
        owner = session.get(Case, record_id, with_for_update=True)
    if owner is None:
        raise NotFound(f"{subject_kind} {record_id!r} not found")
    return owner


class Documents:
    """Enforcement documents (执法文书): issued once per subject and kind, numbered, hashed into the trail."""

    def __init__(self, workspace: Workspace, settings: DocumentSettings, render: Renderer) -> None:
        self.workspace = workspace
        self.settings = settings
        self.render = render

    def issue(self, caller: Caller, request_id: str, subject: str, kind: str) -> Document:
        """Issues the subject's document of the kind; a second issue returns the first (same number)."""
        subject_kind, record_id = check_request(subject, kind, request_id)
        draft = self._draft(caller, request_id, subject_kind, record_id, kind)

        def create(session: Session) -> str:
            owner = owner_of(session, subject_kind, record_id, lock=True)
            require_write(caller, owner.office_id)
            key = f"{subject_kind}/{owner.id}"
            existing = session.scalar(select(Document.id).where(Document.subject == key, Document.kind == kind,
                                                                Document.signed_copy_of.is_(None)))
            if existing is not None:
                return existing
            check_issuable(kind, owner)
            return self._issue_in(session, caller, key, kind, owner, draft).id

        return run_once(self.workspace.store, RequestKey, request_id, "IssueDocument", create, get_document)

    def _draft(self, caller: Caller, request_id: str, subject_kind: str, record_id: str, kind: str) -> Draft | None:
        """The document as it would be issued now, with the number it would most likely get, rendered
        before the write transaction: a render takes a tenth of a second or more, and inside the
        transaction it would hold SQLite's only writer (and PostgreSQL's counter row) that long. None
        when there is nothing to render (a retry, a document already issued); refusals are raised."""
        with self.workspace.store.read() as session:
            if request_id and earlier_request(session, RequestKey, request_id) is not None:
                return None
            owner = owner_of(session, subject_kind, record_id)
            require_write(caller, owner.office_id)
            if session.scalar(select(Document.id).where(Document.subject == f"{subject_kind}/{owner.id}",
                                                        Document.kind == kind,
                                                        Document.signed_copy_of.is_(None))) is not None:
                return None
            check_issuable(kind, owner)
            today = self.workspace.today()
            last = session.scalar(select(DocumentCounter.last).where(DocumentCounter.kind == kind,
                                                                     DocumentCounter.year == today.year))
            content = self._content(session, kind, owner, (last or 0) + 1, today)
        return Draft(content, self.render(content))

    def _content(self, session: Session, kind: str, owner: Inspection | Case, sequence: int,
                 today: dt.date) -> DocumentContent:
        number = self.settings.number(kind, today.year, sequence)
        sources = self._sources(session, kind, owner)
        if isinstance(owner, Inspection):
            return inspection_content(kind, owner, number, today, self.settings, sources)
        return case_content(kind, owner, number, today, self.settings, sources)

    def _issue_in(self, session: Session, caller: Caller, subject: str, kind: str, owner: Inspection | Case,
                  draft: Draft | None) -> Document:
        today = self.workspace.today()
        sequence = _next_sequence(session, kind, today.year)
        content = self._content(session, kind, owner, sequence, today)
        # The draft is used when it says exactly what the document says now; otherwise (another
        # document took the number, the case moved on in between) it is rendered again here, so the
        # number, the PDF, its hash and the trail record still commit together or not at all.
        pdf = draft.pdf if draft is not None and draft.content == content else self.render(content)
        document = Document(id=str(uuid.uuid4()), subject=subject, kind=kind, office_id=owner.office_id,
                            number=content.number, year=today.year, sequence=sequence, sha256=digest(pdf),
                            content_type=PDF, size_bytes=len(pdf), content=pdf, issued_by=caller.subject,
                            created_at=self.workspace.now(), content_digest=content_digest(content))
        session.add(document)
        session.flush()
        # The owner's trail head moves with the record (its only column a document writes), so the
        # trail still verifies to the end.
        owner.trail_head = self.workspace.record(
            session, subject, "document issued", caller.subject, state=owner.state, document_id=document.id,
            kind=kind, title=content.title, number=content.number, sha256=document.sha256,
            size_bytes=document.size_bytes)
        return document

    def stated(self, session: Session, document: Document, owner: Inspection | Case) -> DocumentContent:
        """What `document` would state if it were issued again now: its own number and day of issue,
        the subject's records as they stand."""
        issued_on = shanghai_date(document.created_at)
        sources = self._sources(session, document.kind, owner)
        if isinstance(owner, Inspection):
            return inspection_content(document.kind, owner, document.number, issued_on, self.settings, sources)
        return case_content(document.kind, owner, document.number, issued_on, self.settings, sources)

    def _sources(self, session: Session, kind: str, owner: Inspection | Case) -> Sources:
        office = session.get(Office, owner.office_id)
        office_name = office.name if office is not None else owner.office_id
        if isinstance(owner, Inspection):
            officer_ids = split_ids(owner.inspector_ids)
        else:
            officer_ids = [*split_ids(owner.officer_ids), *([owner.hearing_host_id] if owner.hearing_host_id else [])]
        officers = {o.id: Person(o.name, o.certificate_no)
                    for o in session.scalars(select(Officer).where(Officer.id.in_(officer_ids)))}
        if isinstance(owner, Inspection):
            entity = session.get(Entity, owner.entity_id)
            findings = tuple(session.scalars(select(Finding).where(Finding.inspection_id == owner.id)
                                             .order_by(Finding.item_code)))
            checklist = (self.workspace.catalog.version(owner.checklist_category, owner.checklist_version)
                         if owner.checklist_version else None)
            return Sources(office_name, officers, entity=entity, findings=findings, checklist=checklist)
        # The payment term and the surcharge of the rule set in force on the decision's day (the
        # delivery, which starts the term, follows within days); before it, the case's own.
        rules = (self.workspace.rules.in_force(owner.decided_on) if owner.decided_on is not None
                 else self.workspace.rules.get(owner.rule_set))
        # The same last day the procedure enforces.
        hearing_due = Cases(self.workspace).hearing_request_due(owner)
        decision_number = ""
        if kind == DELIVERY_RECEIPT:
            decision_number = session.scalar(select(Document.number).where(
                Document.subject == f"{CASE}/{owner.id}", Document.kind == PENALTY_DECISION,
                Document.signed_copy_of.is_(None))) or ""
        return Sources(office_name, officers, rules=rules, hearing_request_due=hearing_due,
                       decision_number=decision_number)

    # ------------------------------------------------------------------ reads

    def get(self, caller: Caller, document_id: str) -> Document:
        """A document's record (without its bytes), to a caller who may read its office."""
        with self.workspace.store.read() as session:
            document = get_document(session, document_id)
        require_read(caller, document.office_id)
        return document

    def content(self, caller: Caller, document_id: str) -> Document:
        """A document with its PDF, to a caller who may read its office."""
        with self.workspace.store.read() as session:
            document = get_document(session, document_id, with_content=True)
        require_read(caller, document.office_id)
        return document

    def list(self, caller: Caller, page: Page, where: DocumentFilter) -> ListResult[Document]:
        """A page of the documents the caller may read, by id."""
        scope = office_scope(caller, where.office_id)
        query = select(Document).where(Document.id > page.after).order_by(Document.id).limit(page.size)
        if scope:
            query = query.where(Document.office_id == scope)
        if where.subject:
            subject_kind, record_id = parse_subject(where.subject, "filter")
            query = query.where(Document.subject == f"{subject_kind}/{record_id}")
        if where.kind:
            query = query.where(Document.kind == where.kind)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].id if rows else None, len(rows), page))


def get_document(session: Session, document_id: str, *, with_content: bool = False) -> Document:
    """A document by id; NOT_FOUND when unknown."""
    query = select(Document).where(Document.id == document_id)
    if with_content:
        query = query.options(undefer(Document.content))
    document = session.scalar(query) if document_id else None
    if document is None:
        raise NotFound(f"document {document_id!r} not found")
    return document


def _next_sequence(session: Session, kind: str, year: int) -> int:
    """The kind's next number in the year. The counter row is locked until the transaction ends
    (PostgreSQL; SQLite's writer holds the database), so no two documents share a number; a
    first row inserted twice at once fails one transaction, which run_once retries."""
    counter = session.scalar(select(DocumentCounter).where(DocumentCounter.kind == kind, DocumentCounter.year == year)
                             .with_for_update())
    if counter is None:
        counter = DocumentCounter(kind=kind, year=year, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return counter.last
