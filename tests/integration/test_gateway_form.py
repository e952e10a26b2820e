"""The public complaint form: forwarded to complaints, limited per client and in size, never
echoing personal data; the new complaint reaches the live index through complaints' events."""

from __future__ import annotations

import json

import pytest

from tests.api.gateway.support import District, wait_for
from tests.conftest import make_settings

NAME, PHONE = "欧阳娜娜", "13912345678"
FORM = {"kind": "complaint", "complainant": {"name": NAME, "phone": PHONE},
        "respondent": {"name": "某某超市", "address": "莘庄镇莘松路1号", "street": "莘庄镇"},
        "category": "食品安全", "description": "购买的牛奶已过保质期", "amount_yuan": "35.50"}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    running = District(tmp_path_factory.mktemp("form"), "sqlite:///" + str(
        tmp_path_factory.mktemp("form-store") / "gateway.db"), make_settings(),
        services=("command_center", "complaints"), gateway_env={"COMPLAINT_FORM_BURST": "50"})
    running.add_offices()
    yield running
    running.close()


def backlog(district, office_id: str) -> float:
    value = district.monitor.view.offices[office_id].values.get("complaints.backlog")
    return value.numerator if value else 0


def test_a_complaint_from_the_form_is_routed_and_moves_the_office_figures(district):
    before = backlog(district, "MH01")
    reply = district.request("POST", "/api/v1/complaints", FORM)
    assert reply.status == 201, reply.body
    receipt = reply.body
    assert receipt["office_id"] == "MH01" and receipt["state"] == "RECEIVED" and receipt["acceptance_due"]
    assert NAME not in json.dumps(receipt, ensure_ascii=False) and PHONE not in json.dumps(receipt)
    district.settle()
    wait_for(lambda: backlog(district, "MH01") == before + 1)
    office = district.get("/api/v1/offices").body["offices"]
    assert next(o for o in office if o["office_id"] == "MH01")["figures"]["complaints.backlog"] == before + 1
    # Nothing the gateway shows carries the complainant.
    for path in ("/api/v1/offices/MH01", "/api/v1/alerts", "/api/v1/district"):
        text = json.dumps(district.get(path).body, ensure_ascii=False)
        assert NAME not in text and PHONE not in text


def test_a_retry_with_the_same_form_token_creates_nothing_new(district):
    token = district.get("/api/v1/complaints/form-token").body["token"]
    first = district.request("POST", "/api/v1/complaints", {**FORM, "request_id": token})
    again = district.request("POST", "/api/v1/complaints", {**FORM, "request_id": token})
    assert first.status == again.status == 201 and first.body["id"] == again.body["id"]


@pytest.mark.parametrize(("body", "field"), [
    ({**FORM, "kind": "praise"}, "kind"),
    ({**FORM, "description": ""}, "description"),
    ({**FORM, "complainant": {"name": NAME, "phone": "12345"}}, "complainant.phone"),
    ({**FORM, "complainant": {"anonymous": True}}, "complainant.anonymous"),
    ({**FORM, "amount_yuan": "lots"}, "amount_yuan"),
    ({**FORM, "respondent": {"name": "某超市", "uscc": "123"}}, "respondent.uscc"),
])
def test_a_bad_form_is_a_400_naming_the_field(district, body, field):
    reply = district.request("POST", "/api/v1/complaints", body)
    assert reply.status == 400, reply.body
    assert field in {d["field"] for d in reply.error["details"]}


@pytest.mark.parametrize(("raw", "content_type", "status"), [
    (b"{not json", "application/json", 400),
    ("「」".encode("utf-16"), "application/json", 400),
    (json.dumps(FORM).encode(), "text/plain", 415),
    (json.dumps({**FORM, "description": "长" * 20000}, ensure_ascii=False).encode(), "application/json", 413),
])
def test_a_malformed_or_oversized_body_is_a_4xx(district, raw, content_type, status):
    reply = district.request("POST", "/api/v1/complaints", raw=raw, headers={"Content-Type": content_type})
    assert reply.status == status and reply.error["message"]


def test_a_client_that_sends_too_often_is_told_when_to_come_back(tmp_path):
    running = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings(),
                       gateway_env={"COMPLAINT_FORM_BURST": "2", "COMPLAINT_FORM_RATE_PER_MINUTE": "1"})
    try:
        statuses = [running.request("POST", "/api/v1/complaints", {**FORM, "kind": "praise"}).status
                    for _ in range(3)]
        assert statuses == [400, 400, 429]
        limited = running.request("POST", "/api/v1/complaints", FORM)
        assert limited.status == 429 and int(limited.headers["retry-after"]) >= 1
    finally:
        running.close()


def test_complaints_being_down_is_a_503_not_a_client_error(tmp_path):
    running = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings())
    try:
        reply = running.request("POST", "/api/v1/complaints", FORM)
        assert reply.status == 503 and reply.headers["retry-after"]
    finally:
        running.close()
