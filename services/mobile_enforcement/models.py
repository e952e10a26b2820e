"""mobile_enforcement's own store: supervised entities, spot-check plans, inspections, penalty cases,
their hash-chained audit trail, and local copies of command_center's offices and officers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import UTCDateTime
from services.common.demo import DemoLoadMixin
from services.common.events import (
    AppliedVersionMixin,
    DeadLetterMixin,
    InboxMixin,
    OutboxMixin,
    RequestKeyMixin,
)
from services.common.hash_chain import HashChainMixin
from services.common.indicators import IndicatorSnapshotMixin
from services.common.leases import LeaseMixin

_HAS_SOURCE_REF = text("source_ref != ''")
_ORIGINAL = text("signed_copy_of IS NULL")


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class AppliedVersion(AppliedVersionMixin, Base):
    pass


class DeadLetter(DeadLetterMixin, Base):
    pass


class Lease(LeaseMixin, Base):
    pass


class DemoLoad(DemoLoadMixin, Base):
    pass


class RequestKey(RequestKeyMixin, Base):
    pass


class IndicatorSnapshot(IndicatorSnapshotMixin, Base):
    pass


class AuditRecord(HashChainMixin, Base):
    """The evidence trail of every inspection and case; chain_key is the record's subject
    ("inspection/<id>", "case/<id>")."""

    __tablename__ = "audit_records"


# ---------------------------------------------------------------- local copies (command_center)


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(50))


class OfficeStreet(Base):
    """The town or subdistrict an office's jurisdiction covers: entities are routed by it."""

    __tablename__ = "office_streets"

    street: Mapped[str] = mapped_column(String(50), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    office_id: Mapped[str] = mapped_column(String(32), index=True)
    group: Mapped[str] = mapped_column(String(32))
    certificate_no: Mapped[str] = mapped_column(String(32))
    certificate_expires: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


# ---------------------------------------------------------------- entities


class Entity(Base):
    __tablename__ = "entities"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # One of the 12 key object types, or "" for an entity of no key type (most of the market).
    category: Mapped[str] = mapped_column(String(32))
    # 国民经济行业分类 (GB/T 4754-2017): division, group or class digits ("5265"); "" when the
    # registration carried none (entities registered before the whole market was held).
    industry_code: Mapped[str] = mapped_column(String(4), default="")
    address: Mapped[str] = mapped_column(String(300))
    street: Mapped[str] = mapped_column(String(50))
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    risk_level: Mapped[str] = mapped_column(String(16))
    key_supervision: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        # The draw reads one tier of one office in code order straight off this index, category
        # included so a plan for some types never touches the table.
        Index("ix_entities_draw", "office_id", "key_supervision", "risk_level", "uscc", "category"),
        Index("ix_entities_office_category", "office_id", "category"),
    )


class ImportReport(Base):
    """The answer to an entity import, kept so that a retry with its request_id gets it again."""

    __tablename__ = "import_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    imported_count: Mapped[int] = mapped_column(Integer)
    # Data rows the file held.
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    # [{"line": 3, "field": "uscc", "description": "..."}, ...]
    rejected_rows: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Conflict(Base):
    """A declared conflict of interest between an officer and an entity (回避)."""

    __tablename__ = "conflicts"

    officer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.uscc"), primary_key=True, index=True)
    reason: Mapped[str] = mapped_column(String(500))
    declared_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- spot checks


class Plan(Base):
    __tablename__ = "spot_check_plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list] = mapped_column(JSON)
    # As asked: one ratio for every tier, or ratios per tier (then ratio_basis_points is 0).
    ratio_basis_points: Mapped[int] = mapped_column(Integer)
    tier_ratios: Mapped[dict] = mapped_column(JSON)
    inspectors_per_target: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(128))
    drawn_on: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    entity_digest: Mapped[str] = mapped_column(String(64))
    officer_digest: Mapped[str] = mapped_column(String(64))
    population_count: Mapped[int] = mapped_column(Integer)
    key_object_count: Mapped[int] = mapped_column(Integer)
    eligible_inspector_count: Mapped[int] = mapped_column(Integer)
    target_count: Mapped[int] = mapped_column(Integer)
    # How the ratio became a number of targets: HALF_UP or CEIL of the whole plan's share, or
    # PER_GROUP_CEIL (each tier rounded up apart) for the plans drawn before that rule.
    rounding: Mapped[str] = mapped_column(String(16), default="PER_GROUP_CEIL")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PlanSnapshot(Base):
    """The canonical text of a directory snapshot a draw used, compressed; published for verification."""

    __tablename__ = "plan_snapshots"

    plan_id: Mapped[str] = mapped_column(ForeignKey("spot_check_plans.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


# ---------------------------------------------------------------- inspections


class Inspection(Base):
    __tablename__ = "inspections"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.uscc"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    source_ref: Mapped[str] = mapped_column(String(64))
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("spot_check_plans.id"), nullable=True)
    plan_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Officer ids joined by ",": a plan's assigned pair, and who actually inspected.
    assigned_officer_ids: Mapped[str] = mapped_column(String(400))
    inspector_ids: Mapped[str] = mapped_column(String(400))
    state: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    location_address: Mapped[str] = mapped_column(String(300))
    checklist_category: Mapped[str] = mapped_column(String(32))
    checklist_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    summary: Mapped[str] = mapped_column(Text)
    # Every failed item carries a note and evidence (inspection_checklist_complete counts these).
    evidence_complete: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    rectification_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    rectification_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rectification_overdue: Mapped[bool] = mapped_column(Boolean)
    lead_case_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    publication_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Counted into a year without a published holiday schedule: counted again when it is loaded.
    # The database's default only: a plan's inspections are inserted in bulk with the columns they
    # set, and a Python-side default would add a parameter those inserts do not give.
    publication_due_provisional: Mapped[bool] = mapped_column(Boolean, server_default=false())
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    publication_overdue: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    trail_head: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_inspections_office_state", "office_id", "state"),
        Index("ix_inspections_plan", "plan_id", "plan_position"),
        # A rapid test or a complaint prompts at most one inspection, whatever the redeliveries.
        Index("ux_inspections_source", "kind", "source_ref", unique=True,
              sqlite_where=_HAS_SOURCE_REF, postgresql_where=_HAS_SOURCE_REF),
    )


class InspectionEvidence(Base):
    """A file of the gateway's attachment store recorded on an inspection (a photo, the party's
    signature, the signed record): its hash, and when and where the phone captured it. Attached once
    per inspection and file; never changed or removed (its trail record holds the same facts)."""

    __tablename__ = "inspection_evidence"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    # 1, 2, ... per inspection: the order attached, which the Inspection lists them in.
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    captured_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_meters: Mapped[float] = mapped_column(Float)
    item_code: Mapped[str] = mapped_column(String(16))
    attached_by: Mapped[str] = mapped_column(String(64))
    attached_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Finding(Base):
    __tablename__ = "inspection_findings"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    result: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    evidence_refs: Mapped[list] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- cases


class Case(Base):
    """A lead and, once filed, the penalty case it became: one aggregate, one id."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    entity_id: Mapped[str | None] = mapped_column(ForeignKey("entities.uscc"), nullable=True, index=True)
    party_name: Mapped[str] = mapped_column(String(200))
    party_uscc: Mapped[str] = mapped_column(String(18))
    party_address: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    rule_set: Mapped[str] = mapped_column(String(64))
    filing_decision_due: Mapped[dt.date] = mapped_column(Date)
    filing_due_provisional: Mapped[bool] = mapped_column(Boolean)
    filing_extended: Mapped[bool] = mapped_column(Boolean)
    filing_overdue: Mapped[bool] = mapped_column(Boolean)
    filing_decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    not_filed_reason: Mapped[str] = mapped_column(Text)
    filed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    officer_ids: Mapped[str] = mapped_column(String(400))
    closing_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    closing_extensions: Mapped[int] = mapped_column(Integer)
    collective_decision_ref: Mapped[str] = mapped_column(String(200))
    closing_overdue: Mapped[bool] = mapped_column(Boolean)
    paused_for: Mapped[str | None] = mapped_column(String(16), nullable=True)
    paused_since: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The first sanction's kind and the fine, kept for the readers that knew one kind and one fine.
    penalty_kind: Mapped[str | None] = mapped_column(String(24), nullable=True)
    party_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fine_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    simplified: Mapped[bool] = mapped_column(Boolean)
    publication_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Counted into a year without a published holiday schedule: counted again when it is loaded.
    publication_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    publication_overdue: Mapped[bool] = mapped_column(Boolean)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    trail_head: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger)

    # The ordinary procedure (migration 0008). Texts and flags have server defaults so that the
    # cases stored before it migrate as cases that never reached these steps.
    # The investigation's conclusion (调查终结); the penalties are JSON lists of sanctions
    # (case_rules.penalty_json / sanctions_json), "[]" for none yet.
    facts: Mapped[str] = mapped_column(Text, default="", server_default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="", server_default="")
    proposed_penalty: Mapped[str] = mapped_column(Text, default="", server_default="")
    sanctions: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    investigated_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # What the rule set in force on the conclusion's day requires of the proposed penalty.
    legal_review_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    collective_discussion_required: Mapped[bool] = mapped_column(Boolean, default=False,
                                                                 server_default=false())
    hearing_eligible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Legal review (法制审核).
    legal_review_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    legal_review_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False,
                                                               server_default=false())
    legal_review_overdue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    legal_reviewed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    legal_reviewer_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    legal_review_opinion: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Collective discussion (集体讨论).
    collective_discussed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    collective_discussion_record: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The advance notice (告知) and the statement and defence (陈述申辩).
    notified_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    statement_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    statement_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    statement: Mapped[str] = mapped_column(Text, default="", server_default="")
    statement_waived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The hearing (听证).
    hearing_requested_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    hearing_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    hearing_place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    hearing_host_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    hearing_notified_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    hearing_held_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    hearing_record: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Delivery (送达) and execution (执行) of the decision.
    delivery_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    delivery_overdue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    delivered_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    delivery_method: Mapped[str] = mapped_column(String(24), default="", server_default="")
    payment_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    payment_overdue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    amount_paid: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    surcharge_paid: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    executed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (
        Index("ix_cases_office_state", "office_id", "state"),
        # One lead per source record: a redelivered report or rapid test opens nothing new.
        Index("ux_cases_source", "source", "source_ref", unique=True,
              sqlite_where=_HAS_SOURCE_REF, postgresql_where=_HAS_SOURCE_REF),
    )


# ---- enforcement documents


class Document(Base):
    """An enforcement document (执法文书) as issued: its number, the PDF and its SHA-256 (also in the
    subject's trail). Issued once per subject and kind; never changed or deleted."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # "inspection/<id>" or "case/<id>": the trail the document's hash is recorded in.
    subject: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    number: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    # Loaded only when the PDF itself is asked for, not by lists and metadata reads.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    issued_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # SHA-256 of what the document states (document_content.content_digest), so that a signed copy
    # is made only of a record that still says what the inspection says; "" for documents issued
    # before it was kept (migration 0013).
    content_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # A signed copy (SignDocument): the original's id, who signed, the signature image's SHA-256 and
    # when; the copy keeps the original's subject, kind and number.
    signed_copy_of: Mapped[str | None] = mapped_column(String(36), nullable=True)
    signer_name: Mapped[str] = mapped_column(String(50), default="", server_default="")
    signature_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        # A second issue of the same kind for the same subject is the first one again (a signed
        # copy shares both with its original).
        Index("ux_documents_subject_kind", "subject", "kind", unique=True,
              sqlite_where=_ORIGINAL, postgresql_where=_ORIGINAL),
        # A number is never given twice, whatever a concurrent issue did.
        Index("ux_documents_number", "kind", "year", "sequence", unique=True,
              sqlite_where=_ORIGINAL, postgresql_where=_ORIGINAL),
        # An original is signed once.
        Index("ux_documents_signed_copy", "signed_copy_of", unique=True),
        Index("ix_documents_office", "office_id", "id"),
    )


class DocumentCounter(Base):
    """The last number given to a kind of document in a year (the bureau's register, 文书编号登记)."""

    __tablename__ = "document_counters"

    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
