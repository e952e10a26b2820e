"""Hosting the gateway in a process: the gRPC server (services.common.hosting.HostedService) plus
the live index's parts, in the order that loses nothing at start:

1. the schemes assessment sent before (from the store);
2. microservices mode: the event listener, consuming before anything is asked, so an event
   published while the sources are being asked is not missed;
3. gRPC, the history recorder, the feeder (seed, then reconcile), the HTTP server.

Stopped in reverse: HTTP first (streams end), then the feeder and listener, gRPC drains, and the
recorder writes what is left.

Every host gets it the same way, from `GatewayRuntime.hosted` (services.gateway.service), which
passes what the process around it offers (services.common.hosting.HostContext).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

import jwt

from services.common.config import Settings
from services.common.context import BUREAU_LEADER
from services.common.grpc_server import RunningServer
from services.common.hosting import HostedService
from services.common.relay import Transport
from services.common.runtime import ServiceRuntime
from services.common.startup import StartupProgress
from services.gateway.attachments import open_store
from services.gateway.http_api.complaint_status import LookupLockoutSettings
from services.gateway.http_api.field_support import FieldSettings
from services.gateway.http_api.routes import Context
from services.gateway.http_api.security import HttpAuth, form_limiter, form_tokens
from services.gateway.http_api.server import HttpServer
from services.gateway.http_api.stream import StreamHub
from services.gateway.listener import LISTENER_LOOP, EventListener
from services.gateway.parts import GatewayParts

log = logging.getLogger(__name__)

LISTENER_READY_SECONDS = 15.0
DEVELOPMENT_LOGIN_SECONDS = 8 * 3600


def development_token(settings: Settings) -> str:
    """An 8-hour bureau-leader token signed with JWT_SECRET, for a development login only."""
    now = int(time.time())
    claims = {"sub": "dev-bureau-leader", "roles": [BUREAU_LEADER], "aud": settings.jwt_audience, "iat": now,
              "exp": now + DEVELOPMENT_LOGIN_SECONDS}
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


class GatewayHost(HostedService):
    def __init__(self, runtime: ServiceRuntime, settings: Settings, transport: Transport, *, parts: GatewayParts,
                 port: int, host: str = "[::]", run_timers: bool = True, http_port: int | None = None,
                 amqp_uri: str = "", peers: Iterable[HostedService] = (), sources: Mapping[str, str] | None = None,
                 startup: StartupProgress | None = None):
        """`parts`: the runtime's live index and its threads; `amqp_uri` (microservices mode): the
        broker its own listener consumes broadcast events from; `peers`: services hosted in the same
        process (monolithic mode), asked at the ports they actually got; `sources` replaces
        INDICATOR_SOURCES (tests); `startup`: the demo district's loading in the same process
        (monolithic mode), which /readyz reports and the history and alerts wait for."""
        super().__init__(runtime, settings, transport, port=port, host=host, run_timers=run_timers)
        self.parts = parts
        self.peers = list(peers)
        if sources is not None:
            self.parts.upstream.addresses = dict(sources)
        config = self.parts.config
        self.listener = (EventListener(amqp_uri, runtime.subscriptions, self.parts.feeder.reconcile_soon,
                                       runtime.consumer()) if amqp_uri else None)
        # The listener's loop: `serve` watches it on /livez and /readyz as a worker's consumer.
        self.consumer_loops = (LISTENER_LOOP,) if self.listener is not None else ()
        context = Context(self.parts.monitor, self.parts.upstream, HttpAuth(settings),
                          form_limiter(config),
                          StreamHub(self.parts.monitor, config.stream_heartbeat_seconds, config.stream_max_clients),
                          config.form_trusted_proxies, self.parts.feeder.ready.is_set, form_tokens(config),
                          startup=startup, lookup_lockout=LookupLockoutSettings(config.status_max_misses,
                                                                                config.status_miss_window_seconds),
                          field=FieldSettings.from_config(config, open_store(config)))
        self.startup = startup
        if startup is not None:
            self._hold_until_loaded(startup)
        # "[::]" (every interface for gRPC) is None for aiohttp: IPv4 and IPv6 alike.
        self.http = HttpServer(context, None if host in ("[::]", "::", "") else host,
                               settings.http_port if http_port is None else http_port)

    def _hold_until_loaded(self, startup: StartupProgress) -> None:
        # While the district loads, its figures climb from nothing: history of that climb, index
        # "drops" between two loading steps and the alerts of half-loaded records would be noise.
        self.parts.recorder.hold_until(startup.is_ready)
        self.parts.feeder.center_ready = startup.is_ready
        self.parts.monitor.live.hold_tracking(not startup.is_ready())
        startup.on_ready(self._center_ready)

    def _center_ready(self) -> None:
        """The district is loaded: the index tracks drops from here, and every source (with its
        alert probe) is asked again at once rather than at the next reconcile."""
        self.parts.monitor.live.hold_tracking(False)
        self.parts.feeder.reconcile_soon()

    @property
    def http_port(self) -> int:
        return self.http.port

    def dashboard_url(self, hostname: str) -> str:
        """The dashboard's address. With DEVELOPMENT_LOGIN=true, AUTH_MODE=jwt and JWT_SECRET, a
        development login: an 8-hour bureau-leader token in the fragment, which the page keeps for the
        session. Never otherwise: the address is printed to the log, and whoever reads the log of a
        shared machine or a collected log stream would hold the district's widest role."""
        url = f"http://{hostname}:{self.http_port}/"
        if self.parts.config.development_login and self.settings.auth_mode == "jwt" and self.settings.jwt_secret:
            token = development_token(self.settings)
            url += f"#token={token}"
        return url

    def announce(self, hostname: str) -> list[str]:
        """The banner's lines for the HTTP/JSON API, the dashboard, the citizens' complaint page and the field app."""
        lines = [f"  {'API':<20} HTTP  http://{hostname}:{self.http_port}/api/v1/openapi.json",
                 "", f"  大屏 dashboard: {self.dashboard_url(hostname)}",
                 f"  投诉举报 citizens' page: http://{hostname}:{self.http_port}/complaint",
                 f"  移动执法 inspectors' field app: http://{hostname}:{self.http_port}/field/"]
        if self.settings.auth_mode == "jwt" and not self.parts.config.development_login:
            lines += ["  (AUTH_MODE=jwt: open it with #token=<jwt>; DEVELOPMENT_LOGIN=true prints a development login)"]
        return lines

    def start(self) -> RunningServer:
        for peer in self.peers:
            if peer.server is not None and self.parts.upstream.has(peer.runtime.name):
                self.parts.upstream.addresses[peer.runtime.name] = f"127.0.0.1:{peer.server.port}"
        self.parts.monitor.live.expect_sources(self.parts.upstream.addresses)
        self.parts.monitor.load_known_schemes()
        if self.listener is not None:
            self.listener.start()
            self.listener.ready.wait(LISTENER_READY_SECONDS)
        server = super().start()
        self.parts.recorder.start()
        self.parts.feeder.start()
        self.http.start()
        log.info("serving", extra={"service": self.runtime.name, "grpc_port": server.port, "http_port": self.http_port})
        return server

    def stop(self, grace_seconds: float | None = None) -> None:
        self.http.stop()
        self.parts.feeder.stop()
        if self.listener is not None:
            self.listener.stop()
        super().stop(grace_seconds)
        self.parts.recorder.stop()
        self.parts.upstream.close()
