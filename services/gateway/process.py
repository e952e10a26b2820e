"""`python -m services.gateway serve | worker | migrate | dead-letters` (microservices mode).

Every command is every service's (services.common.runner). `serve` hosts the gateway as the API
process of any service is hosted (`GatewayRuntime.hosted`): gRPC on GRPC_PORT, the dashboard, the
HTTP/JSON API and the live stream on HTTP_PORT, the event listener on AMQP_URI, /metrics on
METRICS_PORT as every process (never on HTTP_PORT, the public one) with the listener's /livez and
/readyz. DEVELOPMENT_LOGIN is refused: a deployment never mints tokens for itself.
"""

from __future__ import annotations

from services.common import runner
from services.common.config import ConfigError, Settings
from services.gateway.config import GatewayConfig
from services.gateway.service import NAME, build


def refuse_development_login(command: str, settings: Settings) -> None:
    """`serve` is the deployed gateway: DEVELOPMENT_LOGIN=true stops it before anything is opened."""
    if command == "serve" and GatewayConfig.from_env().development_login:
        raise ConfigError("configuration error: DEVELOPMENT_LOGIN=true is for the monolithic mode only (`make run`); "
                          "a deployed gateway takes its users' tokens from the identity provider")


def run(argv: list[str] | None = None) -> None:
    """The gateway's command line; a bad setting raises ConfigError (tests)."""
    runner.run(NAME, build, argv, start_checks=refuse_development_login)


def main(argv: list[str] | None = None) -> None:
    """The gateway's command line; a bad setting exits 2 naming it."""
    runner.main(NAME, build, argv, start_checks=refuse_development_login)
