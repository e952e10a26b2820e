"""Enforcement documents (执法文书): which document a subject may have at its step, the bureau's
numbering (a format per kind, the Shanghai year of issue, a sequence per kind and year never given
twice), the document's content assembled from the inspection's or the case's records as plain
data, and the use case that issues it: rendered (by the renderer the service is built with),
numbered, stored and its SHA-256 recorded in the subject's trail, all in one transaction.

Nothing here formats a page: the renderer (services/mobile_enforcement/documents/) turns a
DocumentContent into a PDF with the bureau's templates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from services.common.access import office_scope, require_read, require_write
from services.common.clock import shanghai_date
from services.common.context import Caller
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, Violations
from services.common.idempotency import MAX_REQUEST_ID, earlier_request, run_once
from services.common.paging import ListResult, Page, next_token
from services.common.rulebook import RuleDataError
from services.mobile_enforcement.domain.case_rules import SanctionInput, case_proposed_penalty, case_sanctions
from services.mobile_enforcement.domain.cases import Cases, get_case
from services.mobile_enforcement.domain.checklists import Checklist
from services.mobile_enforcement.domain.inspections import get_inspection
from services.mobile_enforcement.domain.rules import RuleSet
from services.mobile_enforcement.domain.vocabulary import (
    CATEGORIES,
    CONFISCATE_GAINS,
    CONFISCATE_GOODS,
    DELIVERY_METHOD_LABELS,
    FAIL,
    FINE,
    NO_PENALTY,
    NOT_APPLICABLE,
    PASS,
    PENALTY_LABELS,
    RECTIFICATION_ORDERED,
    SOURCE_INSPECTION,
    SOURCE_RAPID_TEST,
    SOURCE_REFERRAL,
    SOURCE_REPORT,
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

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "documents" / "documents.yaml"
PDF = "application/pdf"

INSPECTION_RECORD, RECTIFICATION_ORDER = "INSPECTION_RECORD", "RECTIFICATION_ORDER"
FILING_APPROVAL, PENALTY_NOTICE, HEARING_NOTICE = "FILING_APPROVAL", "PENALTY_NOTICE", "HEARING_NOTICE"
PENALTY_DECISION, DELIVERY_RECEIPT = "PENALTY_DECISION", "DELIVERY_RECEIPT"
KINDS = (INSPECTION_RECORD, RECTIFICATION_ORDER, FILING_APPROVAL, PENALTY_NOTICE, HEARING_NOTICE, PENALTY_DECISION,
         DELIVERY_RECEIPT)
TITLES: dict[str, str] = {
    INSPECTION_RECORD: "现场检查笔录", RECTIFICATION_ORDER: "责令改正通知书", FILING_APPROVAL: "立案审批表",
    PENALTY_NOTICE: "行政处罚告知书", HEARING_NOTICE: "听证通知书", PENALTY_DECISION: "行政处罚决定书",
    DELIVERY_RECEIPT: "送达回证",
}
# A decision to impose no penalty is issued on the same step under its own title.
NO_PENALTY_TITLE = "不予行政处罚决定书"
# The advance notice of a penalty open to a hearing tells the party of that right too, under the
# title the bureaus use for it.
HEARING_RIGHT_NOTICE_TITLE = "行政处罚听证告知书"
INSPECTION, CASE = "inspection", "case"
SUBJECT_KINDS: dict[str, tuple[str, ...]] = {
    INSPECTION: (INSPECTION_RECORD, RECTIFICATION_ORDER),
    CASE: (FILING_APPROVAL, PENALTY_NOTICE, HEARING_NOTICE, PENALTY_DECISION, DELIVERY_RECEIPT),
}
MAX_SUBJECT = 64
RESULT_LABELS = {PASS: "符合", FAIL: "不符合", NOT_APPLICABLE: "不适用"}
SOURCE_LABELS = {SOURCE_INSPECTION: "监督检查", SOURCE_REPORT: "投诉举报", SOURCE_RAPID_TEST: "快检不合格",
                 SOURCE_REFERRAL: "移送"}
PARTY_KIND_LABELS = {"INDIVIDUAL": "自然人", "ORGANISATION": "法人或者其他组织"}
OUTCOME_LABELS = {"COMPLIANT": "未发现问题", "ADVISED": "发现问题，已提出整改建议",
                  RECTIFICATION_ORDERED: "发现问题，责令限期改正", "CASE_LEAD": "发现涉嫌违法行为，已转为案件线索"}


# ---------------------------------------------------------------- the bureau's configuration


@dataclass(frozen=True)
class DocumentSettings:
    """The bureau's document settings (documents.yaml): the issuing authority, the number format of
    each kind, and the figures of the party's rights the documents state."""

    authority: str
    authority_address: str
    formats: Mapping[str, str]
    # Administrative reconsideration (行政复议): within these days, to this body.
    review_days: int
    review_body: str
    # Administrative litigation (行政诉讼): within these months, before this court.
    litigation_months: int
    court: str
    # Where and how a fine is paid.
    payment_instructions: str

    def number(self, kind: str, year: int, sequence: int) -> str:
        """The document's number in the bureau's format for its kind, e.g. 闵市监案处字〔2026〕第12号."""
        return self.formats[kind].format(year=year, n=sequence)


def read_settings(path: Path = SETTINGS_FILE) -> DocumentSettings:
    """The settings file; RuleDataError naming the file and key when one is missing or wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RuleDataError(f"{path.name}: cannot read: {error}") from None
    if not isinstance(raw, dict):
        raise RuleDataError(f"{path.name}: not a mapping of settings")
    texts = ("authority", "authority_address", "review_body", "court", "payment_instructions")
    for key in texts:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RuleDataError(f"{path.name}: {key} must be a non-empty text")
    for key in ("review_days", "litigation_months"):
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 1000:
            raise RuleDataError(f"{path.name}: {key} must be a whole number, 1-1000")
    formats = raw.get("formats")
    if not isinstance(formats, dict):
        raise RuleDataError(f"{path.name}: formats must map each document kind to its number format")
    for kind in KINDS:
        check_format(path.name, kind, formats.get(kind))
    unknown = set(formats) - set(KINDS)
    if unknown:
        raise RuleDataError(f"{path.name}: formats: unknown kinds {', '.join(sorted(map(str, unknown)))}")
    return DocumentSettings(authority=raw["authority"].strip(), authority_address=raw["authority_address"].strip(),
                            formats={k: str(formats[k]) for k in KINDS}, review_days=raw["review_days"],
                            review_body=raw["review_body"].strip(), litigation_months=raw["litigation_months"],
                            court=raw["court"].strip(), payment_instructions=raw["payment_instructions"].strip())


def check_format(file_name: str, kind: str, value: object) -> None:
    """Refuses a number format without both {year} and {n}, or with any other placeholder."""
    if not isinstance(value, str):
        raise RuleDataError(f"{file_name}: formats.{kind} must be a text with {{year}} and {{n}}")
    if "{year}" not in value or "{n}" not in value:
        raise RuleDataError(f"{file_name}: formats.{kind} must contain {{year}} and {{n}}")
    try:
        value.format(year=2026, n=1)
    except (KeyError, IndexError, ValueError):
        raise RuleDataError(f"{file_name}: formats.{kind} may use only {{year}} and {{n}}") from None


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


# ---------------------------------------------------------------- content


@dataclass(frozen=True)
class Person:
    """An officer as a document names them: name and enforcement certificate number."""

    name: str
    certificate_no: str


@dataclass(frozen=True)
class FindingLine:
    """One checklist item of an inspection record: the item, the result and the inspectors' note."""

    code: str
    text: str
    legal_basis: str
    result: str
    note: str


@dataclass(frozen=True)
class DocumentContent:
    """Everything a document states, assembled from the records; the renderer lays it out. Fields a
    kind does not use stay empty."""

    kind: str
    title: str
    number: str
    authority: str
    authority_address: str
    issued_on: dt.date
    subject: str
    party_name: str
    party_uscc: str
    party_address: str
    office_name: str
    officers: tuple[Person, ...] = ()
    # Inspections.
    inspection_kind: str = ""
    category: str = ""
    started_at: str = ""
    completed_at: str = ""
    location: str = ""
    checklist: str = ""
    findings: tuple[FindingLine, ...] = ()
    outcome: str = ""
    summary: str = ""
    rectification_due: dt.date | None = None
    # Cases.
    source: str = ""
    received_on: dt.date | None = None
    description: str = ""
    filed_on: dt.date | None = None
    closing_due: dt.date | None = None
    facts: str = ""
    legal_basis: str = ""
    party_kind: str = ""
    proposed: tuple[str, ...] = ()
    notified_on: dt.date | None = None
    statement_due: dt.date | None = None
    hearing_eligible: bool = False
    hearing_request_due: dt.date | None = None
    hearing_at: str = ""
    hearing_place: str = ""
    hearing_host: Person | None = None
    statement: str = ""
    statement_waived: bool = False
    hearing_held_on: dt.date | None = None
    decided_on: dt.date | None = None
    sanctions: tuple[str, ...] = ()
    no_penalty: bool = False
    fine_total: str = ""
    payment_days: int = 0
    surcharge_percent_per_day: int = 0
    review_days: int = 0
    review_body: str = ""
    litigation_months: int = 0
    court: str = ""
    payment_instructions: str = ""
    # The delivery receipt: which document went to whom, how and when.
    delivered_document: str = ""
    delivered_on: dt.date | None = None
    delivery_method: str = ""
    rule_set: str = ""


def money_text(amount: Decimal) -> str:
    """An amount in yuan as documents write it: 人民币5,000.00元."""
    return f"人民币{amount:,.2f}元"


def sanction_text(sanction: SanctionInput) -> str:
    """One sanction in a document's words, e.g. 罚款人民币5,000.00元 or 责令停产停业30日."""
    label = PENALTY_LABELS.get(sanction.kind, sanction.kind)
    text = label
    if sanction.kind in (FINE, CONFISCATE_GAINS) and sanction.amount_yuan is not None:
        text = f"{label}{money_text(sanction.amount_yuan)}"
    if sanction.detail:
        text += f"：{sanction.detail}"
    if sanction.kind == CONFISCATE_GOODS and sanction.amount_yuan is not None:
        text += f"（估值{money_text(sanction.amount_yuan)}）"
    if sanction.duration_days:
        text += f"，期限{sanction.duration_days}日"
    return text


def sanction_texts(sanctions: list[SanctionInput]) -> tuple[str, ...]:
    """The sanctions of a penalty in a document's words, in the order of the law."""
    return tuple(sanction_text(s) for s in sanctions)


def fine_total(sanctions: list[SanctionInput]) -> Decimal | None:
    """What the party pays: the fine and the gains confiscated (None when neither is decided)."""
    amounts = [s.amount_yuan for s in sanctions if s.kind in (FINE, CONFISCATE_GAINS) and s.amount_yuan]
    return sum(amounts, Decimal(0)) if amounts else None


def local_time(instant: dt.datetime | None) -> str:
    """An instant as a Shanghai document states it, e.g. 2026年11月2日 10时00分."""
    if instant is None:
        return ""
    local = instant.astimezone(dt.timezone(dt.timedelta(hours=8)))
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}时{local.minute:02d}分"


@dataclass(frozen=True)
class Sources:
    """What content assembly reads besides the subject: the office, the officers, the entity, the
    inspection's findings and checklist, the rule set, other documents of the subject."""

    office_name: str
    officers: Mapping[str, Person]
    entity: Entity | None = None
    findings: tuple[Finding, ...] = ()
    checklist: Checklist | None = None
    rules: RuleSet | None = None
    hearing_request_due: dt.date | None = None
    decision_number: str = ""


def inspection_content(kind: str, inspection: Inspection, number: str, issued_on: dt.date,
                       settings: DocumentSettings, sources: Sources) -> DocumentContent:
    """An inspection record or a rectification order, from the inspection and its findings."""
    entity = stored(sources.entity, "the inspected entity")
    checklist = sources.checklist
    lines = []
    for finding in sources.findings:
        item = checklist.item(finding.item_code) if checklist is not None else None
        lines.append(FindingLine(finding.item_code, item.text if item else "", item.legal_basis if item else "",
                                 RESULT_LABELS.get(finding.result, finding.result), finding.note))
    if kind == RECTIFICATION_ORDER:  # the order names what is to be put right only
        lines = [line for line in lines if line.result == RESULT_LABELS[FAIL]]
    return DocumentContent(
        kind=kind, title=TITLES[kind], number=number, authority=settings.authority,
        authority_address=settings.authority_address, issued_on=issued_on, subject=f"{INSPECTION}/{inspection.id}",
        party_name=entity.name, party_uscc=entity.uscc, party_address=entity.address,
        office_name=sources.office_name, officers=_people(sources, split_ids(inspection.inspector_ids)),
        inspection_kind=inspection.kind, category=CATEGORIES.get(entity.category, entity.category),
        started_at=local_time(inspection.started_at), completed_at=local_time(inspection.completed_at),
        location=inspection.location_address,
        checklist=f"{checklist.title}（第{checklist.version}版）" if checklist is not None else "",
        findings=tuple(lines), outcome=OUTCOME_LABELS.get(inspection.outcome or "", ""),
        summary=inspection.summary, rectification_due=inspection.rectification_due)


def case_content(kind: str, case: Case, number: str, issued_on: dt.date, settings: DocumentSettings,
                 sources: Sources) -> DocumentContent:
    """A case's document, from the case as it stands."""
    rules = sources.rules
    decided = case_sanctions(case) if case.decided_on is not None else []
    total = fine_total(decided)
    host = sources.officers.get(case.hearing_host_id) if case.hearing_host_id else None
    proposed = case_proposed_penalty(case)
    title = TITLES[kind]
    no_penalty = bool(decided) and all(s.kind == NO_PENALTY for s in decided)
    if kind == PENALTY_DECISION and no_penalty:
        title = NO_PENALTY_TITLE
    if kind == PENALTY_NOTICE and case.hearing_eligible:
        title = HEARING_RIGHT_NOTICE_TITLE
    delivered_document = ""
    if kind == DELIVERY_RECEIPT:
        decision_title = NO_PENALTY_TITLE if no_penalty else TITLES[PENALTY_DECISION]
        delivered_document = f"《{decision_title}》{sources.decision_number}"
    return DocumentContent(
        kind=kind, title=title, number=number, authority=settings.authority,
        authority_address=settings.authority_address, issued_on=issued_on, subject=f"{CASE}/{case.id}",
        party_name=case.party_name, party_uscc=case.party_uscc, party_address=case.party_address,
        office_name=sources.office_name, officers=_people(sources, split_ids(case.officer_ids)),
        source=SOURCE_LABELS.get(case.source, case.source), received_on=shanghai_date(case.received_at),
        description=case.description, filed_on=case.filed_on, closing_due=case.closing_due, facts=case.facts,
        legal_basis=case.legal_basis, party_kind=PARTY_KIND_LABELS.get(case.party_kind or "", ""),
        proposed=sanction_texts(list(proposed.sanctions) if proposed else []), notified_on=case.notified_on,
        statement_due=case.statement_due, hearing_eligible=case.hearing_eligible,
        hearing_request_due=sources.hearing_request_due if case.hearing_eligible else None,
        hearing_at=local_time(case.hearing_at), hearing_place=case.hearing_place, hearing_host=host,
        statement=case.statement, statement_waived=case.statement_waived, hearing_held_on=case.hearing_held_on,
        decided_on=case.decided_on, sanctions=sanction_texts(decided), no_penalty=no_penalty,
        fine_total=money_text(total) if total is not None else "",
        payment_days=rules.payment_days if rules is not None else 0,
        surcharge_percent_per_day=rules.surcharge_percent_per_day if rules is not None else 0,
        review_days=settings.review_days, review_body=settings.review_body,
        litigation_months=settings.litigation_months, court=settings.court,
        payment_instructions=settings.payment_instructions, delivered_document=delivered_document,
        delivered_on=case.delivered_on, delivery_method=DELIVERY_METHOD_LABELS.get(case.delivery_method, ""),
        rule_set=rules.title if rules is not None else "")


def _people(sources: Sources, officer_ids: list[str]) -> tuple[Person, ...]:
    return tuple(sources.officers.get(officer_id, Person(officer_id, "")) for officer_id in officer_ids)


def digest(content: bytes) -> str:
    """The SHA-256 of a document's bytes, hex, as its trail record and its message carry it."""
    return hashlib.sha256(content).hexdigest()


# ---------------------------------------------------------------- the use case

Renderer = Callable[[DocumentContent], bytes]


@dataclass(frozen=True)
class Draft:
    """A document rendered ahead of its transaction, and the content it was rendered from."""

    content: DocumentContent
    pdf: bytes


def _owner(session: Session, subject_kind: str, record_id: str, *, lock: bool = False) -> Inspection | Case:
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
            owner = _owner(session, subject_kind, record_id, lock=True)
            require_write(caller, owner.office_id)
            key = f"{subject_kind}/{owner.id}"
            existing = session.scalar(select(Document.id).where(Document.subject == key, Document.kind == kind))
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
            owner = _owner(session, subject_kind, record_id)
            require_write(caller, owner.office_id)
            if session.scalar(select(Document.id).where(Document.subject == f"{subject_kind}/{owner.id}",
                                                        Document.kind == kind)) is not None:
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
                            created_at=self.workspace.now())
        session.add(document)
        session.flush()
        # The owner's trail head moves with the record (its only column a document writes), so the
        # trail still verifies to the end.
        owner.trail_head = self.workspace.record(
            session, subject, "document issued", caller.subject, state=owner.state, document_id=document.id,
            kind=kind, title=content.title, number=content.number, sha256=document.sha256,
            size_bytes=document.size_bytes)
        return document

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
                Document.subject == f"{CASE}/{owner.id}", Document.kind == PENALTY_DECISION)) or ""
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

