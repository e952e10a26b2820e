"""The public complaint form (投诉举报表单): what a citizen may send, checked before it is forwarded
to complaints (which applies its own rules on top: phone and credit-code formats, anonymity,
routing). Every field has a size limit, so a form can never carry more than a few kilobytes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.common.errors import Violations

KINDS = ("complaint", "report", "inquiry")
LIMITS = {
    "complainant.name": 50, "complainant.phone": 20, "complainant.id_number": 18,
    "respondent.name": 100, "respondent.uscc": 18, "respondent.address": 200, "respondent.street": 50,
    "category": 50, "description": 2000, "amount_yuan": 16, "request_id": 64,
}
_FIELDS = {"kind", "complainant", "respondent", "category", "description", "amount_yuan", "request_id"}
_PERSON = {"name", "phone", "id_number", "anonymous"}
_BUSINESS = {"name", "uscc", "address", "street"}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")


@dataclass(frozen=True)
class ComplaintForm:
    kind: str
    complainant_name: str
    complainant_phone: str
    complainant_id_number: str
    anonymous: bool
    respondent_name: str
    respondent_uscc: str
    respondent_address: str
    respondent_street: str
    category: str
    description: str
    amount_yuan: str
    request_id: str


def parse_form(body: Any) -> ComplaintForm:
    """A JSON object -> ComplaintForm; INVALID_ARGUMENT naming every field that is wrong."""
    violations = Violations()
    if not isinstance(body, Mapping):
        violations.add("body", "must be a JSON object")
        violations.raise_if_any("invalid complaint form")
    for name in sorted(set(body) - _FIELDS):
        violations.add(str(name)[:40], "unknown field")
    person = _object(body, "complainant", _PERSON, violations)
    business = _object(body, "respondent", _BUSINESS, violations)

    def text(source: Mapping, field: str, path: str, required: bool = False) -> str:
        value = source.get(field, "")
        if not isinstance(value, str):
            violations.add(path, "must be a string")
            return ""
        value = value.strip()
        if required and not value:
            violations.add(path, "required")
        elif len(value) > LIMITS[path]:
            violations.add(path, f"at most {LIMITS[path]} characters")
        return value

    kind = body.get("kind", "")
    if kind not in KINDS:
        violations.add("kind", f"must be one of {', '.join(KINDS)}")
    anonymous = person.get("anonymous", False)
    if not isinstance(anonymous, bool):
        violations.add("complainant.anonymous", "must be true or false")
        anonymous = False
    request_id = text(body, "request_id", "request_id")
    if request_id and not _REQUEST_ID.match(request_id):
        violations.add("request_id", "letters, digits and _ . : - only")
    form = ComplaintForm(
        kind=kind if isinstance(kind, str) else "",
        complainant_name=text(person, "name", "complainant.name"),
        complainant_phone=text(person, "phone", "complainant.phone"),
        complainant_id_number=text(person, "id_number", "complainant.id_number"),
        anonymous=anonymous,
        respondent_name=text(business, "name", "respondent.name", required=True),
        respondent_uscc=text(business, "uscc", "respondent.uscc"),
        respondent_address=text(business, "address", "respondent.address"),
        respondent_street=text(business, "street", "respondent.street"),
        category=text(body, "category", "category", required=True),
        description=text(body, "description", "description", required=True),
        amount_yuan=text(body, "amount_yuan", "amount_yuan"),
        request_id=request_id,
    )
    violations.raise_if_any("invalid complaint form")
    return form


def _object(body: Mapping, name: str, fields: set[str], violations: Violations) -> Mapping:
    value = body.get(name, {})
    if not isinstance(value, Mapping):
        violations.add(name, "must be an object")
        return {}
    for key in sorted(set(value) - fields):
        violations.add(f"{name}.{str(key)[:40]}", "unknown field")
    return value
