"""Downloads of assessment's results through the gateway (AUTH_MODE=jwt): real command_center and
assessment gRPC servers, the gateway's real HTTP server; the files read back with openpyxl and csv and
compared with what assessment's gRPC API answers the same caller."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest

from services.common.auth import issue_service_token, issue_token
from services.gateway.domain import exports
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from tests.api.gateway.support import District
from tests.conftest import make_settings

SECRET = "gateway-exports-test-secret-32-bytes"
LEADER = issue_token(SECRET, subject="leader", roles=["bureau_leader"])
HEAD_MH01 = issue_token(SECRET, subject="head-mh01", roles=["office_head"], office_id="MH01")
SYSTEM = issue_service_token(SECRET, subject="test")
XLSX_TYPE = exports.MEDIA_TYPES[exports.XLSX]


def _month_key(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def _quarter_key(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """Three offices of four officers each; then assessment's clock moves past the quarter's end, the
    month is closed (scores and ranks) and every office's officers get proposed grades."""
    base = tmp_path_factory.mktemp("exports")
    running = District(base, f"sqlite:///{base / 'gateway.db'}", make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET),
                       services=("command_center", "assessment"))
    system = [("authorization", f"Bearer {SYSTEM}")]
    running.add_offices(certified={"MH01": 4, "MH02": 2, "MH03": 3}, metadata=system)
    assessment = running.sources["assessment"]
    running.settle()
    today = running.clock.today
    running.month, running.quarter = _month_key(today), _quarter_key(today)
    quarter_end_month = ((today.month - 1) // 3 + 1) * 3
    running.clock.today = dt.date(today.year + (quarter_end_month == 12), quarter_end_month % 12 + 1, 2)
    running.scores = pb_grpc.ScoreServiceStub(assessment.channel)
    running.staff = pb_grpc.StaffAssessmentServiceStub(assessment.channel)
    running.scores.ClosePeriod(pb.ClosePeriodRequest(request_id="close", period=running.month), metadata=system)
    for office_id in ("MH01", "MH02", "MH03"):
        running.staff.ProposeGrades(pb.ProposeGradesRequest(request_id=f"grades-{office_id}", office_id=office_id,
                                                            quarter=running.quarter), metadata=system)
    running.settle()
    yield running
    running.close()


def download(district, path: str, token: str = LEADER):
    return district.get(path, token=token)


def raw_download(district, path: str, token: str = LEADER) -> tuple[int, dict[str, str], bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", district.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        reply = connection.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        connection.close()


def sheet_rows(body: bytes) -> tuple[list, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(body))
    rows = list(book.active.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def csv_rows(body: bytes) -> tuple[list, list[list[str]]]:
    assert body.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would read the Chinese with the local code page"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return rows[0], rows[1:]


def grpc_rankings(district, token: str) -> list:
    return list(district.scores.ListRankings(pb.ListRankingsRequest(period=district.month, page_size=100),
                                             metadata=[("authorization", f"Bearer {token}")]).rankings)


def test_the_rankings_workbook_holds_assessment_s_ranking_of_the_period(district):
    status, headers, body = raw_download(district, f"/api/v1/exports/rankings?format=xlsx&period={district.month}")
    assert status == 200, body[:300]
    assert headers["content-type"] == XLSX_TYPE
    assert f'filename="rankings-{district.month}.xlsx"' in headers["content-disposition"]
    assert headers["cache-control"] == "no-store"
    columns, rows = sheet_rows(body)
    assert columns == ["考核期", "排名", "所代码", "所名称", "标准化指数", "考核系数", "调整后指数"]
    expected = [(district.month, r.rank, r.office_id, r.office_name, round(r.index, 2), round(r.coefficient, 4),
                 round(r.adjusted_index, 2)) for r in grpc_rankings(district, LEADER)]
    assert len(expected) == 3 and rows == expected
    assert {r[2] for r in rows} == {"MH01", "MH02", "MH03"} and "莘庄市场监督管理所" in {r[3] for r in rows}


def test_without_a_period_the_newest_closed_one_is_exported_and_csv_carries_a_bom(district):
    status, headers, body = raw_download(district, "/api/v1/exports/rankings?format=csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert f"rankings-{district.month}.csv" in headers["content-disposition"]
    columns, rows = csv_rows(body)
    assert columns[:4] == ["考核期", "排名", "所代码", "所名称"]
    expected = [[district.month, str(r.rank), r.office_id, r.office_name, str(round(r.index, 2))]
                for r in grpc_rankings(district, LEADER)]
    assert [row[:5] for row in rows] == expected


def test_the_scores_workbook_matches_each_office_s_period_score(district):
    status, _, body = raw_download(district, f"/api/v1/exports/scores?period={district.month}")
    assert status == 200
    columns, rows = sheet_rows(body)
    metadata = [("authorization", f"Bearer {LEADER}")]
    for row in rows:
        score = district.scores.GetPeriodScore(pb.GetPeriodScoreRequest(period=district.month, office_id=row[1]),
                                               metadata=metadata)
        assert row[3] == round(score.index, 2) and row[4] == round(score.coefficient, 4)
        assert (row[6], row[7]) == (score.rank, score.index_rank)
        for dimension in score.dimensions:
            shown = row[columns.index(f"{dimension.name}得分")]
            assert shown == (round(dimension.score, 2) if dimension.HasField("score") else None)
    assert sorted(r[1] for r in rows) == ["MH01", "MH02", "MH03"]


def test_the_officer_grades_match_assessment_s_list(district):
    status, _, body = raw_download(district, f"/api/v1/exports/officer-grades?format=csv&period={district.quarter}")
    assert status == 200
    columns, rows = csv_rows(body)
    assert columns[:4] == ["季度", "所代码", "执法人员编号", "姓名"]
    listed = district.staff.ListOfficerAssessments(pb.ListOfficerAssessmentsRequest(
        page_size=100, filter=f'quarter = "{district.quarter}"'), metadata=[("authorization", f"Bearer {LEADER}")])
    assert len(rows) == len(listed.assessments) == 12
    assert [(r[2], r[7]) for r in rows] == [
        (a.officer_id, exports.GRADE_LABELS[pb.Grade.Name(a.proposed_grade)]) for a in listed.assessments]
    everything = raw_download(district, "/api/v1/exports/officer-grades")
    assert everything[0] == 200 and len(sheet_rows(everything[2])[1]) == 12  # every quarter: this one only


def test_an_office_head_downloads_their_own_office_s_rows_only(district):
    status, _, body = raw_download(district, "/api/v1/exports/rankings", token=HEAD_MH01)
    assert status == 200
    assert [r[2] for r in sheet_rows(body)[1]] == ["MH01"] == [r.office_id for r in grpc_rankings(district, HEAD_MH01)]
    status, _, body = raw_download(district, "/api/v1/exports/officer-grades?format=csv", token=HEAD_MH01)
    assert status == 200 and {r[1] for r in csv_rows(body)[1]} == {"MH01"}
    status, _, body = raw_download(district, "/api/v1/exports/scores", token=HEAD_MH01)
    assert status == 200 and [r[1] for r in sheet_rows(body)[1]] == ["MH01"]


@pytest.mark.parametrize(("path", "status", "field"), [
    ("/api/v1/exports/rankings?format=pdf", 400, "format"),
    ("/api/v1/exports/rankings?period=2026-13", 400, "period"),
    ("/api/v1/exports/rankings?period=last", 400, "period"),
    ("/api/v1/exports/officer-grades?period=2026-09", 400, "period"),
    ("/api/v1/exports/rankings?period=1999", 400, "period"),  # assessment's own check: years 2000-2100
    ("/api/v1/exports/payroll", 404, None),
    ("/api/v1/exports/rankings?period=2001-Q1", 404, None),
])
def test_bad_export_requests_are_refused_in_chinese_and_english(district, path, status, field):
    reply = download(district, path)
    assert reply.status == status, reply.body
    assert re.search(r"[\u4e00-\u9fff]", reply.error["message"]) and re.search(r"[a-z]{3}", reply.error["message"])
    if field:
        assert field in {d["field"] for d in reply.error["details"]}


def test_an_export_needs_a_valid_token(district):
    assert download(district, "/api/v1/exports/rankings", token="").status == 401
    assert download(district, "/api/v1/exports/rankings", token="not-a-jwt").status == 401


def test_an_unreachable_assessment_is_a_503(tmp_path):
    running = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings())
    try:
        reply = running.get("/api/v1/exports/rankings")
        assert reply.status == 503 and reply.headers["retry-after"] and "assessment" in reply.error["message"]
    finally:
        running.close()


def test_text_that_a_spreadsheet_would_run_stays_text():
    """An office named like a formula (=HYPERLINK(...)) must not become one in the file."""
    table = exports.Table("t", ("名称", "指数"), [("=HYPERLINK(\"http://x\",\"y\")", 1.5), ("-2+3", None),
                                                   ("普通", 2.0)])
    _, rows = sheet_rows(exports.to_xlsx(table))
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(table)))
    assert [c.data_type for c in book.active["A"][1:]] == ["s", "s", "s"]  # text, not a formula
    assert rows[0][0] == "=HYPERLINK(\"http://x\",\"y\")" and rows[1] == ("-2+3", None)
    _, csv_body = csv_rows(exports.to_csv(table))
    assert [r[0] for r in csv_body] == ["'=HYPERLINK(\"http://x\",\"y\")", "'-2+3", "普通"]


@pytest.mark.parametrize(("kind", "format_", "period"), [
    ("ranking", "xlsx", ""), ("rankings", "XLSX", ""), ("rankings", "xlsx", "2026-Q5"), ("scores", "csv", "26-Q1"),
    ("officer-grades", "csv", "2026"),
])
def test_parse_export_request_refuses_what_is_not_an_export(kind, format_, period):
    with pytest.raises((exports.InvalidArgument, exports.NotFound)):
        exports.parse_export_request(kind, format_, period)
