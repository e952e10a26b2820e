"""The public complaint form (投诉举报表单): what a citizen may send, checked before it is forwarded
to complaints (which applies its own rules on top: phone and credit-code formats, anonymity,
routing). Every field has a size limit, so a form can never carry more than a few kilobytes.

A retry is recognised by a form token (表单令牌) the gateway issued and signed: the gateway keeps no
state, so a citizen's own request id could collide with another citizen's; a token cannot, and
the id complaints sees is derived from it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.common.errors import FieldViolation, InvalidArgument, Violations

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
TOKEN_VERSION = "f1"
TOKEN_SECONDS = 24 * 3600
# A token issued by a replica whose clock is a little ahead is still good.
TOKEN_CLOCK_SKEW = 300
INVALID_FORM = "表单有误，请按提示修改"
FETCH_TOKEN = "请先获取表单令牌（GET /api/v1/complaints/form-token）并放入 request_id"


class FormTokens:
    """Issues and checks form tokens: "f1.<issued unix seconds>.<random>.<HMAC-SHA256>", 59 characters
    of letters, digits, "." "-" "_". Replicas that share the key accept each other's tokens."""

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time, lifetime: int = TOKEN_SECONDS):
        self.key = key
        self.clock = clock
        self.lifetime = lifetime

    def issue(self) -> dict:
        """A new token and when it stops being accepted."""
        issued = int(self.clock())
        body = f"{TOKEN_VERSION}.{issued}.{_b64(secrets.token_bytes(16))}"
        return {"token": f"{body}.{self._mac(body)}", "expires_in": self.lifetime}

    def check(self, token: str) -> None:
        """INVALID_ARGUMENT on request_id unless `token` is one this gateway signed and still good."""
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != TOKEN_VERSION or not parts[1].isdigit():
            raise InvalidArgument("request_id 不是有效的表单令牌", [FieldViolation("request_id", FETCH_TOKEN)])
        body = ".".join(parts[:3])
        if not hmac.compare_digest(self._mac(body), parts[3]):
            raise InvalidArgument("request_id 不是有效的表单令牌", [FieldViolation("request_id", FETCH_TOKEN)])
        age = self.clock() - int(parts[1])
        if age > self.lifetime or age < -TOKEN_CLOCK_SKEW:
            raise InvalidArgument("表单令牌已过期，请重新获取",
                                  [FieldViolation("request_id", f"表单令牌有效期为 {self.lifetime // 3600} 小时；"
                                                  + FETCH_TOKEN)])

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest()[:16])


def forwarded_request_id(token: str) -> str:
    """The id complaints sees for a form sent with `token`: the same token, the same id (a retry)."""
    return "gateway-form:" + hashlib.sha256(token.encode()).hexdigest()[:40]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


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
        violations.add("body", "表单须为 JSON 对象")
        violations.raise_if_any(INVALID_FORM)
    for name in sorted(set(body) - _FIELDS):
        violations.add(str(name)[:40], "未知字段")
    person = _object(body, "complainant", _PERSON, violations)
    business = _object(body, "respondent", _BUSINESS, violations)

    def text(source: Mapping, field: str, path: str, required: bool = False) -> str:
        value = source.get(field, "")
        if not isinstance(value, str):
            violations.add(path, "须为文本")
            return ""
        value = value.strip()
        if required and not value:
            violations.add(path, "必填")
        elif len(value) > LIMITS[path]:
            violations.add(path, f"最多 {LIMITS[path]} 个字符")
        return value

    kind = body.get("kind", "")
    if kind not in KINDS:
        violations.add("kind", f"须为以下之一：{', '.join(KINDS)}")
    anonymous = person.get("anonymous", False)
    if not isinstance(anonymous, bool):
        violations.add("complainant.anonymous", "须为 true 或 false")
        anonymous = False
    request_id = text(body, "request_id", "request_id")
    if request_id and not _REQUEST_ID.match(request_id):
        violations.add("request_id", "只能含字母、数字和 _ . : -")
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
    violations.raise_if_any(INVALID_FORM)
    return form


def _object(body: Mapping, name: str, fields: set[str], violations: Violations) -> Mapping:
    value = body.get(name, {})
    if not isinstance(value, Mapping):
        violations.add(name, "须为 JSON 对象")
        return {}
    for key in sorted(set(value) - fields):
        violations.add(f"{name}.{str(key)[:40]}", "未知字段")
    return value
