"""A request_id sent again through real gRPC: the same request is a retry and gets the first answer;
a different request under a used request_id is ALREADY_EXISTS and changes nothing (the caller must
learn its second request was not carried out, not be answered with the first one's record)."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import func, select

from services.assessment.models import RequestKey as AssessmentRequestKey
from services.command_center.models import RequestKey as CenterRequestKey
from services.complaints.models import RequestKey as ComplaintsRequestKey
from services.mobile_enforcement.models import RequestKey as EnforcementRequestKey
from supervision.assessment.v1 import assessment_pb2 as asm
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.complaints.v1 import complaints_pb2 as cp
from tests.api.assessment.support import TODAY as ASSESSMENT_TODAY
from tests.api.assessment.support import AssessmentClient, edited
from tests.api.command_center.support import counts, expect_error, office
from tests.api.complaints.support import ComplaintsClient, complaint
from tests.api.mobile_enforcement.support import (
    InstantClock,
    connect,
    directory,
    host_mobile_enforcement,
    plan_request,
)
from tests.conftest import make_settings
from tests.support import Clock, host


def request_keys(running, model) -> int:
    with running.store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def refused_as_reused(call) -> None:
    found = expect_error(call, grpc.StatusCode.ALREADY_EXISTS)
    assert found == {"request_id": "already used for a different request"}


def test_create_office_replayed_with_another_office_is_already_exists(command_center):
    first = command_center.offices.CreateOffice(cc.CreateOfficeRequest(request_id="r1", office=office()))
    before = (counts(command_center), request_keys(command_center.running, CenterRequestKey))
    with pytest.raises(grpc.RpcError) as info:
        command_center.offices.CreateOffice(cc.CreateOfficeRequest(
            request_id="r1", office=office("MH02", "七宝市场监督管理所", ("七宝镇",))))
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "'r1' was already used for a different request" in info.value.details()
    assert "new request_id" in info.value.details()
    refused_as_reused(lambda: command_center.offices.CreateOffice(
        cc.CreateOfficeRequest(request_id="r1", office=office(name="另一个名字"))))
    assert (counts(command_center), request_keys(command_center.running, CenterRequestKey)) == before
    with pytest.raises(grpc.RpcError):
        command_center.offices.GetOffice(cc.GetOfficeRequest(id="MH02"))
    # The first request sent again is a retry: the first answer.
    assert command_center.offices.CreateOffice(cc.CreateOfficeRequest(request_id="r1", office=office())) == first


@pytest.fixture
def complaints(store_url):
    client = ComplaintsClient(host("complaints", store_url, make_settings()))
    client.announce_office("MH02", ["七宝镇"])
    yield client
    client.close()


def test_create_complaint_replayed_with_another_complaint_is_already_exists(complaints):
    first = complaints.create("c1")
    before = (complaints.counts(), request_keys(complaints.running, ComplaintsRequestKey))
    refused_as_reused(lambda: complaints.stub.CreateComplaint(cp.CreateComplaintRequest(
        request_id="c1", complaint=complaint(description="另一位消费者的另一件投诉：电动车充电器起火。"))))
    assert (complaints.counts(), request_keys(complaints.running, ComplaintsRequestKey)) == before
    assert complaints.create("c1") == first


@pytest.fixture
def enforcement(store_url, tmp_path):
    client = connect(host_mobile_enforcement(store_url, InstantClock()), tmp_path)
    client.office("MH01", ["莘庄镇"])
    for number in range(1, 5):
        client.officer(f"MH01-{number:03d}")
    directory(client, count=12)
    yield client
    client.close()


def test_draw_plan_replayed_with_another_plan_is_already_exists(enforcement):
    """DrawPlan answers a retry before reading the directory: that early answer compares too."""
    first = enforcement.spot_checks.DrawPlan(plan_request(request_id="p1"))
    before = (enforcement.counts(), request_keys(enforcement.running, EnforcementRequestKey))
    refused_as_reused(lambda: enforcement.spot_checks.DrawPlan(plan_request(request_id="p1", seed="另一个种子")))
    assert (enforcement.counts(), request_keys(enforcement.running, EnforcementRequestKey)) == before
    assert enforcement.spot_checks.DrawPlan(plan_request(request_id="p1")) == first


@pytest.fixture
def assessment(store_url, monkeypatch):
    monkeypatch.setenv("INDICATOR_SOURCES", "")
    running = host("assessment", store_url, make_settings(), Clock(ASSESSMENT_TODAY))
    yield AssessmentClient(running)
    running.close()


def test_update_scheme_replayed_with_another_scheme_is_already_exists(assessment):
    """The reliability suite cannot build an accepted UpdateScheme from the demo district's records:
    the scheme update is covered here."""
    request = asm.UpdateSchemeRequest(request_id="s1", scheme=edited(assessment, target=0.98), expected_version=1)
    first = assessment.schemes.UpdateScheme(request)
    before = (assessment.counts(), request_keys(assessment.running, AssessmentRequestKey))
    refused_as_reused(lambda: assessment.schemes.UpdateScheme(asm.UpdateSchemeRequest(
        request_id="s1", scheme=edited(assessment, target=0.5), expected_version=2)))
    assert (assessment.counts(), request_keys(assessment.running, AssessmentRequestKey)) == before
    assert assessment.schemes.UpdateScheme(request) == first
