"""Intake: what each kind must carry, the checks at the boundary, and possible duplicates.

Every problem of a request is reported at once. Descriptions never quote the complainant's
values, since error messages can end up in logs.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import Session

from services.common import credit_code
from services.common.clock import shanghai_date
from services.common.errors import Violations
from services.complaints.domain import personal_data
from services.complaints.domain.categories import MAX_CODE, CategoryTree
from services.complaints.domain.states import CHANNELS, COMPLAINT, INQUIRY, KINDS, RECEIVED, REPORT
from services.complaints.models import Complaint

# Bureau practice, not statute: a repeat within this window is flagged as a possible duplicate.
DUPLICATE_WINDOW = dt.timedelta(days=30)
# Clocks of the sender and of this service differ a little; beyond this, received_at is wrong.
CLOCK_SKEW = dt.timedelta(minutes=5)
LIMITS = {"respondent.name": 200, "respondent.address": 300, "respondent.street": 50, "category": 50,
          "description": 4000}
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_SPACES = re.compile(r"\s+")


@dataclass
class ComplaintInput:
    """A received item as the caller sent it, before the intake checks (登记信息)."""

    kind: str | None
    channel: str | None
    received_at: dt.datetime | None
    complainant_name: str = ""
    complainant_phone: str = ""
    complainant_id_number: str = ""
    anonymous: bool = False
    respondent_name: str = ""
    respondent_uscc: str = ""
    respondent_address: str = ""
    respondent_street: str = ""
    category: str = ""
    description: str = ""
    amount_yuan: str = ""
    # The 12315 classification code; "" to read it from `category` when that names a node.
    category_code: str = ""

    def cleaned(self) -> ComplaintInput:
        """The same input with surrounding spaces gone and ID numbers and credit codes upper-cased."""
        return ComplaintInput(
            kind=self.kind, channel=self.channel, received_at=self.received_at,
            complainant_name=self.complainant_name.strip(), complainant_phone=self.complainant_phone.strip(),
            complainant_id_number=self.complainant_id_number.strip().upper(), anonymous=self.anonymous,
            respondent_name=self.respondent_name.strip(), respondent_uscc=self.respondent_uscc.strip().upper(),
            respondent_address=self.respondent_address.strip(), respondent_street=self.respondent_street.strip(),
            category=self.category.strip(), description=self.description.strip(),
            amount_yuan=self.amount_yuan.strip(), category_code=self.category_code.strip().upper())


def validate(data: ComplaintInput, now: dt.datetime, today: dt.date, tree: CategoryTree | None = None) -> None:
    """Refuses an item missing what its kind must carry, or whose category code the classification
    in force (`tree`) does not hold, reporting every problem at once."""
    violations = Violations()
    if data.category_code and tree is not None and tree.find(data.category_code) is None:
        shown = data.category_code if len(data.category_code) <= MAX_CODE else "given"
        violations.add("complaint.category_code", f"the code {shown} is not in the 12315 classification "
                                                  f"{tree.id}")
    if data.kind not in KINDS:
        violations.add("complaint.kind", f"required: one of {', '.join(KINDS)}")
    if data.channel not in CHANNELS:
        violations.add("complaint.channel", f"required: one of {', '.join(CHANNELS)}")
    if data.received_at is None:
        violations.add("complaint.received_at", "required")
    elif data.received_at > now + CLOCK_SKEW or shanghai_date(data.received_at) > today:
        violations.add("complaint.received_at", "is in the future")
    _check_complainant(data, violations)
    _check_respondent(data, violations)
    for name, value in (("category", data.category or data.category_code), ("description", data.description)):
        if not value:
            violations.add(f"complaint.{name}", "must not be empty")
    for name, limit in LIMITS.items():
        value = getattr(data, name.replace(".", "_"))
        if len(value) > limit:
            violations.add(f"complaint.{name}", f"at most {limit} characters")
    if data.amount_yuan and not _AMOUNT.match(data.amount_yuan):
        violations.add("complaint.amount_yuan", "a decimal number of yuan with at most two places, e.g. 1280.50")
    violations.raise_if_any("invalid complaint")


def _check_complainant(data: ComplaintInput, violations: Violations) -> None:
    field = "complaint.complainant."
    if data.anonymous:
        if data.kind == COMPLAINT:
            # Order 20's refusal ground for a complaint without the complainant's name and phone:
            # refused at the door, since nobody could be told the outcome. A report may be anonymous.
            violations.add(field + "anonymous", "a complaint cannot be anonymous: refusal ground "
                                                "MISSING_INFORMATION (no complainant name or phone); "
                                                "an anonymous tip is filed as a report")
        if data.complainant_name or data.complainant_phone or data.complainant_id_number:
            violations.add(field + "anonymous", "an anonymous item carries no name, phone or ID number")
        return
    if not data.complainant_name:
        violations.add(field + "name", "required unless anonymous (reports and inquiries only)")
    elif len(data.complainant_name) > personal_data.MAX_NAME:
        violations.add(field + "name", f"at most {personal_data.MAX_NAME} characters")
    if not data.complainant_phone:
        violations.add(field + "phone", "required unless anonymous (reports and inquiries only)")
    else:
        problem = personal_data.phone_problem(data.complainant_phone)
        if problem:
            violations.add(field + "phone", problem)
    if data.complainant_id_number:
        problem = personal_data.id_number_problem(data.complainant_id_number)
        if problem:
            violations.add(field + "id_number", problem)


def _check_respondent(data: ComplaintInput, violations: Violations) -> None:
    field = "complaint.respondent."
    if data.kind in (COMPLAINT, REPORT):
        if not data.respondent_name:
            violations.add(field + "name", "required: the business complained about or reported")
        if not data.respondent_address:
            violations.add(field + "address", "required: where the business operates")
    if data.respondent_uscc:
        problem = credit_code.validate_uscc(data.respondent_uscc)
        if problem:
            violations.add(field + "uscc", problem)


def new_id(now: dt.datetime) -> str:
    """Creation time to the millisecond, then randomness: ids sort in the order items arrived."""
    utc = now.astimezone(dt.UTC)
    return f"{utc:%Y%m%d-%H%M%S}{utc.microsecond // 1000:03d}-{secrets.token_hex(3)}"


def fen(amount_yuan: str) -> int:
    """ "1280.5" -> 128050, for an amount that passed validate()."""
    yuan, _, cents = amount_yuan.partition(".")
    return int(yuan) * 100 + int(cents.ljust(2, "0"))


def yuan(amount_fen: int) -> str:
    """128050 -> "1280.50": an amount in fen as the contract writes yuan."""
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def respondent_key(data: ComplaintInput) -> str:
    """What identifies the business for duplicate checks: its credit code, else its name without spaces."""
    if data.respondent_uscc:
        return data.respondent_uscc
    return _SPACES.sub("", data.respondent_name).replace("（", "(").replace("）", ")")


def new_complaint(data: ComplaintInput, office_id: str, now: dt.datetime, tree: CategoryTree) -> Complaint:
    """A newly received item, routed to `office_id` and classified on `tree`, for input that passed
    validate()."""
    code = data.category_code or tree.classify(data.category)
    node = tree.find(code)
    category = data.category or (node.name if node else "")
    return Complaint(
        id=new_id(now), kind=data.kind, channel=data.channel, state=RECEIVED, office_id=office_id,
        received_at=data.received_at, anonymous=data.anonymous, complainant_name=data.complainant_name,
        complainant_phone=data.complainant_phone, complainant_id_number=data.complainant_id_number,
        complainant_key="" if data.anonymous else personal_data.phone_key(data.complainant_phone),
        respondent_name=data.respondent_name, respondent_uscc=data.respondent_uscc,
        respondent_address=data.respondent_address, respondent_street=data.respondent_street,
        respondent_key=respondent_key(data) if data.kind != INQUIRY else "", category=category,
        category_code=code, category_tree=tree.id if code else "", handler_id="", reward_level="", reward_basis="",
        description=data.description, amount_fen=fen(data.amount_yuan) if data.amount_yuan else None,
        possible_duplicate_of="", refusal_ground="", overdue=False, feedback_rating=None, feedback_comment="",
        feedback_at=None, notified_at=None, created_at=now, updated_at=now, version=1)


def _earliest_repeat(same_subject: ColumnElement[bool]) -> Select[tuple[str]]:
    item = Complaint.__table__.c
    return (select(item.id).where(item.complainant_key == bindparam("complainant_key"),
                                  item.respondent_key == bindparam("respondent_key"),
                                  same_subject,
                                  item.received_at >= bindparam("window_start"),
                                  item.received_at <= bindparam("received_at"),
                                  item.id != bindparam("id"))
            .order_by(item.received_at, item.id).limit(1))


# Built once, on the table: the ORM query built on each intake cost about 280 µs, this one 45 µs.
# The class code is escaped here as startswith(autoescape=True) would (LIKE :code || '%' ESCAPE '/').
_LIKE_ESCAPE = "/"
_REPEAT_IN_CLASS = _earliest_repeat(Complaint.__table__.c.category_code.startswith(bindparam("class_code"),
                                                                                   escape=_LIKE_ESCAPE))
_REPEAT_OF_SUBJECT = _earliest_repeat(Complaint.__table__.c.category == bindparam("category"))


def _like_prefix(text: str) -> str:
    """`text` with the LIKE wildcards and the escape character escaped, for a prefix match."""
    return (text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", _LIKE_ESCAPE + "%")
            .replace("_", _LIKE_ESCAPE + "_"))


def find_duplicate(session: Session, complaint: Complaint, tree: CategoryTree) -> str:
    """The earliest item of the same complainant about the same business and subject received
    within the window before this one; "" when there is none (or nobody to compare). The subject is
    the 12315 class when the item is classified (two subclasses of one class are one matter, however
    the words differ), else the subject's words."""
    if not complaint.complainant_key or not complaint.respondent_key:
        return ""
    node = tree.find(complaint.category_code)
    parameters = {"complainant_key": complaint.complainant_key, "respondent_key": complaint.respondent_key,
                  "window_start": complaint.received_at - DUPLICATE_WINDOW, "received_at": complaint.received_at,
                  "id": complaint.id}
    if node is not None:
        query, parameters["class_code"] = _REPEAT_IN_CLASS, _like_prefix(node.class_code)
    else:
        query, parameters["category"] = _REPEAT_OF_SUBJECT, complaint.category
    return session.scalar(query, parameters) or ""
