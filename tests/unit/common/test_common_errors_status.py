"""Domain errors, collected violations, and their mapping to gRPC status (status_for)."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2

from services.common import errors
from services.common.errors import FieldViolation, InvalidArgument, Violations
from services.common.grpc_statuses import status_for


def _rich_status(status: grpc.Status) -> status_pb2.Status:
    """The google.rpc.Status grpc-status carries in the grpc-status-details-bin trailer."""
    values = [v for k, v in status.trailing_metadata if k == "grpc-status-details-bin"]
    assert len(values) == 1
    return status_pb2.Status.FromString(values[0])


def _bad_request(status: grpc.Status) -> error_details_pb2.BadRequest:
    rich = _rich_status(status)
    assert len(rich.details) == 1
    assert rich.details[0].Is(error_details_pb2.BadRequest.DESCRIPTOR)
    bad_request = error_details_pb2.BadRequest()
    assert rich.details[0].Unpack(bad_request)
    return bad_request


# --- Violations ---------------------------------------------------------------------------------

def test_no_violations_is_falsy_and_does_not_raise():
    violations = Violations()

    assert not violations
    violations.raise_if_any()  # nothing to refuse


def test_violations_are_all_collected_in_order():
    violations = Violations()
    violations.add("name", "must not be empty")
    violations.add("office_id", "unknown office")
    violations.add("licence.expires", "must be after issued")

    assert violations
    with pytest.raises(InvalidArgument) as raised:
        violations.raise_if_any("cannot register shop")

    assert raised.value.violations == [
        FieldViolation("name", "must not be empty"),
        FieldViolation("office_id", "unknown office"),
        FieldViolation("licence.expires", "must be after issued"),
    ]
    assert raised.value.message == ("cannot register shop: name: must not be empty; office_id: unknown office; "
                                    "licence.expires: must be after issued")


def test_message_lists_first_five_but_error_keeps_every_violation():
    violations = Violations()
    for i in range(7):
        violations.add(f"f{i}", "bad")

    with pytest.raises(InvalidArgument) as raised:
        violations.raise_if_any()

    assert [v.field for v in raised.value.violations] == [f"f{i}" for i in range(7)]
    assert "f4: bad" in raised.value.message
    assert "f5" not in raised.value.message
    assert raised.value.message.startswith("invalid request: ")


def test_raised_error_does_not_share_the_collector_list():
    violations = Violations()
    violations.add("a", "x")
    with pytest.raises(InvalidArgument) as raised:
        violations.raise_if_any()

    violations.add("b", "y")

    assert [v.field for v in raised.value.violations] == ["a"]


def test_invalid_argument_of_one_field():
    error = InvalidArgument.of("page_size", "must not be negative")

    assert error.message == "page_size: must not be negative"
    assert error.violations == [FieldViolation("page_size", "must not be negative")]
    assert str(error) == "page_size: must not be negative"


# --- status_for ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("error_class", "code", "rpc_code"), [
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT, code_pb2.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND, code_pb2.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS, code_pb2.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION, code_pb2.FAILED_PRECONDITION),
    (errors.Aborted, grpc.StatusCode.ABORTED, code_pb2.ABORTED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED, code_pb2.PERMISSION_DENIED),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED, code_pb2.UNAUTHENTICATED),
])
def test_each_domain_error_maps_to_its_status_code(error_class, code, rpc_code):
    status = status_for(error_class("shop 42: 检查未完成"))

    assert status.code == code
    assert status.details == "shop 42: 检查未完成"
    rich = _rich_status(status)
    assert rich.code == rpc_code
    assert rich.message == "shop 42: 检查未完成"
    assert list(rich.details) == []  # no violations, no BadRequest


def test_subclass_of_a_domain_error_maps_like_its_parent():
    class ShopNotFound(errors.NotFound):
        pass

    assert status_for(ShopNotFound("shop 42")).code == grpc.StatusCode.NOT_FOUND


def test_violations_are_packed_as_bad_request_field_violations():
    violations = Violations()
    violations.add("name", "must not be empty")
    violations.add("address.district", "不是本区")
    with pytest.raises(InvalidArgument) as raised:
        violations.raise_if_any()

    status = status_for(raised.value)

    assert status.code == grpc.StatusCode.INVALID_ARGUMENT
    bad_request = _bad_request(status)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("name", "must not be empty"), ("address.district", "不是本区")]


def test_violations_on_another_error_class_are_packed_too():
    error = errors.FailedPrecondition("case is closed", [FieldViolation("case.state", "is CLOSED")])

    status = status_for(error)

    assert status.code == grpc.StatusCode.FAILED_PRECONDITION
    assert [(v.field, v.description) for v in _bad_request(status).field_violations] == [("case.state",
                                                                                          "is CLOSED")]


def test_bare_domain_error_still_gets_a_status():
    status = status_for(errors.DomainError("refused"))

    assert status.code not in (grpc.StatusCode.OK, None)
