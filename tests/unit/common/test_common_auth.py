"""Bearer tokens to Callers (TokenVerifier, issue_token) and what a Caller may see."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from services.common.auth import TokenVerifier, issue_token
from services.common.config import Settings
from services.common.context import AUDITOR, BUREAU_LEADER, OFFICE_HEAD, OFFICER, SYSTEM, SYSTEM_CALLER, Caller
from services.common.errors import Unauthenticated

SECRET = "test-secret-of-at-least-32-bytes-xx"
OTHER_SECRET = "another-secret-of-at-least-32-bytes"


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(Settings.from_env({"AUTH_MODE": "jwt", "JWT_SECRET": SECRET}))


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def _unauthenticated(verifier: TokenVerifier, authorization: str | None) -> str:
    with pytest.raises(Unauthenticated) as raised:
        verifier.verify(authorization)
    return raised.value.message


def test_valid_office_token_gives_caller_with_roles_and_office(verifier):
    token = issue_token(SECRET, subject="officer-7", roles=[OFFICER, OFFICE_HEAD], office_id="office-3")

    caller = verifier.verify(_bearer(token))

    assert caller == Caller(subject="officer-7", roles=frozenset({OFFICER, OFFICE_HEAD}), office_id="office-3")


def test_valid_district_token_needs_no_office(verifier):
    caller = verifier.verify(_bearer(issue_token(SECRET, subject="leader", roles=[BUREAU_LEADER])))

    assert caller.roles == frozenset({BUREAU_LEADER})
    assert caller.office_id == ""
    assert caller.district_wide


@pytest.mark.parametrize("authorization", ["bearer {t}", "BEARER {t}", "Bearer   {t}  "])
def test_scheme_is_case_insensitive_and_token_trimmed(verifier, authorization):
    token = issue_token(SECRET, subject="a", roles=[AUDITOR])

    assert verifier.verify(authorization.format(t=token)).subject == "a"


@pytest.mark.parametrize("authorization", [None, ""])
def test_missing_header(verifier, authorization):
    assert "missing bearer token" in _unauthenticated(verifier, authorization)


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwdw==", "Bearer", "Bearer   ", "Token abc", "abc"])
def test_wrong_scheme_or_empty_token(verifier, authorization):
    assert _unauthenticated(verifier, authorization) == "authorization must be 'Bearer <jwt>'"


def test_expired_token(verifier):
    token = issue_token(SECRET, subject="a", roles=[AUDITOR], ttl=-dt.timedelta(minutes=1))

    assert _unauthenticated(verifier, _bearer(token)) == "token expired"


def test_wrong_signature(verifier):
    token = issue_token(OTHER_SECRET, subject="a", roles=[AUDITOR])

    message = _unauthenticated(verifier, _bearer(token))

    assert message.startswith("invalid token")
    assert "signature" in message.lower()


def test_tampered_payload_is_refused(verifier):
    header, _, signature = issue_token(SECRET, subject="a", roles=[OFFICER], office_id="o-1").split(".")
    forged = jwt.utils.base64url_encode(b'{"sub":"a","roles":["bureau_leader"],"aud":"supervision-cloud",'
                                        b'"exp":4102444800}').decode()

    assert _unauthenticated(verifier, _bearer(f"{header}.{forged}.{signature}")).startswith("invalid token")


def test_unsigned_alg_none_token_is_refused(verifier):
    claims = {"sub": "a", "roles": [BUREAU_LEADER], "aud": "supervision-cloud",
              "exp": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)}
    token = jwt.encode(claims, None, algorithm="none")

    assert _unauthenticated(verifier, _bearer(token)).startswith("invalid token")


def test_wrong_audience(verifier):
    token = issue_token(SECRET, subject="a", roles=[AUDITOR], audience="someone-else")

    assert _unauthenticated(verifier, _bearer(token)) == "token audience is not this service"


def test_configured_audience_is_the_one_checked():
    verifier = TokenVerifier(Settings.from_env({"AUTH_MODE": "jwt", "JWT_SECRET": SECRET,
                                                "JWT_AUDIENCE": "district-7"}))

    assert verifier.verify(_bearer(issue_token(SECRET, subject="a", roles=[AUDITOR], audience="district-7")))
    with pytest.raises(Unauthenticated):
        verifier.verify(_bearer(issue_token(SECRET, subject="a", roles=[AUDITOR])))


def test_configured_issuer_is_required():
    verifier = TokenVerifier(Settings.from_env({"AUTH_MODE": "jwt", "JWT_SECRET": SECRET, "JWT_ISSUER": "idp"}))
    token = issue_token(SECRET, subject="a", roles=[AUDITOR])  # carries no iss

    assert "iss" in _unauthenticated(verifier, _bearer(token))


def test_token_without_exp_is_refused(verifier):
    token = jwt.encode({"sub": "a", "roles": [AUDITOR], "aud": "supervision-cloud"}, SECRET, algorithm="HS256")

    message = _unauthenticated(verifier, _bearer(token))

    assert message.startswith("invalid token")
    assert "exp" in message


def test_unknown_role(verifier):
    token = issue_token(SECRET, subject="a", roles=[AUDITOR, "wizard"])

    assert _unauthenticated(verifier, _bearer(token)) == "token has unknown roles: wizard"


@pytest.mark.parametrize("roles", [[], "officer", [1]])
def test_missing_or_malformed_roles(verifier, roles):
    token = jwt.encode({"sub": "a", "roles": roles, "aud": "supervision-cloud",
                        "exp": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)}, SECRET, algorithm="HS256")

    assert _unauthenticated(verifier, _bearer(token)) == "token has no roles"


@pytest.mark.parametrize("roles", [[OFFICER], [OFFICE_HEAD], [OFFICER, OFFICE_HEAD]])
def test_office_role_without_office_id(verifier, roles):
    token = issue_token(SECRET, subject="a", roles=roles)

    assert _unauthenticated(verifier, _bearer(token)) == "an office role needs the office_id claim"


# --- Caller ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [BUREAU_LEADER, AUDITOR, SYSTEM])
def test_district_wide_roles_see_every_office(role):
    caller = Caller(subject="x", roles=frozenset({role}))

    assert caller.district_wide
    assert caller.may_see_office("office-1")
    assert caller.may_see_office("office-2")


def test_office_role_sees_only_its_own_office():
    caller = Caller(subject="x", roles=frozenset({OFFICER}), office_id="office-1")

    assert not caller.district_wide
    assert caller.may_see_office("office-1")
    assert not caller.may_see_office("office-2")
    assert not caller.may_see_office("")


def test_office_role_without_office_sees_nothing():
    caller = Caller(subject="x", roles=frozenset({OFFICE_HEAD}))

    assert not caller.may_see_office("")
    assert not caller.may_see_office("office-1")


def test_office_role_plus_district_role_is_district_wide():
    assert Caller(subject="x", roles=frozenset({OFFICER, AUDITOR}), office_id="o-1").may_see_office("o-2")


@pytest.mark.parametrize(("roles", "read_only"), [
    ({AUDITOR}, True),
    (set(), True),
    ({OFFICER}, False),
    ({OFFICE_HEAD}, False),
    ({BUREAU_LEADER}, False),
    ({SYSTEM}, False),
    ({AUDITOR, OFFICER}, False),
])
def test_read_only(roles, read_only):
    assert Caller(subject="x", roles=frozenset(roles), office_id="o-1").read_only is read_only


def test_has_any_and_system_caller():
    caller = Caller(subject="x", roles=frozenset({OFFICER}), office_id="o-1")

    assert caller.has_any(AUDITOR, OFFICER)
    assert not caller.has_any(AUDITOR, BUREAU_LEADER)
    assert SYSTEM_CALLER.district_wide and not SYSTEM_CALLER.read_only
