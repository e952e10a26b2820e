"""command_center through a real gRPC server, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.type import date_pb2

from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import events_pb2
from supervision.common.v1 import indicators_pb2
from supervision.common.v1.events_pb2 import IndicatorsChanged, StatutoryClock
from tests.api.command_center.support import TODAY, counts, date, events, expect_error, office, officer

# ---------------------------------------------------------------- offices


def test_create_get_and_list_offices(command_center):
    created = command_center.offices.CreateOffice(pb.CreateOfficeRequest(request_id="r1", office=office()))
    assert created.id == "MH01" and list(created.streets) == ["莘庄镇"] and created.version == 1
    assert [g.name for g in created.groups] == ["综合组", "监管组", "办案组", "申投诉处理组"]
    fetched = command_center.offices.GetOffice(pb.GetOfficeRequest(id="MH01"))
    assert fetched.name == "莘庄市场监督管理所"
    registered = events(command_center, events_pb2.OfficeRegistered)
    assert [(envelope["aggregate_version"], message) for envelope, message in registered] == [
        (1, events_pb2.OfficeRegistered(office_id="MH01", version=1, name="莘庄市场监督管理所", district="闵行区",
                                        streets=["莘庄镇"]))]


def test_repeated_request_id_returns_the_first_result(command_center):
    first = command_center.offices.CreateOffice(pb.CreateOfficeRequest(request_id="same", office=office()))
    again = command_center.offices.CreateOffice(pb.CreateOfficeRequest(request_id="same", office=office()))
    assert again == first
    assert counts(command_center)["offices"] == 1
    assert len(events(command_center, events_pb2.OfficeRegistered)) == 1


def test_creating_an_existing_office_is_already_exists(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(request_id="a", office=office()))
    expect_error(lambda: command_center.offices.CreateOffice(
        pb.CreateOfficeRequest(request_id="b", office=office(streets=["七宝镇"]))), grpc.StatusCode.ALREADY_EXISTS)


@pytest.mark.parametrize(("change", "field"), [
    ({"name": ""}, "office.name"),
    ({"name": "所" * 101}, "office.name"),
    ({"office_id": "bad id!"}, "office.id"),
    ({"streets": []}, "office.streets"),
    ({"streets": ["莘庄镇", "莘庄镇"]}, "office.streets[1]"),
    ({"streets": [" "]}, "office.streets[0]"),
])
def test_bad_office_is_invalid_argument_and_changes_nothing(command_center, change, field):
    before = counts(command_center)
    found = expect_error(lambda: command_center.offices.CreateOffice(
        pb.CreateOfficeRequest(request_id="x", office=office(**change))), grpc.StatusCode.INVALID_ARGUMENT)
    assert field in found
    assert counts(command_center) == before


def test_a_street_belongs_to_one_office(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    before = counts(command_center)
    found = expect_error(lambda: command_center.offices.CreateOffice(
        pb.CreateOfficeRequest(office=office("MH02", "七宝所", ["七宝镇", "莘庄镇"]))),
        grpc.StatusCode.FAILED_PRECONDITION)
    assert "MH01" in found["office.streets[1]"]
    assert counts(command_center) == before


def test_unknown_office_is_not_found(command_center):
    expect_error(lambda: command_center.offices.GetOffice(pb.GetOfficeRequest(id="MH99")), grpc.StatusCode.NOT_FOUND)


def test_list_offices_pages_and_filters(command_center):
    for number in range(1, 6):
        command_center.offices.CreateOffice(pb.CreateOfficeRequest(
            office=office(f"MH0{number}", f"所{number}", [f"镇{number}"])))
    seen, token = [], ""
    while True:
        page = command_center.offices.ListOffices(pb.ListOfficesRequest(page_size=2, page_token=token))
        seen += [o.id for o in page.offices]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["MH01", "MH02", "MH03", "MH04", "MH05"]
    by_street = command_center.offices.ListOffices(pb.ListOfficesRequest(filter='street = "镇3"'))
    assert [o.id for o in by_street.offices] == ["MH03"]


@pytest.mark.parametrize(("request_", "field"), [
    (pb.ListOfficesRequest(page_size=-1), "page_size"),
    (pb.ListOfficesRequest(page_token="not-a-token"), "page_token"),
    (pb.ListOfficesRequest(filter="name = x"), "filter"),
    (pb.ListOfficesRequest(filter="street =="), "filter"),
])
def test_bad_list_requests_are_invalid_argument(command_center, request_, field):
    found = expect_error(lambda: command_center.offices.ListOffices(request_), grpc.StatusCode.INVALID_ARGUMENT)
    assert field in found


def test_update_office_bumps_version_and_checks_it(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    updated = command_center.offices.UpdateOffice(pb.UpdateOfficeRequest(
        office=pb.Office(id="MH01", name="莘庄所", streets=["莘庄镇", "春申"]),
            update_mask=FieldMask(paths=["name", "streets"]),
        expected_version=1))
    assert (updated.name, list(updated.streets), updated.version) == ("莘庄所", ["莘庄镇", "春申"], 2)
    assert updated.district == "闵行区"
    _, update = events(command_center, events_pb2.OfficeUpdated)[-1]
    assert (update.version, update.name, update.district, list(update.streets)) == (2, "莘庄所", "闵行区",
                                                                                    ["莘庄镇", "春申"])
    expect_error(lambda: command_center.offices.UpdateOffice(pb.UpdateOfficeRequest(
        office=pb.Office(id="MH01", name="x"),
            update_mask=FieldMask(paths=["name"]), expected_version=1)), grpc.StatusCode.ABORTED)
    found = expect_error(lambda: command_center.offices.UpdateOffice(pb.UpdateOfficeRequest(
        office=pb.Office(id="MH01", name="x"), update_mask=FieldMask(paths=["id"]))), grpc.StatusCode.INVALID_ARGUMENT)
    assert "update_mask" in found
    expect_error(lambda: command_center.offices.UpdateOffice(pb.UpdateOfficeRequest(
        office=pb.Office(id="MH09", name="x"), update_mask=FieldMask(paths=["name"]))), grpc.StatusCode.NOT_FOUND)
    assert command_center.offices.GetOffice(pb.GetOfficeRequest(id="MH01")).name == "莘庄所"


# ---------------------------------------------------------------- officers


def test_register_officer_counts_in_its_group(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    before = command_center.offices.GetOffice(pb.GetOfficeRequest(id="MH01"))  # cached until the registry changes
    assert sum(g.officer_count for g in before.groups) == 0
    registered = command_center.officers.RegisterOfficer(pb.RegisterOfficerRequest(request_id="o1", officer=officer()))
    assert registered.certificate_valid
    expired = command_center.officers.RegisterOfficer(pb.RegisterOfficerRequest(
        officer=officer("MH01-02", expires=TODAY - dt.timedelta(days=1))))
    assert not expired.certificate_valid
    groups = {g.kind: g for g in command_center.offices.GetOffice(pb.GetOfficeRequest(id="MH01")).groups}
    supervision = groups[pb.GROUP_KIND_SUPERVISION]
    assert (supervision.officer_count, supervision.certified_count) == (2, 1)
    officers = [message for _, message in events(command_center, events_pb2.OfficerRegistered)]
    assert [(o.officer_id, o.office_id, o.group, o.certificate_no) for o in officers] == [
        ("MH01-01", "MH01", "SUPERVISION", "SH0101"), ("MH01-02", "MH01", "SUPERVISION", "SH0101")]
    assert officers[1].certificate_expires == date(TODAY - dt.timedelta(days=1))
    valid_only = command_center.officers.ListOfficers(pb.ListOfficersRequest(filter="certificate_valid = true"))
    assert [o.id for o in valid_only.officers] == ["MH01-01"]
    by_group = command_center.officers.ListOfficers(pb.ListOfficersRequest(filter="group = GROUP_KIND_GENERAL"))
    assert list(by_group.officers) == []


@pytest.mark.parametrize(("bad", "code", "field"), [
    ({"group": pb.GROUP_KIND_UNSPECIFIED}, grpc.StatusCode.INVALID_ARGUMENT, "officer.group"),
    ({"group": 42}, grpc.StatusCode.INVALID_ARGUMENT, "officer.group"),
    ({"certificate": "x"}, grpc.StatusCode.INVALID_ARGUMENT, "officer.certificate_no"),
    ({"expires": None}, grpc.StatusCode.INVALID_ARGUMENT, "officer.certificate_expires"),
    ({"officer_id": ""}, grpc.StatusCode.INVALID_ARGUMENT, "officer.id"),
    ({"office_id": "MH77"}, grpc.StatusCode.NOT_FOUND, None),
])
def test_bad_officer_is_refused_and_changes_nothing(command_center, bad, code, field):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    before = counts(command_center)
    found = expect_error(lambda: command_center.officers.RegisterOfficer(
        pb.RegisterOfficerRequest(officer=officer(**bad))), code)
    if field:
        assert field in found
    assert counts(command_center) == before


def test_update_officer_moves_both_offices_figures(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office("MH02", "七宝所", ["七宝镇"])))
    command_center.officers.RegisterOfficer(pb.RegisterOfficerRequest(officer=officer()))
    moved = command_center.officers.UpdateOfficer(pb.UpdateOfficerRequest(
        officer=pb.Officer(id="MH01-01", office_id="MH02"), update_mask=FieldMask(paths=["office_id"])))
    assert moved.office_id == "MH02" and moved.version == 2
    command_center.running.settle()
    indicators = command_center.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest())
    staffing = {(i.office_id): i.numerator for i in indicators.indicators
                if i.key == "command_center.group_staffing"}
    assert staffing == {"MH01": 0, "MH02": 1}
    expect_error(lambda: command_center.officers.UpdateOfficer(pb.UpdateOfficerRequest(
        officer=pb.Officer(id="MH01-01", office_id="MH99"),
            update_mask=FieldMask(paths=["office_id"]))), grpc.StatusCode.NOT_FOUND)
    expect_error(lambda: command_center.officers.GetOfficer(pb.GetOfficerRequest(id="nobody")),
                 grpc.StatusCode.NOT_FOUND)


# ---------------------------------------------------------------- duty list

GOOD_CSV = """code,title,category,legal_basis,responsible_level,group
SP-001,食品经营者日常监督检查,食品安全,《食品安全法》第一百一十条,OFFICE,SUPERVISION
XB-001,消费投诉受理与调解,消费者权益保护,《投诉举报处理办法》,OFFICE,COMPLAINT_HANDLING
TZ-003,气瓶充装单位许可审查,特种设备,《特种设备安全法》,BUREAU,
""".encode()


def test_import_duty_list_and_filter(command_center):
    result = command_center.duties.ImportDutyList(pb.ImportDutyListRequest(
        format=pb.DUTY_FILE_FORMAT_CSV, content=GOOD_CSV, replace=True))
    assert (result.imported_count, result.total_count) == (3, 3)
    office_items = command_center.duties.ListDutyItems(pb.ListDutyItemsRequest(
        filter="responsible_level = OFFICE"))
    assert [i.code for i in office_items.items] == ["SP-001", "XB-001"]
    yaml_list = "items:\n  - {code: GG-001, title: 广告监测, category: 广告监管, legal_basis: 《广告法》, " \
                "responsible_level: OFFICE, group: SUPERVISION}\n"
    merged = command_center.duties.ImportDutyList(pb.ImportDutyListRequest(
        format=pb.DUTY_FILE_FORMAT_YAML, content=yaml_list.encode()))
    assert (merged.imported_count, merged.total_count) == (1, 4)


def test_malformed_duty_file_reports_every_bad_row_and_imports_nothing(command_center):
    command_center.duties.ImportDutyList(pb.ImportDutyListRequest(format=pb.DUTY_FILE_FORMAT_CSV, content=GOOD_CSV))
    bad = """code,title,category,legal_basis,responsible_level,group
SP-009,新事项,食品安全,《食品安全法》,OFFICE,SUPERVISION
,缺编码,食品安全,《食品安全法》,OFFICE,
SP-010,层级错误,食品安全,《食品安全法》,TOWN,
SP-011,分组错误,食品安全,《食品安全法》,OFFICE,KITCHEN
SP-009,重复编码,食品安全,《食品安全法》,OFFICE,
""".encode()
    found = expect_error(lambda: command_center.duties.ImportDutyList(pb.ImportDutyListRequest(
        format=pb.DUTY_FILE_FORMAT_CSV, content=bad, replace=True)), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(found) == {"rows[3].code", "rows[4].responsible_level", "rows[5].group", "rows[6].code"}
    assert "line 2" in found["rows[6].code"]
    listed = command_center.duties.ListDutyItems(pb.ListDutyItemsRequest())
    assert [i.code for i in listed.items] == ["SP-001", "TZ-003", "XB-001"]


@pytest.mark.parametrize(("file_format", "content", "field"), [
    (pb.DUTY_FILE_FORMAT_UNSPECIFIED, GOOD_CSV, "format"),
    (pb.DUTY_FILE_FORMAT_CSV, b"code,title\nA,B\n", "content"),
    (pb.DUTY_FILE_FORMAT_CSV, b"\xff\xfe", "content"),
    (pb.DUTY_FILE_FORMAT_YAML, b"items: [", "content"),
    (pb.DUTY_FILE_FORMAT_YAML, b"items:\n  - just text\n", "rows[2]"),
])
def test_unreadable_duty_files_are_invalid_argument(command_center, file_format, content, field):
    found = expect_error(lambda: command_center.duties.ImportDutyList(pb.ImportDutyListRequest(
        format=file_format, content=content)), grpc.StatusCode.INVALID_ARGUMENT)
    assert field in found


# ---------------------------------------------------------------- tasks


def new_task(client, due=TODAY + dt.timedelta(days=3), office_id="MH01", request_id="") -> pb.Task:
    return client.tasks.CreateTask(pb.CreateTaskRequest(request_id=request_id, task=pb.Task(
        office_id=office_id, title="督办：农贸市场整治", source="bureau", due_date=date(due))))


def test_task_lifecycle(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    task = new_task(command_center)
    assert task.state == pb.TASK_STATE_ASSIGNED and not task.overdue
    assert [message for _, message in events(command_center, events_pb2.TaskAssigned)] == [events_pb2.TaskAssigned(
        task_id=task.id, version=1, office_id="MH01", title="督办：农贸市场整治", source="bureau",
        due_date=task.due_date, state="ASSIGNED")]
    accepted = command_center.tasks.AcceptTask(pb.AcceptTaskRequest(id=task.id))
    assert accepted.state == pb.TASK_STATE_ACCEPTED
    progressed = command_center.tasks.ReportTaskProgress(pb.ReportTaskProgressRequest(id=task.id, note="排查过半"))
    assert progressed.state == pb.TASK_STATE_IN_PROGRESS and [p.note for p in progressed.progress] == ["排查过半"]
    done = command_center.tasks.CompleteTask(pb.CompleteTaskRequest(id=task.id, note="完成"))
    assert done.state == pb.TASK_STATE_COMPLETED and done.HasField("complete_time")
    assert done.completed_by == "system"  # AUTH_MODE=off: the system caller
    [(envelope, completed)] = events(command_center, events_pb2.TaskCompleted)
    assert envelope["type"] == "supervision.command_center.v1.TaskCompleted"
    assert (completed.task_id, completed.state, completed.completed_by, completed.overdue) == (
        task.id, "COMPLETED", "system", False)
    assert list(completed.officer_ids) == []  # the system's work is no officer's credit
    assert completed.completed_on == date(TODAY)
    assert list(completed.clocks) == [StatutoryClock(clock="due_date", due_date=task.due_date, met=True)]
    expect_error(lambda: command_center.tasks.AcceptTask(pb.AcceptTaskRequest(id=task.id)),
                 grpc.StatusCode.FAILED_PRECONDITION)
    listed = command_center.tasks.ListTasks(pb.ListTasksRequest(filter="state = COMPLETED"))
    assert [t.id for t in listed.tasks] == [task.id]


@pytest.mark.parametrize(("task", "code", "field"), [
    (pb.Task(office_id="MH01", title="t", due_date=date(TODAY - dt.timedelta(days=1))),
     grpc.StatusCode.INVALID_ARGUMENT, "task.due_date"),
    (pb.Task(office_id="MH01", title="t"), grpc.StatusCode.INVALID_ARGUMENT, "task.due_date"),
    (pb.Task(office_id="MH01", title="t", due_date=date_pb2.Date(year=2026, month=2, day=30)),
     grpc.StatusCode.INVALID_ARGUMENT, "task.due_date"),
    (pb.Task(office_id="MH01", title="", due_date=date(TODAY)), grpc.StatusCode.INVALID_ARGUMENT, "task.title"),
    (pb.Task(office_id="MH55", title="t", due_date=date(TODAY)), grpc.StatusCode.NOT_FOUND, None),
])
def test_bad_task_is_refused_and_changes_nothing(command_center, task, code, field):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    before = counts(command_center)
    found = expect_error(lambda: command_center.tasks.CreateTask(pb.CreateTaskRequest(task=task)), code)
    if field:
        assert field in found
    assert counts(command_center) == before


def test_a_second_task_for_one_source_record_is_already_exists(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    task = pb.Task(office_id="MH01", title="投诉超期督办", source="complaints", source_ref="C-1", due_date=date(TODAY))
    first = command_center.tasks.CreateTask(pb.CreateTaskRequest(task=task))
    before = counts(command_center)
    expect_error(lambda: command_center.tasks.CreateTask(pb.CreateTaskRequest(task=task)),
                 grpc.StatusCode.ALREADY_EXISTS)
    assert counts(command_center) == before
    assert command_center.tasks.GetTask(pb.GetTaskRequest(id=first.id)).source_ref == "C-1"


def test_progress_needs_a_note_and_an_accepted_task(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    task = new_task(command_center)
    expect_error(lambda: command_center.tasks.ReportTaskProgress(pb.ReportTaskProgressRequest(id=task.id, note="x")),
                 grpc.StatusCode.FAILED_PRECONDITION)
    command_center.tasks.AcceptTask(pb.AcceptTaskRequest(id=task.id))
    found = expect_error(lambda: command_center.tasks.ReportTaskProgress(
        pb.ReportTaskProgressRequest(id=task.id, note="  ")), grpc.StatusCode.INVALID_ARGUMENT)
    assert "note" in found
    expect_error(lambda: command_center.tasks.CompleteTask(pb.CompleteTaskRequest(id="missing")),
                 grpc.StatusCode.NOT_FOUND)


def test_sweep_marks_overdue_tasks_and_moves_task_on_time(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    late = new_task(command_center, due=TODAY)
    on_time = new_task(command_center, due=TODAY + dt.timedelta(days=10))
    command_center.tasks.AcceptTask(pb.AcceptTaskRequest(id=on_time.id))
    command_center.tasks.CompleteTask(pb.CompleteTaskRequest(id=on_time.id))
    sweep = command_center.running.runtime.timers[0]
    sweep.run()
    assert events(command_center, events_pb2.TaskOverdue) == []  # due today is not overdue yet
    command_center.running.clock.today = TODAY + dt.timedelta(days=1)
    sweep.run()
    sweep.run()  # a second sweep finds nothing new
    overdue = events(command_center, events_pb2.TaskOverdue)
    assert [(envelope["aggregate_id"], message.task_id, message.overdue, message.due_date)
            for envelope, message in overdue] == [(late.id, late.id, True, date(TODAY))]
    assert command_center.tasks.GetTask(pb.GetTaskRequest(id=late.id)).overdue
    command_center.running.settle()
    on_time_reading = next(i for i in command_center.indicators.ListIndicators(
        indicators_pb2.ListIndicatorsRequest(office_ids=["MH01"])).indicators if i.key == "command_center.task_on_time")
    assert (on_time_reading.numerator, on_time_reading.denominator) == (1, 2)


# ---------------------------------------------------------------- indicators


def test_indicators_move_with_changes_and_carry_versions(command_center):
    command_center.offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    command_center.running.settle()
    first = command_center.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(office_ids=["MH01"]))
    assert sorted(i.key for i in first.indicators) == [
        "command_center.certificates_valid", "command_center.duty_coverage", "command_center.group_staffing",
        "command_center.task_on_time"]
    assert all(not i.has_data for i in first.indicators if i.key != "command_center.group_staffing")
    version = first.indicators[0].version
    command_center.officers.RegisterOfficer(pb.RegisterOfficerRequest(officer=officer()))
    command_center.running.settle()
    after = {i.key: i for i in command_center.indicators.ListIndicators(
        indicators_pb2.ListIndicatorsRequest(office_ids=["MH01"])).indicators}
    assert after["command_center.certificates_valid"].value == 1.0
    assert after["command_center.group_staffing"].numerator == 1
    assert {i.version for i in after.values()} == {version + 1}
    envelope, changed = events(command_center, IndicatorsChanged)[-1]
    assert envelope["aggregate_version"] == changed.version == version + 1
    assert {i.key for i in changed.indicators} == set(after)
    too_many = indicators_pb2.ListIndicatorsRequest(office_ids=[f"X{i}" for i in range(6000)])
    expect_error(lambda: command_center.indicators.ListIndicators(too_many), grpc.StatusCode.INVALID_ARGUMENT)
