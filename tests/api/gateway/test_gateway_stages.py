"""GET /api/v1/stages through the gateway's real HTTP server (AUTH_MODE=jwt), with command_center and
assessment behind it: the caller's token goes on to assessment, so an office's people see their own
office's stage and are refused another's (403, in Chinese); bad input is a 400 naming the field."""

from __future__ import annotations

import re

import pytest

from services.common.auth import issue_service_token, issue_token
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from tests.api.gateway.support import District
from tests.conftest import make_settings

SECRET = "gateway-stages-test-secret-of-32-bytes"
LEADER = issue_token(SECRET, subject="leader", roles=["bureau_leader"])
HEAD_MH01 = issue_token(SECRET, subject="head-mh01", roles=["office_head"], office_id="MH01")
SYSTEM = [("authorization", f"Bearer {issue_service_token(SECRET, subject='test')}")]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """Three offices known to assessment, and the third quarter closed with nothing reported."""
    base = tmp_path_factory.mktemp("stages")
    running = District(base, f"sqlite:///{base / 'gateway.db'}", make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET),
                       services=("command_center", "assessment"))
    running.add_offices(metadata=SYSTEM)
    scores = pb_grpc.ScoreServiceStub(running.sources["assessment"].channel)
    scores.ClosePeriod(pb.ClosePeriodRequest(period="2026-Q3"), metadata=SYSTEM)
    running.settle()
    yield running
    running.close()


def test_the_bureau_sees_every_offices_stage_and_what_it_lacks(district):
    reply = district.get("/api/v1/stages", token=LEADER)
    assert reply.status == 200, reply.body
    offices = {o["office_id"]: o for o in reply.body["offices"]}
    assert set(offices) == {"MH01", "MH02", "MH03"}
    # Nothing was reported for the quarter: no index, so no stage yet, and 规范 is next.
    first = offices["MH01"]
    assert (first["stage"], first["next_stage_name"], first["periods"]) == ("", "规范", ["2026-Q3"])
    index_lack = next(lack for lack in first["lacks"] if lack["target"] == "index")
    assert index_lack["actual"] is None and index_lack["shortfall"] == index_lack["required"] > 0
    assert district.get("/api/v1/stages?office_id=MH99", token=LEADER).body["offices"] == []


def test_an_office_sees_its_own_stage_only(district):
    own = district.get("/api/v1/stages", token=HEAD_MH01)
    assert [o["office_id"] for o in own.body["offices"]] == ["MH01"]
    assert district.get("/api/v1/stages?office_id=MH01", token=HEAD_MH01).status == 200
    refused = district.get("/api/v1/stages?office_id=MH02", token=HEAD_MH01)
    assert refused.status == 403 and CHINESE.search(refused.error["message"])
    assert district.get("/api/v1/stages").status == 401


@pytest.mark.parametrize("office_id", ["MH%2001", "x" * 40, "-MH01"])
def test_a_bad_office_id_is_a_400_naming_it(district, office_id):
    reply = district.get(f"/api/v1/stages?office_id={office_id}", token=LEADER)
    assert reply.status == 400
    assert CHINESE.search(reply.error["message"])
    assert "office_id" in str(reply.error.get("details") or reply.error.get("field_violations"))
