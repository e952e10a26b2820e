"""Domain errors: raised by domain code, mapped to gRPC status codes in one place (grpc_statuses).

Domain code never imports grpc; it says *what* is wrong, the transport decides how to say it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    """One problem of a request, naming the field it is in."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every error a caller can cause; anything else is a bug (INTERNAL)."""

    def __init__(self, message: str, violations: list[FieldViolation] | None = None):
        super().__init__(message)
        self.message = message
        self.violations = list(violations or [])


class InvalidArgument(DomainError):
    """The request itself is wrong, whatever the state: INVALID_ARGUMENT with field violations."""

    @classmethod
    def of(cls, field: str, description: str) -> InvalidArgument:
        """The error for one field's problem."""
        return cls(f"{field}: {description}", [FieldViolation(field, description)])


class NotFound(DomainError):
    """The record asked for does not exist: NOT_FOUND."""


class AlreadyExists(DomainError):
    """A record with that identity exists already: ALREADY_EXISTS."""


class FailedPrecondition(DomainError):
    """The request is well formed but the current state forbids it."""


class Aborted(DomainError):
    """A concurrent change won (optimistic concurrency); the caller may re-read and retry."""


class PermissionDenied(DomainError):
    """The caller is known but its roles or office do not allow the request: PERMISSION_DENIED."""


class Unauthenticated(DomainError):
    """The call carries no valid token: UNAUTHENTICATED."""


class Violations:
    """Collects every problem of a request before refusing it, so a caller fixes all at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        """Notes a problem of `field`."""
        self.items.append(FieldViolation(field, description))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, message: str = "invalid request") -> None:
        """Refuses the request with every problem noted (INVALID_ARGUMENT), if there is any."""
        if self.items:
            detail = "; ".join(f"{v.field}: {v.description}" for v in self.items[:5])
            raise InvalidArgument(f"{message}: {detail}", self.items)
