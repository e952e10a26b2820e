"""AUTH_MODE=jwt: tokens, roles and office scoping on command_center."""

from __future__ import annotations

import datetime as dt

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.auth import issue_token
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from supervision.command_center.v1 import events_pb2
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.common.v1.events_pb2 import StatutoryClock
from tests.api.command_center.support import SECRET, auth, date, office, outbox_events, token


def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code()


@pytest.mark.parametrize("metadata", [
    (),
    (("authorization", "Basic abc"),),
    auth("not-a-jwt"),
    auth(token(["bureau_leader"], ttl=dt.timedelta(seconds=-5))),
    auth(jwt.encode({"sub": "u1", "roles": ["bureau_leader"], "aud": "supervision-cloud",
                     "exp": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)}, "another-secret-of-32-bytes-long!!",
                    algorithm="HS256")),
    auth(token(["bureau_leader"], audience="someone-else")),
    auth(token(["janitor"])),
    auth(token(["bureau_leader"], ttl=dt.timedelta(days=365 * 100))),  # beyond JWT_MAX_LIFETIME_SECONDS
    auth(token(["system"])),  # a user token may not claim the services' own role
])
def test_bad_or_missing_tokens_are_unauthenticated(secured, metadata):
    _, offices, _, _ = secured
    assert code_of(lambda: offices.GetOffice(pb.GetOfficeRequest(id="MH01"), metadata=metadata)) \
        == grpc.StatusCode.UNAUTHENTICATED


def test_health_needs_no_token(secured):
    running, *_ = secured
    answer = health_pb2_grpc.HealthStub(running.channel).Check(health_pb2.HealthCheckRequest())
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_an_office_user_sees_only_its_own_office(secured):
    running, offices, tasks, task = secured
    head = auth(token(["office_head"], office_id="MH01"))
    assert offices.GetOffice(pb.GetOfficeRequest(id="MH01"), metadata=head).id == "MH01"
    assert code_of(lambda: offices.GetOffice(pb.GetOfficeRequest(id="MH02"), metadata=head)) \
        == grpc.StatusCode.PERMISSION_DENIED
    assert [o.id for o in offices.ListOffices(pb.ListOfficesRequest(), metadata=head).offices] == ["MH01"]
    assert code_of(lambda: tasks.GetTask(pb.GetTaskRequest(id=task.id), metadata=head)) \
        == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: tasks.ListTasks(pb.ListTasksRequest(filter='office_id = "MH02"'), metadata=head)) \
        == grpc.StatusCode.PERMISSION_DENIED
    assert list(tasks.ListTasks(pb.ListTasksRequest(), metadata=head).tasks) == []
    indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel).ListIndicators(
        indicators_pb2.ListIndicatorsRequest(), metadata=head)
    assert {i.office_id for i in indicators.indicators} == {"MH01"}


def test_officers_act_on_their_own_office_only(secured):
    _, _, tasks, task = secured
    other = auth(token(["officer"], office_id="MH01"))
    assert code_of(lambda: tasks.AcceptTask(pb.AcceptTaskRequest(id=task.id), metadata=other)) \
        == grpc.StatusCode.PERMISSION_DENIED
    own = auth(token(["officer"], office_id="MH02"))
    assert tasks.AcceptTask(pb.AcceptTaskRequest(id=task.id), metadata=own).state == pb.TASK_STATE_ACCEPTED
    assert code_of(lambda: tasks.CreateTask(pb.CreateTaskRequest(task=pb.Task(
        office_id="MH02", title="自派", source="bureau", due_date=task.due_date)), metadata=own)) \
        == grpc.StatusCode.PERMISSION_DENIED


def test_a_task_completed_late_by_an_officer_is_credited_to_them_with_its_clock_missed(secured):
    running, _, tasks, task = secured
    officer = auth(issue_token(SECRET, subject="MH02-01", roles=["officer"], office_id="MH02"))
    tasks.AcceptTask(pb.AcceptTaskRequest(id=task.id), metadata=officer)
    running.clock.today += dt.timedelta(days=2)
    done = tasks.CompleteTask(pb.CompleteTaskRequest(id=task.id, note="整改完毕"), metadata=officer)
    assert done.completed_by == "MH02-01" and done.overdue
    [(_, completed)] = outbox_events(running, events_pb2.TaskCompleted)
    assert (completed.completed_by, list(completed.officer_ids), completed.overdue) == ("MH02-01", ["MH02-01"], True)
    assert completed.completed_on == date(running.clock.today)
    assert list(completed.clocks) == [StatutoryClock(clock="due_date", due_date=task.due_date, met=False)]


def test_the_auditor_reads_everything_and_changes_nothing(secured):
    _, offices, tasks, task = secured
    auditor = auth(token(["auditor"]))
    assert len(offices.ListOffices(pb.ListOfficesRequest(), metadata=auditor).offices) == 2
    assert tasks.GetTask(pb.GetTaskRequest(id=task.id), metadata=auditor).id == task.id
    assert code_of(lambda: offices.CreateOffice(pb.CreateOfficeRequest(office=office("MH03", "所3", ["镇3"])),
                                                metadata=auditor)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: tasks.AcceptTask(pb.AcceptTaskRequest(id=task.id), metadata=auditor)) \
        == grpc.StatusCode.PERMISSION_DENIED


def test_an_auditor_role_never_widens_an_office_users_write_scope(secured):
    """Office users whose token also holds the auditor role read MH02 but change nothing there."""
    running, _, tasks, task = secured
    officers = pb_grpc.OfficerServiceStub(running.channel)
    officer = auth(token(["officer", "auditor"], office_id="MH01"))
    head = auth(token(["office_head", "auditor"], office_id="MH01"))
    assert tasks.GetTask(pb.GetTaskRequest(id=task.id), metadata=officer).id == task.id
    assert code_of(lambda: tasks.AcceptTask(pb.AcceptTaskRequest(id=task.id), metadata=officer)) \
        == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: officers.RegisterOfficer(pb.RegisterOfficerRequest(request_id="r-mixed", officer=pb.Officer(
        id="MH02-07", name="李娜", office_id="MH02", group=pb.GROUP_KIND_SUPERVISION, certificate_no="SH-MH02-07",
        certificate_expires=date(running.clock.today + dt.timedelta(days=90)))), metadata=head)) \
        == grpc.StatusCode.PERMISSION_DENIED
    leader = auth(token(["bureau_leader"]))
    after = tasks.GetTask(pb.GetTaskRequest(id=task.id), metadata=leader)
    assert (after.state, after.version) == (task.state, task.version)
    assert code_of(lambda: officers.GetOfficer(pb.GetOfficerRequest(id="MH02-07"), metadata=leader)) \
        == grpc.StatusCode.NOT_FOUND


def test_a_request_id_is_its_callers_own(secured):
    """The head of MH01 sends the request_id the bureau leader used for an MH02 officer: it is a new
    request of the head's, never an answer with the leader's record."""
    running, *_ = secured
    officers = pb_grpc.OfficerServiceStub(running.channel)
    leader = auth(token(["bureau_leader"]))
    head = auth(issue_token(SECRET, subject="head-mh01", roles=["office_head"], office_id="MH01"))

    def register(officer_id: str, office_id: str, metadata) -> pb.Officer:
        return officers.RegisterOfficer(pb.RegisterOfficerRequest(request_id="r-1", officer=pb.Officer(
            id=officer_id, name="王伟", office_id=office_id, group=pb.GROUP_KIND_SUPERVISION,
            certificate_no=f"SH-{officer_id}", certificate_expires=date(running.clock.today + dt.timedelta(days=90)))),
            metadata=metadata)

    assert register("MH02-01", "MH02", leader).office_id == "MH02"
    assert register("MH01-01", "MH01", head).id == "MH01-01"
    assert register("MH02-01", "MH02", leader).id == "MH02-01"  # the leader's retry: the first result
    assert register("MH01-01", "MH01", head).id == "MH01-01"
    # Each caller's request_id is taken by its first request: another request under it is refused.
    assert code_of(lambda: register("MH02-09", "MH02", leader)) == grpc.StatusCode.ALREADY_EXISTS
    assert code_of(lambda: register("MH01-09", "MH01", head)) == grpc.StatusCode.ALREADY_EXISTS
