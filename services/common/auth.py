"""Caller identity from bearer tokens (JWT).

The token carries the subject, roles and, for office users, the office: services read the
resulting Caller from context and scope Get and List to what it may see.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

import jwt

from services.common.config import Settings
from services.common.context import ROLES, SYSTEM, Caller
from services.common.errors import Unauthenticated

# The claim that marks a token as a service's own (the gateway's, a job's): only such a token may
# carry the system role, and it carries nothing else.
TOKEN_USE = "token_use"
SERVICE_USE = "service"
# Clock skew tolerated between the token's minter and this process when measuring a token's lifetime.
LIFETIME_LEEWAY_SECONDS = 60


class TokenVerifier:
    """Checks bearer tokens (JWT) against this deployment's key, audience, issuer and lifetimes."""

    def __init__(self, settings: Settings):
        if settings.jwt_public_key:
            self._key: str = settings.jwt_public_key
            self._algorithms = ["RS256", "ES256"]
        else:
            self._key = settings.jwt_secret
            self._algorithms = ["HS256"]
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer or None
        self._max_lifetime = settings.jwt_max_lifetime_seconds
        self._max_service_lifetime = settings.jwt_service_max_lifetime_seconds

    def verify(self, authorization: str | None) -> Caller:
        """The caller an `authorization: Bearer <jwt>` header proves; UNAUTHENTICATED saying why not."""
        if not authorization:
            raise Unauthenticated("missing bearer token (metadata 'authorization: Bearer <jwt>')")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization must be 'Bearer <jwt>'")
        try:
            claims = jwt.decode(token.strip(), self._key, algorithms=self._algorithms, audience=self._audience,
                                issuer=self._issuer, options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("token audience is not this service") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        if claims.get(TOKEN_USE) == SERVICE_USE:
            check_lifetime(claims, self._max_service_lifetime, time.time(), "JWT_SERVICE_MAX_LIFETIME_SECONDS")
        else:
            check_lifetime(claims, self._max_lifetime, time.time(), "JWT_MAX_LIFETIME_SECONDS")
        return caller_from_claims(claims)


def check_lifetime(claims: Mapping[str, Any], max_seconds: int, now: float, setting: str) -> None:
    """A token may live at most `max_seconds`, from its iat and from now: a long-lived token that
    leaks stays usable for that long, so the identity provider's tokens must be short."""
    exp = _number(claims.get("exp"))
    if exp is None:
        raise Unauthenticated("invalid token: exp must be a number")
    iat = _number(claims.get("iat"))
    if iat is not None and exp - iat > max_seconds:
        raise Unauthenticated(f"token lifetime {int(exp - iat)} s exceeds the {max_seconds} s allowed ({setting})")
    if exp - now > max_seconds + LIFETIME_LEEWAY_SECONDS:
        raise Unauthenticated(f"token expires {int(exp - now)} s from now, beyond the {max_seconds} s allowed "
                              f"({setting})")


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """The caller a verified token's claims describe; UNAUTHENTICATED for roles or offices that do not fit."""
    roles = claims.get("roles")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("token has no roles")
    unknown = set(roles) - ROLES
    if unknown:
        raise Unauthenticated(f"token has unknown roles: {', '.join(sorted(unknown))}")
    service_token = claims.get(TOKEN_USE) == SERVICE_USE
    if SYSTEM in roles and not service_token:
        raise Unauthenticated(f"the system role is for the services' own calls: a user token may not claim it "
                              f"(service tokens say {TOKEN_USE}={SERVICE_USE!r})")
    if service_token and set(roles) != {SYSTEM}:
        raise Unauthenticated("a service token carries the system role and no other")
    caller = Caller(subject=str(claims["sub"]), roles=frozenset(roles), office_id=str(claims.get("office_id", "")),
                    expires_at=_number(claims.get("exp")))
    if not caller.district_wide and not caller.office_id:
        raise Unauthenticated("an office role needs the office_id claim")
    return caller


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def issue_token(secret: str, *, subject: str, roles: list[str], office_id: str = "",
                audience: str = "supervision-cloud", ttl: dt.timedelta = dt.timedelta(hours=8)) -> str:
    """HS256 user token for development logins and tests; production tokens come from the identity provider."""
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": subject, "roles": roles, "aud": audience, "iat": now, "exp": now + ttl}
    if office_id:
        claims["office_id"] = office_id
    return jwt.encode(claims, secret, algorithm="HS256")


def service_claims(subject: str, audience: str, issued_at: int, lifetime_seconds: int) -> dict[str, Any]:
    """The claims of a service's own token: the system role, marked as a service token."""
    return {"sub": subject, "roles": [SYSTEM], TOKEN_USE: SERVICE_USE, "aud": audience, "iat": issued_at,
            "exp": issued_at + lifetime_seconds}


def issue_service_token(secret: str, *, subject: str, audience: str = "supervision-cloud",
                        ttl: dt.timedelta = dt.timedelta(hours=1)) -> str:
    """HS256 token for a service's own calls (tests, tools); the gateway mints its own the same way."""
    claims = service_claims(subject, audience, int(time.time()), int(ttl.total_seconds()))
    return jwt.encode(claims, secret, algorithm="HS256")
