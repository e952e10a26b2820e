"""Office scoping and roles, applied by every service in the same words."""

from __future__ import annotations

from services.common.context import DISTRICT_WRITE_ROLES, SYSTEM, Caller
from services.common.errors import PermissionDenied


def require_read(caller: Caller, office_id: str) -> None:
    """A read of `office_id`'s records: district-wide roles anywhere, office users in their own office."""
    if not caller.may_see_office(office_id):
        raise PermissionDenied(f"{caller.subject} may not read records of office {office_id}")


def require_write(caller: Caller, office_id: str | None = None, *, district_roles: tuple[str, ...] = ()) -> None:
    """A write to `office_id` (None: a district-level write).

    Write scope comes from write roles only: bureau leader and system write everywhere, office
    heads and officers their own office, the auditor nowhere (whatever else its token holds).
    `district_roles` narrows district-level writes to the roles named (system always passes).
    """
    if caller.read_only:
        raise PermissionDenied(f"{caller.subject} has read-only access")
    if office_id is None:
        allowed = DISTRICT_WRITE_ROLES & (set(district_roles) | {SYSTEM}) if district_roles else DISTRICT_WRITE_ROLES
        if not caller.roles & allowed:
            raise PermissionDenied(f"{caller.subject} may not make district-level changes")
        return
    if not caller.may_write_office(office_id):
        raise PermissionDenied(f"{caller.subject} may not change records of office {office_id}")


def office_scope(caller: Caller, requested: str | None) -> str | None:
    """The office a List is restricted to: the caller's own for office users, else what was asked."""
    if caller.district_wide:
        return requested
    if requested and requested != caller.office_id:
        raise PermissionDenied(f"{caller.subject} may not list records of office {requested}")
    return caller.office_id
