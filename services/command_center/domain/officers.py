"""Officers (执法人员) of an office: the group they work in and their law-enforcement certificate."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.command_center.domain.groups import GROUPS
from services.command_center.domain.offices import bump_registry, check_name, check_version, get_office
from services.command_center.domain.workspace import Workspace
from services.command_center.models import Officer, RequestKey
from services.common.access import office_scope, require_read, require_write
from services.common.context import BUREAU_LEADER, Caller
from services.common.contracts import date_of
from services.common.db import utcnow
from services.common.errors import AlreadyExists, NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from supervision.command_center.v1 import events_pb2 as pb

OFFICER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
CERTIFICATE_NO = re.compile(r"^[A-Za-z0-9-]{4,32}$")
MAX_OFFICER_NAME = 50
UPDATABLE_OFFICER_FIELDS = ("name", "office_id", "group", "certificate_no", "certificate_expires")


@dataclass
class OfficerInput:
    """An officer as a caller describes them: office, group and certificate."""

    id: str
    name: str
    office_id: str
    group: str
    certificate_no: str
    certificate_expires: dt.date | None


def certificate_valid(officer: Officer, today: dt.date) -> bool:
    """Whether the officer holds a law-enforcement certificate (执法证) still valid `today`."""
    return bool(officer.certificate_no) and officer.certificate_expires is not None \
        and officer.certificate_expires >= today


def validate_officer(data: OfficerInput, violations: Violations, *, creating: bool) -> None:
    """Notes everything wrong with an officer's id, name, group, office and certificate."""
    if creating and not OFFICER_ID.match(data.id):
        violations.add("officer.id", "1-32 letters, digits or '-', starting with a letter or digit")
    check_name(violations, "officer.name", data.name, MAX_OFFICER_NAME)
    if data.group not in GROUPS:
        violations.add("officer.group", f"must be one of the four groups: {', '.join(GROUPS)}")
    if data.certificate_no and not CERTIFICATE_NO.match(data.certificate_no):
        violations.add("officer.certificate_no", "4-32 letters, digits or '-'")
    if data.certificate_no and data.certificate_expires is None:
        violations.add("officer.certificate_expires", "required with a certificate number")
    if data.certificate_expires is not None and not data.certificate_no:
        violations.add("officer.certificate_no", "required with an expiry date")
    if not data.office_id:
        violations.add("officer.office_id", "must not be empty")


def register_officer(session: Session, data: OfficerInput) -> Officer:
    """Adds a new officer to an existing office."""
    violations = Violations()
    validate_officer(data, violations, creating=True)
    violations.raise_if_any("invalid officer")
    get_office(session, data.office_id)
    if session.get(Officer, data.id) is not None:
        raise AlreadyExists(f"officer {data.id} already exists")
    now = utcnow()
    officer = Officer(id=data.id, name=data.name.strip(), office_id=data.office_id, group=data.group,
                      certificate_no=data.certificate_no, certificate_expires=data.certificate_expires,
                      created_at=now, updated_at=now, version=1)
    session.add(officer)
    session.flush()
    bump_registry(session)
    return officer


def get_officer(session: Session, officer_id: str) -> Officer:
    """The stored officer, or NotFound."""
    officer = session.get(Officer, officer_id) if officer_id else None
    if officer is None:
        raise NotFound(f"officer {officer_id!r} not found")
    return officer


def update_officer(session: Session, data: OfficerInput, mask: Sequence[str],
                   expected_version: int) -> tuple[Officer, str]:
    """Returns the officer and the office it belonged to before (both offices' figures move)."""
    officer = get_officer(session, data.id)
    previous_office = officer.office_id
    fields = list(mask) or list(UPDATABLE_OFFICER_FIELDS)
    violations = Violations()
    for name in fields:
        if name not in UPDATABLE_OFFICER_FIELDS:
            violations.add("update_mask", f"{name} cannot be updated; allowed: {', '.join(UPDATABLE_OFFICER_FIELDS)}")
    merged = OfficerInput(id=officer.id, **{name: getattr(data if name in fields else officer, name)
                                            for name in UPDATABLE_OFFICER_FIELDS})
    validate_officer(merged, violations, creating=False)
    violations.raise_if_any("invalid officer update")
    get_office(session, merged.office_id)
    check_version(officer.version, expected_version, f"officer {officer.id}")
    for name in UPDATABLE_OFFICER_FIELDS:
        setattr(officer, name, getattr(merged, name))
    officer.name = officer.name.strip()
    officer.updated_at = utcnow()
    officer.version += 1
    bump_registry(session)
    return officer, previous_office


class Officers:
    """The officers of every office: registering them, moving them, renewing their certificates."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def register_officer(self, caller: Caller, request_id: str, data: OfficerInput) -> Officer:
        """Registers an officer with their office, once per request id."""
        require_write(caller, data.office_id or None, district_roles=(BUREAU_LEADER,))

        def create(session: Session) -> str:
            officer = register_officer(session, data)
            self._record(session, pb.OfficerRegistered, officer)
            self.workspace.touched(session, [officer.office_id])
            return officer.id

        return run_once(self.workspace.store, RequestKey, request_id, "RegisterOfficer", create, get_officer)

    def update_officer(self, caller: Caller, data: OfficerInput, mask: Sequence[str],
                       expected_version: int) -> Officer:
        """Changes an officer; a move needs write access to both offices."""
        with self.workspace.store.transaction() as session:
            current = get_officer(session, data.id)
            require_write(caller, current.office_id)
            if data.office_id and data.office_id != current.office_id and "office_id" in (mask or ["office_id"]):
                require_write(caller, data.office_id)
            officer, previous_office = update_officer(session, data, mask, expected_version)
            self._record(session, pb.OfficerUpdated, officer)
            self.workspace.touched(session, sorted({officer.office_id, previous_office}))
            return officer

    def get_officer(self, caller: Caller, officer_id: str) -> Officer:
        """One officer, for a caller who may read their office."""
        with self.workspace.store.read() as session:
            officer = get_officer(session, officer_id)
        require_read(caller, officer.office_id)
        return officer

    def list_officers(self, caller: Caller, page: Page, office_id: str | None, group: str | None,
                      certificate_valid: bool | None) -> ListResult[Officer]:
        """The officers the caller may see, by office, group, or whether their certificate is valid today."""
        scope = office_scope(caller, office_id)
        query = select(Officer).where(Officer.id > page.after).order_by(Officer.id).limit(page.size)
        if scope:
            query = query.where(Officer.office_id == scope)
        if group:
            query = query.where(Officer.group == group)
        if certificate_valid is not None:
            valid = (Officer.certificate_no != "") & (Officer.certificate_expires >= self.workspace.today())
            query = query.where(valid if certificate_valid else ~valid | Officer.certificate_expires.is_(None))
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].id if rows else None, len(rows), page))

    def _record(self, session: Session, message: type[pb.OfficerRegistered | pb.OfficerUpdated],
                officer: Officer) -> None:
        """Records the whole officer (OfficerRegistered or OfficerUpdated)."""
        self.workspace.events.record(
            session, message(officer_id=officer.id, version=officer.version, office_id=officer.office_id,
                             name=officer.name, group=officer.group, certificate_no=officer.certificate_no,
                             certificate_expires=date_of(officer.certificate_expires)),
            aggregate_type="officer", aggregate_id=officer.id, version=officer.version,
            office_id=officer.office_id)
