"""The public complaint form: what may be sent, and every field that is wrong named at once."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidArgument
from services.gateway.domain.complaint_form import parse_form

VALID = {"kind": "complaint", "complainant": {"name": "张三", "phone": "13800138000"},
         "respondent": {"name": "某超市", "address": "莘庄镇某路1号", "street": "莘庄镇"},
         "category": "食品安全", "description": "买到过期食品", "amount_yuan": "35.50", "request_id": "form-1"}


def refused(body) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as error:
        parse_form(body)
    return {v.field: v.description for v in error.value.violations}


def test_a_valid_form_is_read_trimmed():
    form = parse_form({**VALID, "description": "  买到过期食品  "})
    assert (form.kind, form.complainant_name, form.respondent_street, form.description, form.anonymous) == \
        ("complaint", "张三", "莘庄镇", "买到过期食品", False)


def test_an_anonymous_report_needs_no_person():
    form = parse_form({**VALID, "kind": "report", "complainant": {"anonymous": True}})
    assert form.anonymous and form.complainant_name == ""


def test_every_problem_is_named_at_once():
    problems = refused({"kind": "praise", "respondent": {"name": ""}, "category": 5, "description": "",
                        "extra": 1, "complainant": {"name": "x" * 51, "nickname": "y", "anonymous": "yes"},
                        "request_id": "bad id!"})
    # No kind that names a business: no business is required (complaints' rule); not anonymous: the
    # phone is.
    assert set(problems) == {"kind", "category", "description", "extra", "complainant.phone",
                             "complainant.name", "complainant.nickname", "complainant.anonymous", "request_id"}
    assert problems["complainant.name"] == "最多 50 个字符"


@pytest.mark.parametrize("body", [[], "text", None, 5])
def test_a_body_that_is_not_an_object_is_refused(body):
    assert "body" in refused(body)


def test_a_description_past_its_limit_is_refused():
    assert refused({**VALID, "description": "长" * 2001}) == {"description": "最多 2000 个字符"}


def test_objects_where_objects_belong():
    assert set(refused({**VALID, "respondent": "某超市"})) == {"respondent", "respondent.name", "respondent.address"}
