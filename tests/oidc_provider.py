"""A tiny OpenID Connect provider for the field app's sign-in test: a fake at a boundary we do not
own (the bureau's identity provider), standing in for it with only what the app relies on.

- GET  /.well-known/openid-configuration: the discovery document.
- GET  /authorize: signs in the configured user at once (a real provider shows its own login page)
  and redirects back to the redirect URI with a one-time code, after recording the PKCE
  code_challenge (S256 only: a plain challenge or none is refused).
- POST /token: authorization_code (code_verifier checked against the challenge, redirect URI and
  client as at /authorize) and refresh_token grants; the access token is an RS256 JWT with the
  gateway's audience and this provider's issuer, for the subject, roles and office it was set up with.

It runs on its own event loop in a thread, on 127.0.0.1 and a free port. `exchanges` records each
token request's outcome so that a test can say what the browser sent.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# The app is on another origin: its fetches of the discovery document and the token endpoint are CORS.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS"}


@dataclass
class Pending:
    client_id: str
    redirect_uri: str
    challenge: str


@dataclass
class OidcProvider:
    client_id: str
    subject: str
    roles: list[str]
    office_id: str = ""
    audience: str = "supervision-cloud"
    token_seconds: int = 600
    exchanges: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key_pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self._codes: dict[str, Pending] = {}
        self._refresh: set[str] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="oidc-provider", daemon=True)
        self.port = 0

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OidcProvider:
        """Serves until stop(); answers once listening."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test identity provider did not start")
        return self

    def stop(self) -> None:
        """Stops serving and ends the thread."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def token(self, *, subject: str | None = None, roles: list[str] | None = None, office_id: str | None = None,
              seconds: int | None = None, **claims) -> str:
        """An access token signed with this provider's key (also for the test's own gRPC calls)."""
        now = int(time.time())
        body = {"sub": subject or self.subject, "roles": roles or self.roles, "aud": self.audience,
                "iss": self.issuer, "iat": now, "exp": now + (seconds or self.token_seconds), **claims}
        office = self.office_id if office_id is None else office_id
        if office:
            body["office_id"] = office
        return jwt.encode(body, self._key, algorithm="RS256")

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_route("OPTIONS", "/token", self._preflight)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

    async def _discovery(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"], "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"]}, headers=CORS)

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        problem = ""
        if query.get("response_type") != "code":
            problem = "unsupported_response_type"
        elif query.get("client_id") != self.client_id:
            problem = "unauthorized_client"
        elif query.get("code_challenge_method") != "S256" or len(query.get("code_challenge", "")) != 43:
            problem = "invalid_request"
        if problem or not query.get("redirect_uri"):
            return web.Response(status=400, text=problem or "no redirect_uri")
        code = secrets.token_urlsafe(24)
        self._codes[code] = Pending(query["client_id"], query["redirect_uri"], query["code_challenge"])
        separator = "&" if "?" in query["redirect_uri"] else "?"
        state = query.get("state", "")
        raise web.HTTPFound(f"{query['redirect_uri']}{separator}code={code}&state={state}")

    async def _preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=CORS)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = form.get("grant_type")
        if grant == "refresh_token":
            token = str(form.get("refresh_token", ""))
            if token not in self._refresh:
                return self._refuse("invalid_grant", "unknown refresh token", grant)
            self._refresh.discard(token)
            return self._issue(grant)
        if grant != "authorization_code":
            return self._refuse("unsupported_grant_type", str(grant), grant)
        pending = self._codes.pop(str(form.get("code", "")), None)  # a code is good once
        if pending is None:
            return self._refuse("invalid_grant", "unknown or used code", grant)
        if form.get("client_id") != pending.client_id or form.get("redirect_uri") != pending.redirect_uri:
            return self._refuse("invalid_grant", "client or redirect_uri differs from /authorize", grant)
        digest = hashlib.sha256(str(form.get("code_verifier", "")).encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != pending.challenge:
            return self._refuse("invalid_grant", "code_verifier does not match the code_challenge", grant)
        return self._issue(grant)

    def _issue(self, grant: str) -> web.Response:
        refresh = secrets.token_urlsafe(24)
        self._refresh.add(refresh)
        self.exchanges.append({"grant": grant, "ok": True})
        answer = {"access_token": self.token(), "token_type": "Bearer", "expires_in": self.token_seconds,
                  "refresh_token": refresh, "scope": "openid profile"}
        return web.json_response(answer, headers={**CORS, "Cache-Control": "no-store"})

    def _refuse(self, error: str, description: str, grant) -> web.Response:
        self.exchanges.append({"grant": grant, "ok": False, "error": description})
        return web.json_response({"error": error, "error_description": description}, status=400, headers=CORS)
