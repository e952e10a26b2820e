"""Access with AUTH_MODE=jwt, over every method of every service and every role.

- Every bad credential (none, another scheme, expired, wrong signature, wrong audience, alg=none,
  unknown or missing roles, an office role without its office, missing exp or sub, not yet valid,
  oversized) -> UNAUTHENTICATED, on every public method.
- Requests built from real records of another office, sent by an office head and an officer:
  never an answer that shows another office (PERMISSION_DENIED, NOT_FOUND or filtered out), and no
  change to the store.
- Requests built from real records of their own office, sent by an office user, the auditor and
  the bureau leader in turn (probe.Prober): the auditor never changes anything and is refused every
  write the bureau leader could make; refused calls change nothing.
"""

from __future__ import annotations

import datetime as dt

import grpc
import jwt
import pytest

from tests.reliability import catalog, stats
from tests.reliability.builders import plausible
from tests.reliability.district import (
    District,
    bearer,
    custom_token,
    names_record_of,
    office_ids_in,
    token,
    walk,
)
from tests.reliability.probe import ROUTED_INTAKE, Prober

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(300)]

SERVICES = catalog.service_names()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def bad_credentials() -> dict[str, tuple]:
    now = dt.datetime.now(dt.UTC)
    return {
        "no authorization metadata": (),
        "Basic scheme": (("authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"),),
        "Bearer without a token": (("authorization", "Bearer"),),
        "Bearer with blanks": (("authorization", "Bearer    "),),
        "not a JWT": bearer("not-a-jwt"),
        "three garbage segments": bearer("a.b.c"),
        "expired": bearer(custom_token(exp=now - dt.timedelta(minutes=5))),
        "wrong signature": bearer(custom_token(secret="another-secret-of-at-least-32-bytes!")),
        "wrong audience": bearer(custom_token(aud="someone-else")),
        "no audience": bearer(custom_token(aud=None)),
        "alg none": bearer(jwt.encode({"sub": "x", "roles": ["bureau_leader"], "aud": "supervision-cloud",
                                       "exp": now + dt.timedelta(hours=1)}, None, algorithm="none")),
        "HS512 with the right secret": bearer(custom_token(algorithm="HS512")),
        "unknown role": bearer(custom_token(roles=["janitor"])),
        "roles not a list": bearer(custom_token(roles="bureau_leader")),
        "no roles": bearer(custom_token(roles=None)),
        "empty roles": bearer(custom_token(roles=[])),
        "office role without office_id": bearer(custom_token(roles=["office_head"])),
        "no exp": bearer(custom_token(exp=None)),
        "no sub": bearer(custom_token(sub=None)),
        "not valid yet (nbf)": bearer(custom_token(nbf=now + dt.timedelta(hours=1))),
        "6 KB token": bearer("e" * 6000),
        "100-year token": bearer(custom_token(exp=now + dt.timedelta(days=365 * 100))),
        "13 h left and no iat": bearer(custom_token(iat=None, exp=now + dt.timedelta(hours=13))),
        "user token claiming system": bearer(custom_token(roles=["system"])),
        "service token with another role": bearer(custom_token(roles=["system", "bureau_leader"],
                                                               token_use="service")),
        "Bearer Bearer": (("authorization", "Bearer Bearer " + token(["bureau_leader"])),),
    }


@pytest.mark.parametrize("service", SERVICES)
def test_bad_credentials_are_unauthenticated_on_every_method(district, service):
    target = district.targets[service]
    wrong: list[str] = []
    cases = 0
    for method in target.spec.methods:
        for name, metadata in bad_credentials().items():
            outcome = target.call(method, method.request_class(), metadata)
            cases += 1
            if outcome.code != grpc.StatusCode.UNAUTHENTICATED:
                wrong.append(f"{method.path} with {name}: {outcome.code.name} {outcome.details[:120]}")
    stats.count("access: bad credentials x methods", cases)
    assert target.api.healthy()
    assert not wrong, f"{len(wrong)} call(s) not refused as UNAUTHENTICATED:\n" + "\n".join(wrong[:40])


@pytest.mark.parametrize("service", SERVICES)
def test_office_users_neither_see_nor_change_another_office(district, service):
    target = district.targets[service]
    harvest = district.harvest.snapshot()
    problems: list[str] = []
    cases = 0
    for method in target.spec.methods:
        if method.id in ROUTED_INTAKE:
            continue
        for request in plausible(method, harvest, district.other_office)[1:]:
            # With no record of the other office to name, the builder falls back to any record, which
            # may be the caller's own: such a request is not aimed at another office.
            if names_record_of(request, harvest, district.own_office):
                continue
            for role in ("office_head", "officer"):
                user = district.office_user(role)
                before = target.fingerprint()
                outcome = target.call(method, request, user.metadata)
                after = target.fingerprint()
                cases += 1
                if after != before:
                    changed = "; ".join(target.fingerprint.diff(before, after))
                    problems.append(f"{method.path} as {role} of {user.office_id} aimed at {district.other_office}: "
                                    f"{outcome.code.name}, store changed ({changed})")
                if outcome.ok:
                    foreign = set().union(*(office_ids_in(m, user.office_id) for m in outcome.messages()))
                    if foreign:
                        problems.append(f"{method.path} as {role} of {user.office_id}: answer shows {sorted(foreign)}")
                elif outcome.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
                    problems.append(f"{method.path} as {role}: {outcome.code.name} {outcome.details[:100]}")
    stats.count("access: office users aimed at another office", cases)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("service", SERVICES)
def test_roles_on_requests_built_from_real_records(district, service):
    """Each request goes to an office user, the auditor and the bureau leader (probe.Prober)."""
    target = district.targets[service]
    harvest = district.harvest.snapshot()
    probers = []
    for method in target.spec.methods:
        prober = Prober(district, method)
        for index, request in enumerate(plausible(method, harvest, district.own_office, variants=3)):
            prober.probe(request, "office_head" if index % 2 else "officer")
        probers.append(prober)
    stats.count("access: role probes on real records (x3 callers)", sum(p.calls for p in probers) // 3)
    stats.count("access: writes the bureau leader made and the auditor was refused", sum(p.writes for p in probers))
    assert target.api.healthy()
    problems = []
    for prober in probers:
        problems += [f"{prober.method.path}: {line}" for line in prober.report()]
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def record_ids(outcome) -> set[str]:
    """The ids of every record an answer holds (each message's `id` field, at any depth)."""
    found: set[str] = set()

    def visit(message) -> None:
        field = message.DESCRIPTOR.fields_by_name.get("id")
        if field is not None and field.type == field.TYPE_STRING and message.id:
            found.add(message.id)

    for message in outcome.messages() if outcome.ok else []:
        walk(message, visit)
    return found


def replay_leaks(district: District, service: str, limit: int = 3) -> list[str]:
    """Creates made by the bureau leader for another office's records, then sent again with the same
    request_id by an office user of the first office: what the office user got back of them. The user's
    request is a request of its own (its answer may name the office a complaint was routed to), but it
    must never be answered with the leader's record."""
    target = district.targets[service]
    harvest = district.harvest.snapshot()
    leaks = []
    for method in target.spec.methods:
        if method.server_streaming or "request_id" not in method.input.fields_by_name:
            continue
        offices = [o for o in harvest.offices() if o != district.own_office][:3]
        for request in [r for office in offices for r in plausible(method, harvest, office)[1:]]:
            first = target.call(method, request, district.leader.metadata)
            if not first.ok or not set().union(*(office_ids_in(m, district.own_office) for m in first.messages())):
                continue
            for role in ("office_head", "officer"):
                user = district.office_user(role)
                again = target.call(method, request, user.metadata)
                stats.count("access: create requests sent again (same request_id) by another office's user")
                shown = set().union(*(office_ids_in(m, user.office_id) for m in again.messages())) \
                    if again.ok else set()
                if shown and record_ids(first) & record_ids(again):
                    leaks.append(f"{method.path}: {role} of {user.office_id} got the record of {sorted(shown)} "
                                 f"by sending its request_id again")
            break
        if len(leaks) >= limit:
            break
    return leaks


def test_a_request_id_sent_again_by_another_office_reveals_nothing(district):
    leaks = [line for service in district.targets for line in replay_leaks(district, service)]
    assert not leaks, "\n".join(leaks)
