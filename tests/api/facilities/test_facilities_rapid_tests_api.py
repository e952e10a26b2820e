"""facilities' rapid tests through a real gRPC server: retests, positives, monthly report, daily notice."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.clock import SHANGHAI
from supervision.facilities.v1 import events_pb2
from supervision.facilities.v1 import facilities_pb2 as pb
from tests.api.facilities.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    START,
    TODAY,
    date,
    expect_error,
    rapid_test_request,
    refused,
    timestamp,
)


@pytest.fixture
def reader(client) -> str:
    return client.register("pesticide_reader").id


def test_results_follow_the_methods_threshold(client, reader):
    negative = client.record(reader, 49.9, request_id="t1")
    assert (negative.result, negative.state) == (pb.TEST_RESULT_NEGATIVE, pb.TEST_STATE_NEGATIVE)
    assert not negative.HasField("retest_deadline") and negative.unit == "%"
    assert client.record(reader, 49.9, request_id="t1") == negative  # a retry: the first result
    positive = client.record(reader, 50.0, result=pb.TEST_RESULT_POSITIVE)
    assert positive.state == pb.TEST_STATE_POSITIVE_PENDING
    assert positive.retest_deadline.ToDatetime(dt.UTC) == START + dt.timedelta(hours=4)
    multi = client.register("rapid_test_reader").id
    at_limit = client.record(multi, 30.0, item="nitrite", method="colorimetric")  # positive only above 30 mg/kg
    assert at_limit.result == pb.TEST_RESULT_NEGATIVE and at_limit.item_name == "亚硝酸盐"
    above = client.record(multi, 30.5, item="nitrite", method="colorimetric")
    assert above.result == pb.TEST_RESULT_POSITIVE
    assert client.readings()["facilities.rapid_tests_per_week"] == (4, 35)
    client.clock.advance(days=7)
    assert client.readings()["facilities.rapid_tests_per_week"] == (4, 35)  # moved by the sweep only
    client.running.runtime.timers[0].run()
    assert client.readings()["facilities.rapid_tests_per_week"] == (0, 35)
    listed = client.tests.ListTests(pb.ListTestsRequest(filter='tested_on = "2026-11-10" AND state = POSITIVE_PENDING'))
    assert {t.id for t in listed.tests} == {positive.id, above.id}
    assert client.tests.GetTest(pb.GetTestRequest(id=positive.id)) == positive


def test_bad_tests_are_refused_and_change_nothing(client, reader):
    camera = client.register("body_camera").id
    stale = client.register("pesticide_reader", last_calibrated=TODAY - dt.timedelta(days=400),
                            due=TODAY - dt.timedelta(days=1)).id
    client.office("MH02", "七宝市场监督管理所")
    elsewhere = client.register("pesticide_reader", office_id="MH02").id
    retired = client.register("pesticide_reader").id
    client.equipment.SetEquipmentStatus(pb.SetEquipmentStatusRequest(id=retired, status=pb.EQUIPMENT_STATUS_RETIRED))
    cases = [
        (rapid_test_request(reader, 120), INVALID, "reading"),
        (rapid_test_request(reader, -0.5), INVALID, "reading"),
        (rapid_test_request(reader, float("inf")), INVALID, "reading"),
        (rapid_test_request(reader, 70, result=pb.TEST_RESULT_NEGATIVE), INVALID, "result"),
        (rapid_test_request(reader, item="melamine"), INVALID, "item"),
        (rapid_test_request(reader, method="hplc"), INVALID, "method"),
        (rapid_test_request(reader, vendor_uscc="91350100M000100Y44"), INVALID, "sample.vendor_uscc"),
        (rapid_test_request(reader, vendor_uscc="91350100M000100Y4"), INVALID, "sample.vendor_uscc"),
        (rapid_test_request(reader, name=""), INVALID, "sample.name"),
        (rapid_test_request(reader, vendor_name=""), INVALID, "sample.vendor_name"),
        (rapid_test_request(reader, origin=0), INVALID, "origin"),
        (rapid_test_request(reader, tested_at=START + dt.timedelta(hours=1)), INVALID, "tested_at"),
        (rapid_test_request(reader, tested_at=START - dt.timedelta(days=32)), INVALID, "tested_at"),
        (rapid_test_request(camera), INVALID, "equipment_id"),
        (rapid_test_request(stale), PRECONDITION, "equipment_id"),
        (rapid_test_request(elsewhere), PRECONDITION, "equipment_id"),
        (rapid_test_request(retired), PRECONDITION, "equipment_id"),
        (rapid_test_request("no-such-device"), NOT_FOUND, None),
        (rapid_test_request(reader, office_id="MH77"), NOT_FOUND, None),
    ]
    for request, code, field in cases:
        refused(client, lambda request=request: client.tests.RecordTest(request), code, field)
    assert "out of calibration" in expect_error(lambda: client.tests.RecordTest(rapid_test_request(stale)),
                                                PRECONDITION)["equipment_id"]
    due_today = client.register("pesticide_reader", last_calibrated=TODAY - dt.timedelta(days=365), due=TODAY).id
    assert client.record(due_today).state == pb.TEST_STATE_NEGATIVE  # usable on its due date, not after
    for request, field in [(pb.ListTestsRequest(filter='tested_on = "2026-13-01"'), "filter"),
                           (pb.ListTestsRequest(filter="state = LOST"), "filter")]:
        assert field in expect_error(lambda request=request: client.tests.ListTests(request), INVALID)
    expect_error(lambda: client.tests.GetTest(pb.GetTestRequest(id="nope")), NOT_FOUND)


def test_a_retest_is_possible_within_the_window_only(client, reader):
    early = client.record(reader, 66)
    client.clock.advance(hours=3, minutes=59)
    assert "retest_method" in expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(
        test_id=early.id, retest_method="enzyme_inhibition")), INVALID)
    requested = client.tests.RequestRetest(pb.RequestRetestRequest(test_id=early.id,
                                                                   retest_method="GB 23200.113-2018"))
    assert requested.state == pb.TEST_STATE_RETEST_REQUESTED and requested.retest_method == "GB 23200.113-2018"
    expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(
        test_id=early.id, retest_method="GB 23200.113-2018")), PRECONDITION)
    assert "retest_result" in expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(
        test_id=early.id)), INVALID)
    assert "kg_destroyed" in expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(
        test_id=early.id, retest_result=pb.TEST_RESULT_NEGATIVE, kg_destroyed=2)), INVALID)
    cleared = client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=early.id,
                                                                 retest_result=pb.TEST_RESULT_NEGATIVE))
    assert cleared.state == pb.TEST_STATE_CLEARED_ON_RETEST and client.events(events_pb2.RapidTestPositive) == []

    late = client.record(reader, 70)
    client.clock.advance(hours=4, seconds=1)
    before = client.counts()
    expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(
        test_id=late.id, retest_method="GB 23200.113-2018")), PRECONDITION)
    assert client.tests.GetTest(pb.GetTestRequest(id=late.id)).state == pb.TEST_STATE_POSITIVE_PENDING
    assert client.counts() == before
    negative = client.record(reader, 10)
    expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(
        test_id=negative.id, retest_method="GB 23200.113-2018")), PRECONDITION)
    expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=negative.id)), PRECONDITION)
    expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(test_id="nope", retest_method="x")),
                 NOT_FOUND)


def test_a_confirmed_positive_publishes_rapid_test_positive(client, reader):
    tested_at = START - dt.timedelta(hours=1)
    positive = client.record(reader, 72.5, tested_at=tested_at, name="韭菜", vendor_name="李记蔬菜", stall="07号")
    assert "retest_result" in expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(
        test_id=positive.id, retest_result=pb.TEST_RESULT_POSITIVE)), INVALID)
    expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=positive.id)), PRECONDITION)
    assert "kg_destroyed" in expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(
        test_id=positive.id, retest_waived=True, kg_destroyed=-1)), INVALID)
    assert client.events(events_pb2.RapidTestPositive) == []
    confirmed = client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=positive.id, retest_waived=True,
                                                                   kg_destroyed=3.2))
    assert confirmed.state == pb.TEST_STATE_CONFIRMED_POSITIVE and confirmed.kg_destroyed == 3.2
    [event] = client.events(events_pb2.RapidTestPositive)
    assert event.source == "facilities" and event.office_id == "MH01"
    assert event.aggregate_id == positive.id and event.aggregate_version == 2
    assert event.message == events_pb2.RapidTestPositive(
        test_id=positive.id, version=2, office_id="MH01",
        sample=pb.Sample(name="韭菜", vendor_name="李记蔬菜", vendor_uscc="91350100M000100Y43", market="莘庄农贸市场",
                         stall="07号"),
        item="pesticide_residue", method="enzyme_inhibition", reading="72.5", unit="%",
        tested_at=timestamp(dt.datetime(2026, 11, 10, 1, 0, tzinfo=dt.UTC)))
    assert client.readings()["facilities.positive_followed_up"] == (1, 1)
    expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=positive.id,
                                                                            retest_waived=True)), PRECONDITION)


def test_closed_windows_are_published_once_and_count_as_due_for_follow_up(client, reader):
    expire = client.running.runtime.timers[1]
    assert expire.name == "expire_retest_windows"
    positive = client.record(reader, 90)
    expire.run()
    assert client.events(events_pb2.RetestWindowExpired) == []
    assert client.readings()["facilities.positive_followed_up"] == (0, 0)
    client.clock.advance(hours=5)
    expire.run()
    expire.run()
    [event] = client.events(events_pb2.RetestWindowExpired)
    assert event.message == events_pb2.RetestWindowExpired(
        test_id=positive.id, version=1, office_id="MH01", item="pesticide_residue",
        retest_deadline=timestamp(dt.datetime(2026, 11, 10, 6, 0, tzinfo=dt.UTC)))
    assert client.readings()["facilities.positive_followed_up"] == (0, 1)
    client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=positive.id, kg_destroyed=1.5))
    assert client.readings()["facilities.positive_followed_up"] == (1, 1)


def test_monthly_report_and_daily_notice(client, reader):
    client.office("MH02", "七宝市场监督管理所")
    other = client.register("pesticide_reader", office_id="MH02").id
    october = dt.datetime(2026, 10, 31, 23, 30, tzinfo=SHANGHAI)  # 15:30 UTC: October in Shanghai
    client.record(reader, 5, tested_at=october)
    for hours_ago, value in [(50, 10), (30, 20), (6, 61), (5, 75), (1, 3)]:
        client.record(reader, value, tested_at=START - dt.timedelta(hours=hours_ago))
    client.record(other, 4, office_id="MH02")
    pending = client.tests.ListTests(pb.ListTestsRequest(filter="state = POSITIVE_PENDING")).tests
    confirmed = next(test for test in pending if test.reading == 61)
    client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=confirmed.id, kg_destroyed=2.5))
    report = client.tests.MonthlyReport(pb.MonthlyReportRequest(year=2026, month=11))
    rooms = {r.office_id: r for r in report.rooms}
    mh01 = rooms["MH01"]
    assert (mh01.batches, mh01.passed, mh01.failed, mh01.pending, mh01.kg_destroyed) == (5, 3, 1, 1, 2.5)
    assert mh01.pass_rate == pytest.approx(0.6)
    assert (report.total.batches, report.total.passed, report.total.office_id) == (6, 4, "")
    assert client.tests.MonthlyReport(pb.MonthlyReportRequest(office_id="MH01", year=2026, month=10)).total.batches == 1
    single = client.tests.MonthlyReport(pb.MonthlyReportRequest(office_id="MH02", year=2026, month=11))
    assert [r.office_id for r in single.rooms] == ["MH02"] and single.total.pass_rate == 1.0
    for request, field in [(pb.MonthlyReportRequest(year=2026, month=13), "month"),
                           (pb.MonthlyReportRequest(year=2026, month=12), "month"),
                           (pb.MonthlyReportRequest(year=1999, month=5), "year")]:
        assert field in expect_error(lambda request=request: client.tests.MonthlyReport(request), INVALID)
    expect_error(lambda: client.tests.MonthlyReport(pb.MonthlyReportRequest(office_id="MH77", year=2026, month=11)),
                 NOT_FOUND)

    notice = client.tests.GetDailyNotice(pb.GetDailyNoticeRequest(office_id="MH01"))
    assert notice.day == date(TODAY) and (notice.batches, notice.passed, notice.positive) == (3, 1, 2)
    assert [line.state for line in notice.lines] == [pb.TEST_STATE_CONFIRMED_POSITIVE, pb.TEST_STATE_POSITIVE_PENDING,
                                                     pb.TEST_STATE_NEGATIVE]
    assert notice.lines[0].item_name.startswith("农药残留") and notice.lines[0].market == "莘庄农贸市场"
    assert "day" in expect_error(lambda: client.tests.GetDailyNotice(pb.GetDailyNoticeRequest(
        office_id="MH01", day=date(TODAY + dt.timedelta(days=1)))), INVALID)
    expect_error(lambda: client.tests.GetDailyNotice(pb.GetDailyNoticeRequest(office_id="MH77")), NOT_FOUND)
