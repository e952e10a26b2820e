"""The public complaint form under attack, through the gateway's real HTTP server: request ids that
collide between citizens, a token replayed with another form, a forged X-Forwarded-For, a flood from
many addresses, and a body nested deeper than the JSON parser can follow."""

from __future__ import annotations

import datetime as dt
import sqlite3

import grpc
import pytest

from supervision.complaints.v1 import complaints_pb2 as complaints_pb
from supervision.complaints.v1 import complaints_pb2_grpc as complaints_grpc
from tests.api.gateway.support import District
from tests.conftest import make_settings
from tests.support import violations

FORM = {"kind": "complaint", "complainant": {"name": "欧阳娜娜", "phone": "13912345678"},
        "respondent": {"name": "某某超市", "address": "莘庄镇莘松路1号", "street": "莘庄镇"},
        "category": "食品安全", "description": "购买的牛奶已过保质期"}
PROXY = "127.0.0.1/32"  # the test client connects from here: it plays the Ingress


def form(respondent: str, description: str, **extra) -> dict:
    return {**FORM, "respondent": {**FORM["respondent"], "name": respondent}, "description": description, **extra}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("form-security")
    running = District(root, f"sqlite:///{root / 'gateway.db'}", make_settings(),
                       services=("command_center", "complaints"), gateway_env={"COMPLAINT_FORM_BURST": "100"})
    running.complaints_db = root / "complaints.db"
    yield running
    running.close()


def stored(district) -> dict[str, tuple[str, str]]:
    """Every complaint complaints keeps: id -> (respondent, description)."""
    with sqlite3.connect(district.complaints_db) as connection:
        rows = connection.execute("SELECT id, respondent_name, description FROM complaints").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def received_at(district, complaint_id: str) -> dt.datetime:
    with sqlite3.connect(district.complaints_db) as connection:
        (value,) = connection.execute("SELECT received_at FROM complaints WHERE id = ?", (complaint_id,)).fetchone()
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def test_only_an_online_submission_may_leave_its_receipt_time_to_complaints(district):
    stub = complaints_grpc.ComplaintServiceStub(district.sources["complaints"].channel)
    complaint = complaints_pb.Complaint(
        kind=complaints_pb.COMPLAINT_KIND_COMPLAINT, channel=complaints_pb.CHANNEL_HOTLINE_12315,
        complainant=complaints_pb.Complainant(name="张三", phone="13800138000"),
        respondent=complaints_pb.Respondent(name="某超市", street="莘庄镇"), category="食品安全", description="过期")
    with pytest.raises(grpc.RpcError) as error:
        stub.CreateComplaint(complaints_pb.CreateComplaintRequest(request_id="hotline-no-time", complaint=complaint))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "complaint.received_at" in violations(error.value)


def submit_as_told(district, body: dict):
    """A citizen's browser: sends the form; told to fetch a form token, fetches one and sends again."""
    reply = district.request("POST", "/api/v1/complaints", body)
    if reply.status == 400 and "request_id" in {d["field"] for d in reply.error.get("details", [])}:
        token = district.get("/api/v1/complaints/form-token").body["token"]
        reply = district.request("POST", "/api/v1/complaints", {**body, "request_id": token})
    return reply


def test_two_citizens_choosing_the_same_request_id_each_keep_their_own_complaint(district):
    first = form("甲超市", "甲超市出售过期牛奶", request_id="my-complaint-1")
    second = form("乙饭店", "乙饭店后厨有老鼠", request_id="my-complaint-1")
    one, other = submit_as_told(district, first), submit_as_told(district, second)
    assert one.status == other.status == 201, (one.body, other.body)
    assert one.body["id"] != other.body["id"], "the second citizen got the first citizen's complaint back"
    kept = stored(district)
    assert kept[one.body["id"]] == ("甲超市", "甲超市出售过期牛奶")
    assert kept[other.body["id"]] == ("乙饭店", "乙饭店后厨有老鼠")


def test_a_request_id_that_is_not_a_form_token_is_refused_in_chinese(district):
    token = district.get("/api/v1/complaints/form-token").body["token"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    before = stored(district)
    for request_id in ("my-complaint-2", forged):
        reply = district.request("POST", "/api/v1/complaints", form("丙商店", "价格欺诈", request_id=request_id))
        assert reply.status == 400, reply.body
        assert [d["field"] for d in reply.error["details"]] == ["request_id"]
        assert "表单令牌" in reply.error["message"] and "form-token" in reply.error["details"][0]["description"]
    assert stored(district) == before


def test_a_retry_is_the_first_receipt_and_another_form_with_the_token_is_a_409(district):
    issued = district.get("/api/v1/complaints/form-token")
    assert issued.status == 200 and issued.headers["cache-control"] == "no-store"
    token = issued.body["token"]
    body = form("丁餐馆", "菜品中有异物", request_id=token)
    sent = dt.datetime.now(dt.UTC)
    first = district.request("POST", "/api/v1/complaints", body)
    again = district.request("POST", "/api/v1/complaints", body)
    assert first.status == again.status == 201 and first.body == again.body
    # The gateway sends no time (a retry must be the same request): complaints stamps its receipt.
    assert sent - dt.timedelta(seconds=1) <= received_at(district, first.body["id"]) <= dt.datetime.now(dt.UTC)
    before = stored(district)
    changed = district.request("POST", "/api/v1/complaints", form("丁餐馆", "换了一份内容", request_id=token))
    assert changed.status == 409, changed.body
    assert "表单令牌" in changed.error["message"]
    assert stored(district) == before, "a form refused as a replay was stored anyway"


@pytest.mark.parametrize("raw", [
    b"[" * 8000 + b"]" * 8000,
    b'{"kind": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2000 + b"}",
    b'{"amount_yuan": ' + b"9" * 5000 + b"}",
])
def test_a_body_no_parser_can_read_is_a_400_not_a_500(district, raw):
    reply = district.request("POST", "/api/v1/complaints", raw=raw, headers={"Content-Type": "application/json"})
    assert reply.status == 400, reply.body
    assert reply.error["message"] == "表单不是有效的 JSON"


def limited_district(tmp_path, **env: str) -> District:
    return District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings(),
                    gateway_env={"COMPLAINT_FORM_BURST": "2", "COMPLAINT_FORM_RATE_PER_MINUTE": "1", **env})


def statuses(running: District, forwarded_for: list[str]) -> list[int]:
    """A form complaints would refuse (so nothing is stored) from each X-Forwarded-For in turn."""
    return [running.request("POST", "/api/v1/complaints", {**FORM, "kind": "praise"},
                            headers={"X-Forwarded-For": value}).status for value in forwarded_for]


@pytest.mark.parametrize("proxies", ["", PROXY])
def test_a_client_rotating_x_forwarded_for_is_still_one_client(tmp_path, proxies):
    """Without a trusted proxy the header is ignored; behind one, the hop the proxy added counts,
    not the ones the client wrote to its left."""
    running = limited_district(tmp_path, COMPLAINT_FORM_TRUSTED_PROXIES=proxies)
    try:
        rotating = [f"198.18.{n}.{n}, 203.0.113.7" for n in range(1, 5)]
        assert statuses(running, rotating) == [400, 400, 429, 429]
        limited = running.request("POST", "/api/v1/complaints", FORM, headers={"X-Forwarded-For": "203.0.113.7"})
        assert limited.status == 429 and limited.error["message"] == "提交过于频繁，请稍后再试"
    finally:
        running.close()


def test_behind_a_trusted_proxy_each_citizen_has_a_bucket_of_their_own(tmp_path):
    running = limited_district(tmp_path, COMPLAINT_FORM_TRUSTED_PROXIES=PROXY)
    try:
        assert statuses(running, ["203.0.113.7"] * 3) == [400, 400, 429]
        # Another citizen behind the same Ingress, and one behind a second trusted hop.
        assert statuses(running, ["203.0.113.8", "203.0.113.9, 127.0.0.1"]) == [400, 400]
    finally:
        running.close()


def test_the_district_cap_holds_against_a_flood_from_many_addresses(tmp_path):
    running = limited_district(tmp_path, COMPLAINT_FORM_TRUSTED_PROXIES=PROXY,
                               COMPLAINT_FORM_DISTRICT_PER_MINUTE="3")
    try:
        assert statuses(running, [f"198.51.100.{n}" for n in range(1, 7)]) == [400, 400, 400, 429, 429, 429]
    finally:
        running.close()
