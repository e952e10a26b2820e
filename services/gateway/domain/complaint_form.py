"""The public complaint form (投诉举报表单): what a citizen may send, checked before it is forwarded
to complaints. The gateway asks for exactly what complaints requires (and checks phone, ID number,
credit code and amount the way complaints does) so that a citizen reads every problem in Chinese,
next to its field, at once; complaints checks again and routes. Every field has a size limit, so a
form can never carry more than a few kilobytes.

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

from services.common import credit_code
from services.common.contact_numbers import id_number_check_character, is_id_number_shape, is_phone
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
# complaints' own rule for amounts and its intake rules below, repeated here (a service never imports
# another's package; phone and ID numbers come from services.common.contact_numbers, which both use);
# tests/unit/gateway/test_complaint_form_rules.py holds the two to the same answers.
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
# The kinds that name a business; an inquiry need not (complaints' intake rule).
NAMES_A_BUSINESS = ("complaint", "report")
# The kinds that may come without the complainant; a complaint may not (its outcome is owed to someone).
MAY_BE_ANONYMOUS = ("report", "inquiry")
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

    def issue(self) -> dict[str, str | int]:
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


# Chinese names of the fields, for the page's labels and for messages read out of context.
LABELS = {
    "kind": "类型", "complainant.name": "姓名", "complainant.phone": "联系电话",
    "complainant.id_number": "身份证号", "complainant.anonymous": "匿名", "respondent.name": "经营者名称",
    "respondent.uscc": "统一社会信用代码", "respondent.address": "经营地址", "respondent.street": "所在街镇",
    "category": "问题类别", "description": "情况描述", "amount_yuan": "涉及金额（元）", "request_id": "表单令牌",
    "body": "表单",
}
KIND_NAMES = {"complaint": "投诉", "report": "举报", "inquiry": "咨询"}
REQUIRED = "必填"
PHONE_PROBLEM = "不是有效的电话号码：请填 11 位手机号，或带区号的固定电话（如 021-54889000）"
ID_NUMBER_FORMAT = "须为 18 位居民身份证号（17 位数字，最后一位为数字或 X）"
ID_NUMBER_CHECK = "校验位不符，请核对号码"
AMOUNT_PROBLEM = "须为以元计的金额，最多两位小数，如 1280.50"
ANONYMOUS_COMPLAINT = "投诉不能匿名：处理结果须告知投诉人；匿名反映问题请选择“举报”"
ANONYMOUS_WITH_DATA = "匿名提交时请勿填写姓名、电话或身份证号"
# What complaints' own refusal of a field means, when it comes back in its English words: the gateway
# checks the same rules first, so these are read only when the two disagree.
_SERVICE_REFUSALS = {
    "kind": f"须为以下之一：{'、'.join(KIND_NAMES.values())}",
    "complainant.name": "姓名有误：必填（匿名举报、咨询除外），最多 50 个字符",
    "complainant.phone": PHONE_PROBLEM, "complainant.id_number": ID_NUMBER_FORMAT + "，且校验位正确",
    "complainant.anonymous": ANONYMOUS_COMPLAINT, "respondent.name": "必填：被投诉或举报的经营者名称",
    "respondent.address": "必填：经营者的经营地址", "respondent.uscc": "不是有效的统一社会信用代码，请核对",
    "category": "必填，最多 50 个字符", "description": "必填，内容过长时请精简",
    "amount_yuan": AMOUNT_PROBLEM,
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class ComplaintForm:
    """A citizen's form as read and checked by the gateway, ready to forward to complaints."""

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
    """A JSON object -> ComplaintForm; INVALID_ARGUMENT naming every field that is wrong, in Chinese."""
    violations = Violations()
    if not isinstance(body, Mapping):
        violations.add("body", "表单须为 JSON 对象")
        violations.raise_if_any(INVALID_FORM)
    for name in sorted(set(body) - _FIELDS):
        violations.add(str(name)[:40], "未知字段")
    person = _object(body, "complainant", _PERSON, violations)
    business = _object(body, "respondent", _BUSINESS, violations)

    def text(source: Mapping[str, Any], field: str, path: str, required: bool = False) -> str:
        raw = source.get(field, "")
        if not isinstance(raw, str):
            violations.add(path, "须为文本")
            return ""
        value = raw.strip()
        if required and not value:
            violations.add(path, REQUIRED)
        elif len(value) > LIMITS[path]:
            violations.add(path, f"最多 {LIMITS[path]} 个字符")
        return value

    kind = body.get("kind", "")
    if kind not in KINDS:
        violations.add("kind", f"必选，须为以下之一：{', '.join(KINDS)}（{'、'.join(KIND_NAMES.values())}）")
        kind = ""
    anonymous = person.get("anonymous", False)
    if not isinstance(anonymous, bool):
        violations.add("complainant.anonymous", "须为 true 或 false")
        anonymous = False
    request_id = text(body, "request_id", "request_id")
    if request_id and not _REQUEST_ID.match(request_id):
        violations.add("request_id", "只能含字母、数字和 _ . : -")
    names_business = kind in NAMES_A_BUSINESS
    name = text(person, "name", "complainant.name", required=not anonymous)
    phone = text(person, "phone", "complainant.phone", required=not anonymous)
    id_number = text(person, "id_number", "complainant.id_number").upper()
    if anonymous:
        if kind == "complaint":
            violations.add("complainant.anonymous", ANONYMOUS_COMPLAINT)
        if name or phone or id_number:
            violations.add("complainant.anonymous", ANONYMOUS_WITH_DATA)
    else:
        if phone and len(phone) <= LIMITS["complainant.phone"] and not phone_is_valid(phone):
            violations.add("complainant.phone", PHONE_PROBLEM)
        if id_number and len(id_number) <= LIMITS["complainant.id_number"]:
            problem = id_number_problem(id_number)
            if problem:
                violations.add("complainant.id_number", problem)
    typed_uscc = text(business, "uscc", "respondent.uscc")
    # As typed with a Chinese input method (full-width, spaced, lower case): what complaints stores.
    uscc = credit_code.normalise_uscc(typed_uscc)
    if uscc and len(typed_uscc) <= LIMITS["respondent.uscc"]:
        problem = uscc_problem(uscc)
        if problem:
            violations.add("respondent.uscc", problem)
    amount = text(body, "amount_yuan", "amount_yuan")
    if amount and len(amount) <= LIMITS["amount_yuan"] and not _AMOUNT.match(amount):
        violations.add("amount_yuan", AMOUNT_PROBLEM)
    form = ComplaintForm(
        kind=kind,
        complainant_name=name,
        complainant_phone=phone,
        complainant_id_number=id_number,
        anonymous=anonymous,
        respondent_name=text(business, "name", "respondent.name", required=names_business),
        respondent_uscc=uscc,
        respondent_address=text(business, "address", "respondent.address", required=names_business),
        respondent_street=text(business, "street", "respondent.street"),
        category=text(body, "category", "category", required=True),
        description=text(body, "description", "description", required=True),
        amount_yuan=amount,
        request_id=request_id,
    )
    violations.raise_if_any(INVALID_FORM)
    return form


def phone_is_valid(phone: str) -> bool:
    """A mobile number or a landline with its area code, as complaints accepts them."""
    return is_phone(phone)


def id_number_problem(id_number: str) -> str | None:
    """Why `id_number` is not a resident identity number (GB 11643), in Chinese; None when it is."""
    if not is_id_number_shape(id_number):
        return ID_NUMBER_FORMAT
    return None if id_number_check_character(id_number[:17]) == id_number[17] else ID_NUMBER_CHECK


def uscc_problem(code: str) -> str | None:
    """Why a normalised `code` is not a unified social credit code, in Chinese; None when it is."""
    if len(code) != credit_code.LENGTH:
        return f"须为 {credit_code.LENGTH} 位，现为 {len(code)} 位"
    if any(character not in credit_code.ALPHABET for character in code):
        return "只能含数字和大写字母（不含 I、O、Z、S、V）"
    if credit_code.validate_uscc(code):
        return "校验位不符，请核对代码"
    return None


def body_from_fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The fields of a plain HTML form post ("complainant.name" = ...) -> the JSON body parse_form
    reads. A field sent twice is refused; a checked checkbox ("on") is true."""
    body: dict[str, Any] = {}
    seen: set[str] = set()
    twice = Violations()
    for name, value in pairs:
        if name in seen:
            twice.add(name[:40], "字段重复")
            continue
        seen.add(name)
        group, dot, field = name.partition(".")
        if dot and group in ("complainant", "respondent") and "." not in field:
            entry: str | bool = value
            if field == "anonymous":
                entry = {"on": True, "true": True, "": False, "false": False}.get(value, value)
            body.setdefault(group, {})[field] = entry
        else:
            body[name] = value
    twice.raise_if_any(INVALID_FORM)
    return body


def in_chinese(error: InvalidArgument) -> InvalidArgument:
    """complaints' refusal of a form with every description a citizen can read: its English ones
    replaced by the Chinese meaning of the field's rule."""
    found = [v if _CJK.search(v.description) else
             FieldViolation(v.field, _SERVICE_REFUSALS.get(v.field, "未通过投诉受理服务的校验，请核对后重新提交"))
             for v in error.violations]
    return InvalidArgument(INVALID_FORM, found)


def request_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12, as OpenAPI 3.1 uses) of the form's JSON body: the same fields,
    limits and required fields parse_form and complaints apply, described in Chinese."""

    def text(path: str, description: str, pattern: str | None = None) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "maxLength": LIMITS[path], "description": description}
        if pattern:
            schema["pattern"] = pattern
        return schema

    phone = r"^(\+86|0086)?[- ]?[0-9][0-9 -]{6,18}$"
    return {
        "type": "object", "additionalProperties": False,
        "description": "公众投诉举报表单。投诉须留姓名和联系电话；举报、咨询可匿名。",
        "required": ["kind", "complainant", "category", "description"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS),
                     "description": "类型：complaint 投诉（本人权益受损），report 举报（反映违法线索），"
                                    "inquiry 咨询"},
            "complainant": {
                "type": "object", "additionalProperties": False,
                "description": "投诉（举报）人。不匿名时须填姓名和联系电话；匿名时三者都不填。",
                "properties": {
                    "name": text("complainant.name", "姓名（不匿名时必填）"),
                    "phone": text("complainant.phone", "联系电话：11 位手机号，或带区号的固定电话（不匿名时必填）",
                                  phone),
                    "id_number": text("complainant.id_number", "居民身份证号（选填，18 位）", r"^\d{17}[\dXx]$"),
                    "anonymous": {"type": "boolean", "default": False,
                                  "description": "匿名提交（仅举报、咨询可匿名）"}},
                "oneOf": [{"required": ["anonymous"], "properties": {"anonymous": {"const": True},
                                                                      "name": {"maxLength": 0},
                                                                      "phone": {"maxLength": 0},
                                                                      "id_number": {"maxLength": 0}}},
                          {"required": ["name", "phone"], "properties": {"anonymous": {"const": False},
                                                                          "name": {"minLength": 1},
                                                                          "phone": {"minLength": 1}}}]},
            "respondent": {
                "type": "object", "additionalProperties": False,
                "description": "被投诉（举报）的经营者：投诉、举报须填名称和经营地址。",
                "properties": {
                    "name": text("respondent.name", "经营者名称（投诉、举报必填）"),
                    "uscc": text("respondent.uscc", "统一社会信用代码（选填，18 位）",
                                 r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$"),
                    "address": text("respondent.address", "经营地址（投诉、举报必填）"),
                    "street": text("respondent.street", "所在街镇（选填，用于分派承办所）")}},
            "category": text("category", "问题类别，如 食品安全、价格、产品质量"),
            "description": text("description", "情况描述：时间、经过和诉求"),
            "amount_yuan": text("amount_yuan", "涉及金额（元，选填），最多两位小数，如 1280.50",
                                r"^\d{1,12}(\.\d{1,2})?$"),
            "request_id": text("request_id", "表单令牌（选填但建议）：GET /api/v1/complaints/form-token 取得，"
                                             "每份表单一个；重试时带同一令牌不会重复登记",
                               _REQUEST_ID.pattern),
        },
        "allOf": [
            {"if": {"required": ["kind"], "properties": {"kind": {"enum": list(NAMES_A_BUSINESS)}}},
             "then": {"required": ["respondent"], "properties": {"respondent": {
                 "required": ["name", "address"],
                 "properties": {"name": {"minLength": 1}, "address": {"minLength": 1}}}}}},
            {"if": {"required": ["kind"], "properties": {"kind": {"const": "complaint"}}},
             "then": {"properties": {"complainant": {"properties": {"anonymous": {"const": False}}}}}},
        ],
    }


def _object(body: Mapping[str, Any], name: str, fields: set[str], violations: Violations) -> Mapping[str, Any]:
    value = body.get(name, {})
    if not isinstance(value, Mapping):
        violations.add(name, "须为 JSON 对象")
        return {}
    for key in sorted(set(value) - fields):
        violations.add(f"{name}.{str(key)[:40]}", "未知字段")
    return value
