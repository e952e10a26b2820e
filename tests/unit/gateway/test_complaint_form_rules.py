"""The public form asks for exactly what complaints requires: the same fields refused for the same
forms (checked against complaints' own intake rules, which the gateway does not import), every
description in Chinese, the JSON Schema agreeing with both, and a plain HTML form post read into
the same body."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from jsonschema import Draft202012Validator

from services.common.errors import FieldViolation, InvalidArgument
from services.complaints.domain import intake, personal_data
from services.complaints.domain.intake import ComplaintInput
from services.gateway.domain.complaint_form import (
    body_from_fields,
    id_number_problem,
    in_chinese,
    parse_form,
    phone_is_valid,
    request_schema,
)

ID_NUMBER = "11010519491231002X"
USCC = "91310112MA1GB12347"
PEOPLE = {
    "named": {"name": "张三", "phone": "13800138000"},
    "anonymous": {"anonymous": True},
    "anonymous with a name": {"anonymous": True, "name": "张三"},
    "nobody": {},
    "bad phone": {"name": "张三", "phone": "12345"},
    "short id number": {"name": "张三", "phone": "021-54889000", "id_number": "1101051949"},
    "wrong check character": {"name": "张三", "phone": "021-54889000", "id_number": "110105194912310021"},
    "good id number": {"name": "张三", "phone": "+86 139-1234-5678", "id_number": ID_NUMBER.lower()},
}
BUSINESSES = {
    "full": {"name": "某超市", "address": "莘庄镇某路1号", "street": "莘庄镇", "uscc": USCC},
    "name only": {"name": "某超市"},
    "none": {},
    "bad credit code": {"name": "某超市", "address": "某路1号", "uscc": "123"},
}
MATTERS = {"both": {"category": "食品安全", "description": "买到过期食品"}, "no description": {"category": "价格"}}
AMOUNTS = {"none": {}, "good": {"amount_yuan": "35.50"}, "bad": {"amount_yuan": "lots"}}
CASES = [pytest.param({"kind": kind, "complainant": PEOPLE[person], "respondent": BUSINESSES[business],
                       **MATTERS[matter], **AMOUNTS[amount]}, id=f"{kind}-{person}-{business}-{matter}-{amount}")
         for kind, person, business, matter, amount in itertools.product(
             ("complaint", "report", "inquiry"), PEOPLE, BUSINESSES, MATTERS, AMOUNTS)]


def gateway_refuses(body: dict) -> set[str]:
    try:
        parse_form(body)
    except InvalidArgument as error:
        assert all(any("\u4e00" <= c <= "\u9fff" for c in v.description) for v in error.violations), error.violations
        return {v.field for v in error.violations}
    return set()


def complaints_refuses(body: dict) -> set[str]:
    """What complaints' intake refuses of the same form sent online (as the gateway sends it)."""
    person, business = body.get("complainant", {}), body.get("respondent", {})
    data = ComplaintInput(
        kind=body["kind"].upper(), channel="ONLINE_12315", received_at=dt.datetime.now(dt.UTC),
        complainant_name=person.get("name", ""), complainant_phone=person.get("phone", ""),
        complainant_id_number=person.get("id_number", ""), anonymous=person.get("anonymous", False),
        respondent_name=business.get("name", ""), respondent_uscc=business.get("uscc", ""),
        respondent_address=business.get("address", ""), respondent_street=business.get("street", ""),
        category=body.get("category", ""), description=body.get("description", ""),
        amount_yuan=body.get("amount_yuan", "")).cleaned()
    try:
        intake.validate(data, dt.datetime.now(dt.UTC), dt.date.today() + dt.timedelta(days=1))
    except InvalidArgument as error:
        return {v.field.removeprefix("complaint.") for v in error.violations}
    return set()


@pytest.mark.parametrize("body", CASES)
def test_the_gateway_refuses_exactly_what_complaints_refuses_in_chinese(body):
    assert gateway_refuses(body) == complaints_refuses(body)


# A check character is arithmetic, beyond what a JSON Schema pattern says.
@pytest.mark.parametrize("body", [case for case in CASES
                                  if case.values[0]["complainant"] is not PEOPLE["wrong check character"]])
def test_the_json_schema_accepts_exactly_the_forms_the_gateway_accepts(body):
    assert Draft202012Validator(request_schema()).is_valid(body) == (not gateway_refuses(body))


def test_the_json_schema_is_valid_and_described_in_chinese():
    schema = request_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["kind", "complainant", "category", "description"]
    assert schema["properties"]["kind"]["enum"] == ["complaint", "report", "inquiry"]
    for name, field in {**schema["properties"], **schema["properties"]["complainant"]["properties"],
                        **schema["properties"]["respondent"]["properties"]}.items():
        assert any("\u4e00" <= c <= "\u9fff" for c in field["description"]), name
    assert schema["properties"]["description"]["maxLength"] == 2000


@pytest.mark.parametrize("phone", ["13800138000", "139-1234-5678", "+86 13912345678", "0086-13912345678",
                                   "021-54889000", "021 5488 9000", "0571-87654321-123", "12345", "23800138000",
                                   "021-548", "电话", "1380013800a", ""])
def test_the_phone_rule_is_complaints_rule(phone):
    assert phone_is_valid(phone) == (personal_data.phone_problem(phone) is None)


@pytest.mark.parametrize("number", [ID_NUMBER, "110105194912310021", "11010519491231002", "A1010519491231002X",
                                    "110105194912310020"])
def test_the_id_number_rule_is_complaints_rule(number):
    assert (id_number_problem(number) is None) == (personal_data.id_number_problem(number) is None)


def test_a_plain_form_post_is_read_into_the_json_body():
    body = body_from_fields([("kind", "report"), ("complainant.anonymous", "on"), ("respondent.name", "某店"),
                             ("respondent.address", "某路"), ("category", "价格"), ("description", "乱收费"),
                             ("request_id", "")])
    assert body == {"kind": "report", "complainant": {"anonymous": True},
                    "respondent": {"name": "某店", "address": "某路"}, "category": "价格", "description": "乱收费",
                    "request_id": ""}
    assert parse_form(body).anonymous


def test_a_field_sent_twice_is_refused_and_strangers_are_named():
    with pytest.raises(InvalidArgument) as error:
        body_from_fields([("kind", "report"), ("kind", "complaint")])
    assert [(v.field, v.description) for v in error.value.violations] == [("kind", "字段重复")]
    strange = body_from_fields([("complainant.nickname", "x"), ("a.b.c", "y"), ("complainant.anonymous", "maybe")])
    with pytest.raises(InvalidArgument) as error:
        parse_form({**strange, "kind": "report", "category": "价格", "description": "乱收费"})
    assert {"complainant.nickname", "a.b.c", "complainant.anonymous"} <= {v.field for v in error.value.violations}


def test_complaints_english_refusals_reach_the_citizen_in_chinese():
    refused = InvalidArgument("invalid complaint", [
        FieldViolation("complainant.phone", "is not a phone number: 11-digit mobile, or a landline"),
        FieldViolation("respondent.address", "required: where the business operates"),
        FieldViolation("received_at", "is in the future"),
        FieldViolation("category", "已是中文")])
    translated = in_chinese(refused)
    assert [v.field for v in translated.violations] == ["complainant.phone", "respondent.address", "received_at",
                                                        "category"]
    assert translated.violations[-1].description == "已是中文"
    for violation in translated.violations:
        assert any("\u4e00" <= c <= "\u9fff" for c in violation.description)
        assert not any("a" <= c <= "z" for c in violation.description), violation
    assert translated.message == "表单有误，请按提示修改"
