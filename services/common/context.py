"""Per-request context carried through a call: request id, trace context and caller.

Context variables, so logs and outgoing events pick them up without every function passing them.
"""

from __future__ import annotations

import contextvars
import random
from dataclasses import dataclass, field

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# The W3C traceparent of the span in progress ("" outside one), for what writes it on the wire
# (events' envelopes, calls to other services). services.common.tracing sets it with the span;
# nothing else should.
traceparent_var: contextvars.ContextVar[str] = contextvars.ContextVar("traceparent", default="")
# The request message of the gRPC call being handled (None outside one): idempotent creates compare
# a replayed request_id's payload with the first one's.
request_var: contextvars.ContextVar[object | None] = contextvars.ContextVar("request", default=None)


def new_request_id() -> str:
    """A fresh request id: 32 hex digits."""
    # Uniqueness, not secrecy: the Mersenne Twister is ten times cheaper than the system's CSPRNG
    # on this per-call path.
    return f"{random.getrandbits(128):032x}"


# Roles of the design's "Security" (docs/architecture.md). A role never implies another; the checks
# name what they accept.
BUREAU_LEADER = "bureau_leader"
OFFICE_HEAD = "office_head"
OFFICER = "officer"
AUDITOR = "auditor"
SYSTEM = "system"
ROLES = frozenset({BUREAU_LEADER, OFFICE_HEAD, OFFICER, AUDITOR, SYSTEM})
DISTRICT_WIDE_ROLES = frozenset({BUREAU_LEADER, AUDITOR, SYSTEM})
WRITE_ROLES = frozenset({BUREAU_LEADER, OFFICE_HEAD, OFFICER, SYSTEM})
# Write scope comes from the write roles alone: the auditor's district-wide reading never widens
# what an office user of the same token may change.
DISTRICT_WRITE_ROLES = frozenset({BUREAU_LEADER, SYSTEM})
OFFICE_WRITE_ROLES = frozenset({OFFICE_HEAD, OFFICER})


@dataclass(frozen=True)
class Caller:
    """Who makes the call in progress: the token's subject, roles and office."""

    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)
    # The office a non-district user belongs to; empty for district-wide roles.
    office_id: str = ""
    # When the caller's token expires (epoch seconds); None for the system's own work and AUTH_MODE=off.
    # Not part of equality: the same person with a refreshed token is the same caller.
    expires_at: float | None = field(default=None, compare=False)

    @property
    def district_wide(self) -> bool:
        """Sees every office (bureau leader, auditor, system)."""
        return bool(self.roles & DISTRICT_WIDE_ROLES)

    @property
    def read_only(self) -> bool:
        """Holds no role that writes anything (the auditor)."""
        return not (self.roles & WRITE_ROLES)

    @property
    def writes_district_wide(self) -> bool:
        """May change records of every office and district-level records (bureau leader, system)."""
        return bool(self.roles & DISTRICT_WRITE_ROLES)

    def may_see_office(self, office_id: str) -> bool:
        """May read records of `office_id`: district-wide roles anywhere, office users their own office."""
        return self.district_wide or (bool(self.office_id) and office_id == self.office_id)

    def may_write_office(self, office_id: str) -> bool:
        """May change records of `office_id`: district writers anywhere, office writers in their own office."""
        if self.writes_district_wide:
            return True
        return bool(self.roles & OFFICE_WRITE_ROLES) and bool(self.office_id) and office_id == self.office_id

    def has_any(self, *roles: str) -> bool:
        """Holds at least one of `roles`."""
        return bool(self.roles & set(roles))


# Used when AUTH_MODE=off and for the system's own work (timers, event handlers).
SYSTEM_CALLER = Caller(subject="system", roles=frozenset({SYSTEM}))

caller_var: contextvars.ContextVar[Caller] = contextvars.ContextVar("caller", default=SYSTEM_CALLER)


def current_caller() -> Caller:
    """The caller of the gRPC call in progress; the system outside calls (timers, event handlers)."""
    return caller_var.get()


def current_request() -> object | None:
    """The request message of the gRPC call in progress, or None (timers, event handlers, tests)."""
    return request_var.get()
