"""Domain errors as gRPC statuses: the one place where an exception of services.common.errors becomes
a status code, its message and its field violations (google.rpc.BadRequest in the status details).
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common import errors

# gRPC metadata as the calls carry it: (key, value) pairs, binary values under "-bin" keys.
Metadata = tuple[tuple[str, str | bytes], ...]

_STATUS_OF: dict[type[errors.DomainError], tuple[grpc.StatusCode, int]] = {
    errors.InvalidArgument: (grpc.StatusCode.INVALID_ARGUMENT, code_pb2.INVALID_ARGUMENT),
    errors.NotFound: (grpc.StatusCode.NOT_FOUND, code_pb2.NOT_FOUND),
    errors.AlreadyExists: (grpc.StatusCode.ALREADY_EXISTS, code_pb2.ALREADY_EXISTS),
    errors.FailedPrecondition: (grpc.StatusCode.FAILED_PRECONDITION, code_pb2.FAILED_PRECONDITION),
    errors.Aborted: (grpc.StatusCode.ABORTED, code_pb2.ABORTED),
    errors.PermissionDenied: (grpc.StatusCode.PERMISSION_DENIED, code_pb2.PERMISSION_DENIED),
    errors.Unauthenticated: (grpc.StatusCode.UNAUTHENTICATED, code_pb2.UNAUTHENTICATED),
}


def status_for(error: errors.DomainError) -> grpc.Status:
    """The status a call answers with when a use case refused it with `error`."""
    # The most specific mapped class wins; a bare DomainError is still the caller's doing.
    code = next((_STATUS_OF[k] for k in type(error).__mro__ if k in _STATUS_OF),
                (grpc.StatusCode.FAILED_PRECONDITION, code_pb2.FAILED_PRECONDITION))
    details = []
    if error.violations:
        bad_request = error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations])
        packed = any_pb2.Any()
        packed.Pack(bad_request)
        details.append(packed)
    # grpc_status ships no types; to_status builds a grpc.Status.
    status: grpc.Status = rpc_status.to_status(status_pb2.Status(code=code[1], message=error.message,
                                                                 details=details))
    return status


def with_request_id(status: grpc.Status, request_id: str) -> grpc.Status:
    """`status` with the call's request id in its trailing metadata: aborting with a status replaces
    the trailing metadata the call had set, and the caller needs the id most when the call failed."""
    return _Status(status.code, status.details, (*(status.trailing_metadata or ()), ("x-request-id", request_id)))


@dataclass(frozen=True)
class _Status(grpc.Status):
    code: grpc.StatusCode
    details: str
    trailing_metadata: Metadata
