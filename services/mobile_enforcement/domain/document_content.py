"""An enforcement document's content as plain data, assembled from the inspection's or the case's
records: the renderer (services/mobile_enforcement/documents/) turns it into a PDF with the
bureau's templates."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from services.common.clock import shanghai_date
from services.mobile_enforcement.domain.case_rules import SanctionInput, case_proposed_penalty, case_sanctions
from services.mobile_enforcement.domain.checklists import Checklist
from services.mobile_enforcement.domain.document_settings import (
    CASE,
    DELIVERY_RECEIPT,
    HEARING_RIGHT_NOTICE_TITLE,
    INSPECTION,
    NO_PENALTY_TITLE,
    PENALTY_DECISION,
    PENALTY_NOTICE,
    RECTIFICATION_ORDER,
    TITLES,
    DocumentSettings,
)
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
from services.mobile_enforcement.domain.workspace import split_ids, stored
from services.mobile_enforcement.models import (
    Case,
    Entity,
    Finding,
    Inspection,
)

RESULT_LABELS = {PASS: "符合", FAIL: "不符合", NOT_APPLICABLE: "不适用"}
SOURCE_LABELS = {SOURCE_INSPECTION: "监督检查", SOURCE_REPORT: "投诉举报", SOURCE_RAPID_TEST: "快检不合格",
                 SOURCE_REFERRAL: "移送"}
PARTY_KIND_LABELS = {"INDIVIDUAL": "自然人", "ORGANISATION": "法人或者其他组织"}
OUTCOME_LABELS = {"COMPLIANT": "未发现问题", "ADVISED": "发现问题，已提出整改建议",
                  RECTIFICATION_ORDERED: "发现问题，责令限期改正", "CASE_LEAD": "发现涉嫌违法行为，已转为案件线索"}


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
    # A signed copy of an inspection record (SignDocument): the party's signature image (PNG), who
    # signed and when, printed under the record; empty on every original.
    signature_png: bytes = b""
    signer_name: str = ""
    signed_at: str = ""

    def unsigned(self) -> DocumentContent:
        """The content without a signature: what the original states."""
        return replace(self, signature_png=b"", signer_name="", signed_at="")


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


def content_digest(content: DocumentContent) -> str:
    """SHA-256 of what a document states, without a signature: a record signed later is compared with
    the one issued by it (a rendered PDF's bytes could not be compared: renderers and fonts change)."""
    return hashlib.sha256(repr(content.unsigned()).encode()).hexdigest()


def digest(content: bytes) -> str:
    """The SHA-256 of a document's bytes, hex, as its trail record and its message carry it."""
    return hashlib.sha256(content).hexdigest()
