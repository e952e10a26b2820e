"""Bearer tokens to Callers (TokenVerifier, issue_token) and what a Caller may see: lifetime limits,
the system role kept to service tokens."""

from __future__ import annotations

import datetime as dt
import time

import jwt
import pytest

from services.common.auth import SERVICE_USE, TokenVerifier, issue_service_token, issue_token
from services.common.config import Settings
from services.common.context import AUDITOR, BUREAU_LEADER, OFFICE_HEAD, OFFICER, SYSTEM, SYSTEM_CALLER, Caller
from services.common.errors import Unauthenticated
from services.gateway.upstream import Credentials

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


# --- token lifetime -------------------------------------------------------------------------------

def _signed(**claims) -> str:
    """A bureau leader's token with `claims` changed (a claim given as None is left out)."""
    now = int(time.time())
    body = {"sub": "a", "roles": [BUREAU_LEADER], "aud": "supervision-cloud", "iat": now, "exp": now + 3600}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, SECRET, algorithm="HS256")


def test_a_hundred_year_token_is_refused(verifier):
    token = issue_token(SECRET, subject="a", roles=[BUREAU_LEADER], ttl=dt.timedelta(days=365 * 100))

    message = _unauthenticated(verifier, _bearer(token))
    assert "exceeds the 43200 s allowed" in message and "JWT_MAX_LIFETIME_SECONDS" in message


def test_a_token_issued_for_longer_than_the_maximum_is_refused_even_near_its_end(verifier):
    now = int(time.time())
    # Issued 13 h ago for 14 h: only an hour left, but minted beyond the 12 h a token may live.
    token = _signed(iat=now - 13 * 3600, exp=now + 3600)

    assert "token lifetime 50400 s exceeds" in _unauthenticated(verifier, _bearer(token))


def test_a_token_without_iat_may_not_expire_beyond_the_maximum_from_now(verifier):
    now = int(time.time())

    assert "from now, beyond the 43200 s allowed" in _unauthenticated(
        verifier, _bearer(_signed(iat=None, exp=now + 13 * 3600)))
    assert verifier.verify(_bearer(_signed(iat=None, exp=now + 11 * 3600))).subject == "a"


def test_the_development_login_and_a_twelve_hour_token_are_accepted(verifier):
    now = int(time.time())

    assert verifier.verify(_bearer(issue_token(SECRET, subject="a", roles=[AUDITOR]))).subject == "a"  # 8 h
    assert verifier.verify(_bearer(_signed(iat=now, exp=now + 12 * 3600))).subject == "a"


def test_the_maximum_lifetime_is_configurable():
    short = TokenVerifier(Settings.from_env({"AUTH_MODE": "jwt", "JWT_SECRET": SECRET,
                                             "JWT_MAX_LIFETIME_SECONDS": "900"}))
    now = int(time.time())

    assert _unauthenticated(short, _bearer(_signed(iat=now, exp=now + 3600))).startswith(
        "token lifetime 3600 s exceeds the 900 s")
    assert short.verify(_bearer(_signed(iat=now, exp=now + 900))).subject == "a"


def test_the_caller_carries_its_tokens_expiry(verifier):
    now = int(time.time())
    caller = verifier.verify(_bearer(_signed(iat=now, exp=now + 600)))

    assert caller.expires_at == float(now + 600)
    assert caller == Caller(subject="a", roles=frozenset({BUREAU_LEADER}))  # expiry is not identity
    assert len({caller, Caller(subject="a", roles=frozenset({BUREAU_LEADER}), expires_at=1.0)}) == 1
    assert SYSTEM_CALLER.expires_at is None


# --- the system role ------------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [[SYSTEM], [SYSTEM, BUREAU_LEADER], [AUDITOR, SYSTEM]])
def test_a_user_token_may_not_claim_the_system_role(verifier, roles):
    token = issue_token(SECRET, subject="mallory", roles=roles)

    assert "the system role is for the services' own calls" in _unauthenticated(verifier, _bearer(token))


@pytest.mark.parametrize("token_use", ["user", "Service", "", 1])
def test_only_the_service_token_use_lets_the_system_role_in(verifier, token_use):
    token = _signed(roles=[SYSTEM], token_use=token_use)

    assert "the system role is for the services' own calls" in _unauthenticated(verifier, _bearer(token))


@pytest.mark.parametrize("roles", [[SYSTEM, BUREAU_LEADER], [BUREAU_LEADER], [OFFICER]])
def test_a_service_token_carries_the_system_role_alone(verifier, roles):
    token = _signed(roles=roles, token_use=SERVICE_USE, office_id="o-1")

    assert _unauthenticated(verifier, _bearer(token)) == "a service token carries the system role and no other"


def test_a_service_token_is_the_system_caller(verifier):
    caller = verifier.verify(_bearer(issue_service_token(SECRET, subject="reporting-job")))

    assert (caller.subject, caller.roles, caller.office_id) == ("reporting-job", frozenset({SYSTEM}), "")
    assert caller.writes_district_wide


def test_the_gateways_own_token_is_a_service_token_within_the_lifetime():
    settings = Settings.from_env({"AUTH_MODE": "jwt", "JWT_SECRET": SECRET,
                                  "JWT_SERVICE_MAX_LIFETIME_SECONDS": "1800"})
    [(_, authorization)] = Credentials(settings, "").metadata()

    caller = TokenVerifier(settings).verify(authorization)
    assert caller.roles == frozenset({SYSTEM})
    assert caller.expires_at is not None and caller.expires_at - time.time() <= 1800


def test_service_tokens_have_their_own_longer_maximum(verifier):
    """GATEWAY_SERVICE_TOKEN is set once per deploy: up to 30 days by default, never a century."""
    now = int(time.time())
    month = 30 * 86400

    assert verifier.verify(_bearer(_signed(roles=[SYSTEM], token_use=SERVICE_USE, exp=now + month))).roles == {SYSTEM}
    message = _unauthenticated(verifier, _bearer(_signed(roles=[SYSTEM], token_use=SERVICE_USE,
                                                         exp=now + 100 * 365 * 86400)))
    assert "JWT_SERVICE_MAX_LIFETIME_SECONDS" in message
    # A user token gets no more than the user maximum by claiming to be a service's.
    assert "system role and no other" in _unauthenticated(verifier, _bearer(_signed(
        token_use=SERVICE_USE, exp=now + month)))
    assert "JWT_MAX_LIFETIME_SECONDS" in _unauthenticated(verifier, _bearer(_signed(exp=now + month)))
