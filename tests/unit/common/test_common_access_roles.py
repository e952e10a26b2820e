"""Read and write scope of every combination of roles a token can hold.

The expected answers come from the table below (what each role grants on its own), never from the
code under test: a token's scope is the union of its roles' grants, and a read grant never widens
a write grant.
"""

from __future__ import annotations

from itertools import combinations

import pytest

from services.common.access import office_scope, require_read, require_write
from services.common.context import AUDITOR, BUREAU_LEADER, OFFICE_HEAD, OFFICER, SYSTEM, Caller
from services.common.errors import PermissionDenied

OWN, OTHER = "MH01", "MH02"
DISTRICT, OFFICE, NOTHING = "district", "own office", "nothing"

# role -> (what it may read, what it may write)
GRANTS = {
    BUREAU_LEADER: (DISTRICT, DISTRICT),
    SYSTEM: (DISTRICT, DISTRICT),
    AUDITOR: (DISTRICT, NOTHING),
    OFFICE_HEAD: (OFFICE, OFFICE),
    OFFICER: (OFFICE, OFFICE),
}


def _grants(roles: frozenset[str], office_id: str, which: int, office: str) -> bool:
    """Whether any role's grant (0: read, 1: write) reaches `office`."""
    return any(GRANTS[role][which] == DISTRICT or (GRANTS[role][which] == OFFICE and office_id == office)
               for role in roles)


def _combinations() -> list[tuple[frozenset[str], str]]:
    """Every non-empty set of roles, with and without an office, as a token may carry them (an
    office role without a district role needs the office)."""
    cases = []
    for size in range(1, len(GRANTS) + 1):
        for roles in combinations(sorted(GRANTS), size):
            for office_id in ("", OWN):
                district_reader = any(GRANTS[role][0] == DISTRICT for role in roles)
                if office_id or district_reader:
                    cases.append((frozenset(roles), office_id))
    return cases


CASES = _combinations()


def _id(case: tuple[frozenset[str], str]) -> str:
    roles, office_id = case
    return "+".join(sorted(roles)) + (f"@{office_id}" if office_id else "")


def _allowed(check) -> bool:
    try:
        check()
    except PermissionDenied:
        return False
    return True


def test_every_combination_is_covered():
    assert len({roles for roles, _ in CASES}) == 2 ** len(GRANTS) - 1
    assert len(CASES) == 31 + 28  # all 31 sets with an office; without one, all but the 3 office-only sets


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_reads_come_from_every_role(case):
    roles, office_id = case
    caller = Caller(subject="u", roles=roles, office_id=office_id)
    for office in (OWN, OTHER):
        expected = _grants(roles, office_id, 0, office)
        assert caller.may_see_office(office) is expected
        assert _allowed(lambda office=office: require_read(caller, office)) is expected
    district_reader = _grants(roles, "", 0, OTHER)
    assert office_scope(caller, None) == (None if district_reader else office_id)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_writes_come_from_write_roles_only(case):
    roles, office_id = case
    caller = Caller(subject="u", roles=roles, office_id=office_id)
    for office in (OWN, OTHER):
        expected = _grants(roles, office_id, 1, office)
        assert caller.may_write_office(office) is expected, office
        assert _allowed(lambda office=office: require_write(caller, office)) is expected, office
    district_writer = any(GRANTS[role][1] == DISTRICT for role in roles)
    assert caller.writes_district_wide is district_writer
    assert _allowed(lambda: require_write(caller, None)) is district_writer
    leader_or_system = bool(roles & {BUREAU_LEADER, SYSTEM})
    assert _allowed(lambda: require_write(caller, None, district_roles=(BUREAU_LEADER,))) is leader_or_system
    writes_anything = any(GRANTS[role][1] != NOTHING for role in roles)
    assert caller.read_only is not writes_anything


def test_an_officer_who_is_also_auditor_reads_the_district_and_writes_only_their_office():
    caller = Caller(subject="u", roles=frozenset({OFFICER, AUDITOR}), office_id=OWN)
    require_read(caller, OTHER)
    require_write(caller, OWN)
    with pytest.raises(PermissionDenied, match=f"office {OTHER}"):
        require_write(caller, OTHER)
    with pytest.raises(PermissionDenied, match="district-level"):
        require_write(caller, None)
