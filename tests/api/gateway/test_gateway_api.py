"""The gateway through its real HTTP server and gRPC server, fed by real services."""

from __future__ import annotations

import datetime as dt
import json
import time

import grpc
import pytest
from prometheus_client import REGISTRY, generate_latest
from sqlalchemy import select

from services.gateway.models import HistoryPoint, KnownScheme
from supervision.assessment.v1 import assessment_pb2 as as_pb
from supervision.assessment.v1 import assessment_pb2_grpc as as_grpc
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.gateway.v1 import gateway_pb2 as pb
from tests.api.gateway.support import date
from tests.support import violations


def expect_error(call, code: grpc.StatusCode) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return violations(info.value)


# ---------------------------------------------------------------- HTTP: the live index


def test_offices_are_listed_in_rank_order_with_their_index(district):
    reply = district.get("/api/v1/offices")
    assert reply.status == 200
    offices = reply.body["offices"]
    assert [o["office_id"] for o in offices] == ["MH01", "MH03", "MH02"]  # more valid certificates, higher
    assert [o["rank"] for o in offices] == [1, 2, 3]
    assert offices[0]["name"] == "莘庄市场监督管理所" and offices[0]["index"] > offices[1]["index"]
    assert set(offices[0]["dimensions"]) == {"duties", "facilities", "workflow", "support"}
    first = district.get("/api/v1/offices?page_size=2")
    assert [o["office_id"] for o in first.body["offices"]] == ["MH01", "MH03"] and first.body["next_page_token"]
    second = district.get(f"/api/v1/offices?page_size=2&page_token={first.body['next_page_token']}")
    assert [o["office_id"] for o in second.body["offices"]] == ["MH02"] and second.body["next_page_token"] == ""
    only = district.get("/api/v1/offices?office_id=MH03").body["offices"]
    assert [o["office_id"] for o in only] == ["MH03"]


def test_an_office_breakdown_explains_every_point_lost(district):
    detail = district.get("/api/v1/offices/MH02").body
    assert detail["office_id"] == "MH02" and detail["rank"] == 3
    certificates = next(i for i in detail["indicators"] if i["key"] == "command_center.certificates_valid")
    assert (certificates["numerator"], certificates["denominator"], certificates["status"]) == (2, 4, "pro_rata")
    assert certificates["name"] == "执法证件有效率" and "扣" in certificates["explanation_zh"]
    assert certificates["points_lost"] == 15 and certificates["index_points_lost"] > 0
    lost = sum(i["index_points_lost"] for i in detail["indicators"])
    assert lost == pytest.approx(100 - detail["index"], abs=0.05)
    missing = [i for i in detail["indicators"] if i["status"] == "missing"]
    assert missing and all(i["index_points_lost"] == 0 for i in missing)
    assert {s["source"]: s["available"] for s in detail["sources"]}["complaints"] is False


def test_district_figures_are_sums_over_offices_and_rankings_follow_the_index(district):
    district_body = district.get("/api/v1/district").body
    certificates = next(i for i in district_body["indicators"] if i["key"] == "command_center.certificates_valid")
    assert (certificates["numerator"], certificates["denominator"]) == (9, 12)
    assert district_body["office_count"] == 3
    rankings = district.get("/api/v1/rankings").body["rankings"]
    assert [(r["rank"], r["office_id"]) for r in rankings] == [(1, "MH01"), (2, "MH03"), (3, "MH02")]


def test_a_change_in_a_service_moves_the_index_at_once(district):
    before = district.index_of("MH02")
    district.register_officer("MH02", 9, valid=True)
    district.settle()
    assert district.index_of("MH02") > before
    office = district.get("/api/v1/offices/MH02").body
    certificates = next(i for i in office["indicators"] if i["key"] == "command_center.certificates_valid")
    assert (certificates["numerator"], certificates["denominator"]) == (3, 5)


def test_a_certificate_about_to_expire_raises_an_alert_soon_after_the_change(district):
    expires = district.clock.today + dt.timedelta(days=10)
    district.officers.RegisterOfficer(cc_pb.RegisterOfficerRequest(officer=cc_pb.Officer(
        id="MH01-09", name="王伟", office_id="MH01", group=cc_pb.GROUP_KIND_GENERAL, certificate_no="SHMH0109",
        certificate_expires=date(expires))))
    district.settle()
    deadline = time.monotonic() + 10
    while not (alerts := [a for a in district.get("/api/v1/alerts").body["alerts"]
                          if a["kind"] == "certificate_expiring"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(a["id"], a["office_id"]) for a in alerts] == [("certificate_expiring/MH01-09", "MH01")]
    assert "王伟" not in json.dumps(alerts, ensure_ascii=False)  # named by id only


def test_the_scheme_in_use_is_shown_with_its_names(district):
    scheme = district.get("/api/v1/scheme").body
    assert scheme["origin"] == "file" and scheme["dimensions"][0]["name"] == "职责界定具体化"
    assert scheme["names"]["complaints.backlog"] == "在办投诉举报件数"


@pytest.mark.parametrize(("path", "status", "field"), [
    ("/api/v1/offices/MH99", 404, None),
    ("/api/v1/offices?page_size=-1", 400, "page_size"),
    ("/api/v1/offices?page_size=5001", 200, None),  # lowered to the maximum (AIP-158), not refused
    ("/api/v1/offices?page_size=ten", 400, "page_size"),
    ("/api/v1/offices?page_token=garbage!", 400, "page_token"),
    ("/api/v1/alerts?office_id=MH99", 200, None),
    ("/api/v1/indicators/index/history?resolution=hour", 400, "resolution"),
    ("/api/v1/indicators/index/history?from=yesterday", 400, "from"),
    ("/api/v1/indicators/index/history?from=2026-11-02T00:00:00", 400, "from"),
    ("/api/v1/indicators/index/history?from=2026-11-03T00:00:00Z&to=2026-11-02T00:00:00Z", 400, "from"),
    ("/api/v1/indicators/index/history?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", 400, "from"),
    ("/api/v1/indicators/nonsense/history", 404, None),
    ("/api/v1/indicators/index/history?office_id=MH99", 404, None),
    ("/api/v1/no-such-thing", 404, None),
])
def test_bad_input_is_a_4xx_with_a_json_message(district, path, status, field):
    reply = district.get(path)
    assert reply.status == status, reply.body
    if status >= 400:
        assert reply.error["code"] == status and reply.error["message"]
        if field:
            assert field in {d["field"] for d in reply.error["details"]}


def test_a_wrong_method_is_a_json_405(district):
    reply = district.request("DELETE", "/api/v1/offices")
    assert reply.status == 405 and reply.error["status"] == "METHOD_NOT_ALLOWED"


def test_probes_metrics_and_the_api_document(district):
    assert district.get("/healthz").body == {"status": "ok"}
    ready = district.get("/readyz").body
    assert ready["status"] == "ready" and {s["source"] for s in ready["sources"]} >= {"command_center", "assessment"}
    # The process's registry, which METRICS_PORT serves (the public HTTP port does not: 404).
    assert district.get("/metrics").status == 404
    metrics = generate_latest(REGISTRY).decode()
    assert 'supervision_office_index{dimension="index",office_id="MH01"}' in metrics
    assert 'supervision_office_index{dimension="duties",office_id="MH02"}' in metrics
    assert "supervision_gateway_stream_clients" in metrics and "supervision_gateway_event_lag_seconds" in metrics
    assert 'supervision_gateway_source_up{source="complaints"} 0.0' in metrics
    assert "grpc_server_started_total" in metrics  # the whole process's registry
    document = district.get("/api/v1/openapi.json").body
    assert document["openapi"].startswith("3.") and "/api/v1/stream" in document["paths"]
    routes = {r.resource.canonical for r in district.gateway.http.app.router.routes()
              if r.resource.canonical.startswith("/api/v1")}
    assert routes - {"/api/v1/openapi.json"} == set(document["paths"])  # every route is documented


def test_the_dashboard_is_served_with_its_chart_library(district):
    page = district.get("/")
    assert page.status == 200 and "实时监测" in page.body and "/static/vendor/echarts.min.js" in page.body
    assert district.get("/static/app.js").status == 200
    assert district.get("/static/vendor/echarts.min.js").status == 200


def test_a_missing_chart_library_is_a_clear_error_page(district, monkeypatch, tmp_path):
    from services.gateway.http_api import routes

    monkeypatch.setattr(routes, "ECHARTS", tmp_path / "not-built" / "echarts.min.js")
    page = district.get("/")
    assert page.status == 503 and "make web" in page.body and "echarts.min.js" in page.body
    assert district.get("/api/v1/district").status == 200  # the API works without it


# ---------------------------------------------------------------- history (both stores)


def test_history_keeps_the_index_by_minute_and_day(district_on_each_store):
    district = district_on_each_store
    recorder = district.runtime.parts.recorder
    recorder.flush()
    before = district.index_of("MH02")
    district.register_officer("MH02", 9, valid=True)
    district.settle()
    recorder.flush()
    points = district.get("/api/v1/indicators/index/history?office_id=MH02").body["points"]
    assert points[-1]["value"] == pytest.approx(district.index_of("MH02"), abs=0.0001)
    assert any(p["value"] == pytest.approx(before, abs=0.0001) for p in points) or len(points) == 1
    day = district.get("/api/v1/indicators/command_center.certificates_valid/history?office_id=MH02"
                       "&resolution=day").body
    assert day["points"][-1]["value"] == pytest.approx(3 / 5)
    whole = district.get("/api/v1/indicators/support/history?resolution=month").body
    assert whole["scope"] == "_district" and whole["points"]
    with district.store.read() as session:
        resolutions = set(session.scalars(select(HistoryPoint.resolution).distinct()))
    assert resolutions == {"minute", "day"}
    old = district.monitor.now() + dt.timedelta(days=1000)
    assert district.monitor.history.prune(old, 7, 800) > 0


def test_a_published_scheme_is_kept_and_applies_from_its_effective_date(district_with_assessment):
    district = district_with_assessment
    schemes = as_grpc.SchemeServiceStub(district.sources["assessment"].channel)
    first = schemes.GetScheme(as_pb.GetSchemeRequest())
    assert district.monitor.view.scheme.version == first.version  # asked at start
    before = district.index_of("MH02")
    names = district.get("/api/v1/scheme").body["names"]
    assert names["complaints.backlog"] == "在办投诉举报件数"  # unscored: the starting file's name so far

    def publish(request_id: str, effective: dt.date, target: float) -> int:
        """assessment's UpdateScheme, which records SchemeUpdated; the gateway applies it on settle."""
        scheme = as_pb.Scheme()
        scheme.CopyFrom(first)
        next(r for r in scheme.indicators if r.key == "command_center.certificates_valid").target = target
        scheme.effective_from.CopyFrom(date(effective))
        version = schemes.UpdateScheme(as_pb.UpdateSchemeRequest(request_id=request_id, scheme=scheme)).version
        district.settle()
        return version

    today = district.clock.today
    lenient = publish("lenient", today, 0.5)
    assert district.monitor.view.scheme.version == lenient and district.index_of("MH02") > before
    strict = publish("strict", today + dt.timedelta(days=30), 1.0)
    assert district.monitor.view.scheme.version == lenient  # not in force yet
    with district.store.read() as session:
        assert set(session.scalars(select(KnownScheme.version))) >= {lenient, strict}
    shown = district.get("/api/v1/scheme").body
    assert shown["origin"] == "assessment" and shown["version"] == lenient
    assert shown["names"]["complaints.backlog"] == "投诉积压件数"  # the names SchemeUpdated carries
    district.clock.today = today + dt.timedelta(days=30)
    district.monitor.rescore_if_due()
    assert district.monitor.view.scheme.version == strict
    assert district.index_of("MH02") == pytest.approx(before)


# ---------------------------------------------------------------- gRPC


def test_grpc_lists_gets_and_sums_the_index(district):
    listed = district.monitoring.ListOfficeIndices(pb.ListOfficeIndicesRequest())
    assert [o.office_id for o in listed.offices] == ["MH01", "MH03", "MH02"]
    assert listed.offices[0].rank == 1 and listed.offices[0].dimensions and not listed.offices[0].indicators
    paged = district.monitoring.ListOfficeIndices(pb.ListOfficeIndicesRequest(page_size=1))
    rest = district.monitoring.ListOfficeIndices(pb.ListOfficeIndicesRequest(page_token=paged.next_page_token))
    assert [o.office_id for o in rest.offices] == ["MH03", "MH02"]
    office = district.monitoring.GetOfficeIndex(pb.GetOfficeIndexRequest(office_id="MH02"))
    assert office.index == pytest.approx(district.index_of("MH02"))
    certificates = next(i for i in office.indicators if i.key == "command_center.certificates_valid")
    assert certificates.status == pb.SCORE_STATUS_PRO_RATA and certificates.explanation_zh
    whole = district.monitoring.GetDistrictIndex(pb.GetDistrictIndexRequest())
    assert whole.office_count == 3 and {s.source for s in whole.sources} >= {"command_center"}


@pytest.mark.parametrize(("request_", "field"), [
    (pb.ListOfficeIndicesRequest(page_size=-1), "page_size"),
    (pb.ListOfficeIndicesRequest(page_token="not-a-token"), "page_token"),
    (pb.ListOfficeIndicesRequest(filter="rank = 1"), "filter"),
])
def test_grpc_bad_list_input_is_invalid_argument(district, request_, field):
    found = expect_error(lambda: district.monitoring.ListOfficeIndices(request_), grpc.StatusCode.INVALID_ARGUMENT)
    assert field in found


def test_grpc_get_bad_input(district):
    assert "office_id" in expect_error(lambda: district.monitoring.GetOfficeIndex(pb.GetOfficeIndexRequest()),
                                       grpc.StatusCode.INVALID_ARGUMENT)
    expect_error(lambda: district.monitoring.GetOfficeIndex(pb.GetOfficeIndexRequest(office_id="MH99")),
                 grpc.StatusCode.NOT_FOUND)
    watch = district.monitoring.WatchIndices(pb.WatchIndicesRequest(resume_after="bogus"))
    assert "resume_after" in expect_error(lambda: next(watch), grpc.StatusCode.INVALID_ARGUMENT)
    crowded = district.monitoring.WatchIndices(pb.WatchIndicesRequest(office_ids=[f"X{n}" for n in range(5001)]))
    assert "office_ids" in expect_error(lambda: next(crowded), grpc.StatusCode.INVALID_ARGUMENT)


def test_grpc_watch_starts_with_the_state_and_resumes_without_a_gap(district):
    watch = district.monitoring.WatchIndices(pb.WatchIndicesRequest(office_ids=["MH02"]), timeout=20)
    first = next(watch)
    assert first.office.office_id == "MH02" and not first.reset
    assert next(watch).WhichOneof("change") == "district"
    district.register_officer("MH02", 9, valid=True)
    district.settle()
    change = next(watch)
    while change.WhichOneof("change") != "office":
        change = next(watch)
    assert change.office.index == pytest.approx(district.index_of("MH02"))
    watch.cancel()
    district.register_officer("MH02", 10, valid=False)
    district.settle()
    resumed = district.monitoring.WatchIndices(pb.WatchIndicesRequest(office_ids=["MH02"], resume_after=change.id),
                                               timeout=20)
    following = [next(resumed)]
    while following[-1].WhichOneof("change") != "office":
        following.append(next(resumed))
    assert not any(c.reset for c in following)  # continued after `change`, not started again
    assert following[-1].office.index == pytest.approx(district.index_of("MH02"))
    resumed.cancel()
