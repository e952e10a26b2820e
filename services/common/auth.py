"""Caller identity from bearer tokens (JWT).

The token carries the subject, roles and, for office users, the office: services read the
resulting Caller from context and scope Get and List to what it may see.
"""

from __future__ import annotations

import datetime as dt

import jwt

from services.common.config import Settings
from services.common.context import ROLES, Caller
from services.common.errors import Unauthenticated


class TokenVerifier:
    def __init__(self, settings: Settings):
        if settings.jwt_public_key:
            self._key: str = settings.jwt_public_key
            self._algorithms = ["RS256", "ES256"]
        else:
            self._key = settings.jwt_secret
            self._algorithms = ["HS256"]
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer or None

    def verify(self, authorization: str | None) -> Caller:
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
        return caller_from_claims(claims)


def caller_from_claims(claims: dict) -> Caller:
    roles = claims.get("roles")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("token has no roles")
    unknown = set(roles) - ROLES
    if unknown:
        raise Unauthenticated(f"token has unknown roles: {', '.join(sorted(unknown))}")
    caller = Caller(subject=str(claims["sub"]), roles=frozenset(roles), office_id=str(claims.get("office_id", "")))
    if not caller.district_wide and not caller.office_id:
        raise Unauthenticated("an office role needs the office_id claim")
    return caller


def issue_token(secret: str, *, subject: str, roles: list[str], office_id: str = "",
                audience: str = "supervision-cloud", ttl: dt.timedelta = dt.timedelta(hours=8)) -> str:
    """HS256 token for development logins and tests; production tokens come from the identity provider."""
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": subject, "roles": roles, "aud": audience, "iat": now, "exp": now + ttl}
    if office_id:
        claims["office_id"] = office_id
    return jwt.encode(claims, secret, algorithm="HS256")
