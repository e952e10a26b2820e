"""assessment's scoring scheme and its versions through a real gRPC server, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math

import grpc
import pytest
from google.type import date_pb2

from services.common.scoring_messages import scheme_dict_from_message
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import events_pb2
from tests.api.assessment.support import (
    CC,
    STAFFING,
    TASKS,
    TODAY,
    date,
    edited,
    expect_error,
    starting_scheme,
)


def test_the_starting_scheme_is_served_with_names_and_sources(client):
    scheme = starting_scheme(client)
    assert scheme.version == 1 and (scheme.effective_from.year, scheme.effective_from.month) == (2026, 1)
    assert [d.name for d in scheme.dimensions] == [
        "职责界定具体化", "软硬设施规范化", "工作流程精细化", "保障机制科学化"]
    assert sum(d.weight for d in scheme.dimensions) == 100
    staffed = next(r for r in scheme.indicators if r.key == STAFFING)
    assert (staffed.source, staffed.name, staffed.direction, staffed.floor) == (
        CC, "四组持证配备率", pb.DIRECTION_HIGHER, 0.5)
    assert client.schemes.GetScheme(pb.GetSchemeRequest(as_of=date(dt.date(2020, 1, 1)))).version == 1
    listed = client.schemes.ListSchemeVersions(pb.ListSchemeVersionsRequest())
    assert [s.version for s in listed.schemes] == [1]


def test_update_scheme_adds_a_version_and_publishes_scheme_updated(client):
    request = pb.UpdateSchemeRequest(request_id="s1", scheme=edited(client, target=0.98), expected_version=1)
    updated = client.schemes.UpdateScheme(request)
    assert (updated.version, updated.note, updated.created_by) == (2, "提高督办按期率要求", "system")
    assert next(r for r in updated.indicators if r.key == TASKS).target == 0.98
    again = client.schemes.UpdateScheme(request)
    assert again == updated  # a retry returns the first result
    assert client.schemes.GetScheme(pb.GetSchemeRequest()).version == 2
    assert client.schemes.GetScheme(pb.GetSchemeRequest(as_of=date(TODAY - dt.timedelta(days=1)))).version == 1
    assert client.schemes.GetScheme(pb.GetSchemeRequest(version=1)).note.startswith("初始评价方案")
    [event] = client.events(events_pb2.SchemeUpdated)
    published = event.message
    assert event.aggregate_version == published.version == published.scheme.version == 2
    assert published.scheme == updated  # the scheme as the API shows it
    assert scheme_dict_from_message(published.scheme)["effective_from"] == TODAY.isoformat()
    assert {i.key: i.target for i in published.scheme.indicators}[TASKS] == 0.98
    assert published.names[TASKS] == "督办任务按期办结率"
    assert published.unscored_names["complaints.backlog"] == "投诉积压件数"
    assert published.unscored_names["mobile_enforcement.entities_supervised"] == "辖区监管主体数"
    expect_error(lambda: client.schemes.UpdateScheme(pb.UpdateSchemeRequest(scheme=edited(client),
                                                                            expected_version=1)),
                 grpc.StatusCode.ABORTED)
    client.schemes.UpdateScheme(pb.UpdateSchemeRequest(scheme=edited(client, note="第三版")))
    first = client.schemes.ListSchemeVersions(pb.ListSchemeVersionsRequest(page_size=2))
    rest = client.schemes.ListSchemeVersions(pb.ListSchemeVersionsRequest(page_size=2,
                                                                          page_token=first.next_page_token))
    assert [s.version for s in first.schemes] + [s.version for s in rest.schemes] == [3, 2, 1]
    assert client.schemes.GetScheme(pb.GetSchemeRequest(version=2)).indicators == updated.indicators


def break_weights(scheme: pb.Scheme) -> None:
    scheme.dimensions[0].weight = 30


def break_indicator_weights(scheme: pb.Scheme) -> None:
    scheme.indicators[0].weight = 1


def unknown_key(scheme: pb.Scheme) -> None:
    scheme.indicators[0].key = "command_center.happiness"


def ratio_target_above_one(scheme: pb.Scheme) -> None:
    scheme.indicators[0].target = 1.5


def no_direction(scheme: pb.Scheme) -> None:
    scheme.indicators[2].direction = pb.DIRECTION_UNSPECIFIED


def not_a_number(scheme: pb.Scheme) -> None:
    scheme.indicators[0].weight = math.nan


def past_date(scheme: pb.Scheme) -> None:
    scheme.effective_from.CopyFrom(date(TODAY - dt.timedelta(days=1)))


def unknown_workload_input(scheme: pb.Scheme) -> None:
    scheme.workload.weights["visitors"] = 1


def unbounded_coefficients(scheme: pb.Scheme) -> None:
    scheme.workload.minimum = 1.2


@pytest.mark.parametrize(("spoil", "field"), [
    (break_weights, "scheme.dimensions"),
    (break_indicator_weights, "scheme.indicators"),
    (unknown_key, "scheme.indicators[0].key"),
    (ratio_target_above_one, "scheme.indicators[0].target"),
    (no_direction, "scheme.indicators[2].direction"),
    (not_a_number, "scheme.indicators[0].weight"),
    (past_date, "scheme.effective_from"),
    (unknown_workload_input, "scheme.workload.weights[visitors]"),
    (unbounded_coefficients, "scheme.workload"),
])
def test_a_bad_scheme_is_refused_with_field_violations_and_changes_nothing(client, spoil, field):
    before = client.counts()
    scheme = edited(client)
    spoil(scheme)
    found = expect_error(lambda: client.schemes.UpdateScheme(pb.UpdateSchemeRequest(scheme=scheme)),
                         grpc.StatusCode.INVALID_ARGUMENT)
    assert field in found, found
    assert client.counts() == before
    assert client.schemes.GetScheme(pb.GetSchemeRequest()).version == 1


def test_bad_scheme_reads_are_refused(client):
    expect_error(lambda: client.schemes.GetScheme(pb.GetSchemeRequest(version=7)), grpc.StatusCode.NOT_FOUND)
    assert "version" in expect_error(lambda: client.schemes.GetScheme(pb.GetSchemeRequest(version=-1)),
                                     grpc.StatusCode.INVALID_ARGUMENT)
    assert "as_of" in expect_error(lambda: client.schemes.GetScheme(pb.GetSchemeRequest(
        as_of=date_pb2.Date(year=2026, month=2, day=30))), grpc.StatusCode.INVALID_ARGUMENT)
    for request, field in ((pb.ListSchemeVersionsRequest(filter="version = 1"), "filter"),
                           (pb.ListSchemeVersionsRequest(page_token="bm9wZQ=="), "page_token"),
                           (pb.ListSchemeVersionsRequest(page_size=-1), "page_size")):
        assert field in expect_error(lambda r=request: client.schemes.ListSchemeVersions(r),
                                     grpc.StatusCode.INVALID_ARGUMENT)
