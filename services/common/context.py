"""Per-request context carried through a call: request id, trace context and caller.

Context variables, so logs and outgoing events pick them up without every function passing them.
"""

from __future__ import annotations

import contextvars
import random
import re
from dataclasses import dataclass, field

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
traceparent_var: contextvars.ContextVar[str] = contextvars.ContextVar("traceparent", default="")


def new_traceparent() -> str:
    # Trace ids need uniqueness, not secrecy: the Mersenne Twister is ten times cheaper than
    # the system's CSPRNG on this per-call path.
    return f"00-{random.getrandbits(128):032x}-{random.getrandbits(64) or 1:016x}-01"


def new_request_id() -> str:
    return f"{random.getrandbits(128):032x}"


def trace_id_of(traceparent: str) -> str:
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else ""


_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def valid_traceparent(value: str) -> bool:
    """W3C trace context: lowercase hex fields of fixed length, trace id not all zeros."""
    return bool(_TRACEPARENT.match(value)) and value[3:35] != "0" * 32


# Roles of DESIGN.md "Security". A role never implies another; the checks name what they accept.
BUREAU_LEADER = "bureau_leader"
OFFICE_HEAD = "office_head"
OFFICER = "officer"
AUDITOR = "auditor"
SYSTEM = "system"
ROLES = frozenset({BUREAU_LEADER, OFFICE_HEAD, OFFICER, AUDITOR, SYSTEM})
DISTRICT_WIDE_ROLES = frozenset({BUREAU_LEADER, AUDITOR, SYSTEM})
WRITE_ROLES = frozenset({BUREAU_LEADER, OFFICE_HEAD, OFFICER, SYSTEM})


@dataclass(frozen=True)
class Caller:
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)
    # The office a non-district user belongs to; empty for district-wide roles.
    office_id: str = ""

    @property
    def district_wide(self) -> bool:
        return bool(self.roles & DISTRICT_WIDE_ROLES)

    @property
    def read_only(self) -> bool:
        return not (self.roles & WRITE_ROLES)

    def may_see_office(self, office_id: str) -> bool:
        return self.district_wide or (bool(self.office_id) and office_id == self.office_id)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


# Used when AUTH_MODE=off and for the system's own work (timers, event handlers).
SYSTEM_CALLER = Caller(subject="system", roles=frozenset({SYSTEM}))

caller_var: contextvars.ContextVar[Caller] = contextvars.ContextVar("caller", default=SYSTEM_CALLER)


def current_caller() -> Caller:
    return caller_var.get()
