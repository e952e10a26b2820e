"""Where each service's IndicatorSource listens: INDICATOR_SOURCES, read once at start.

    INDICATOR_SOURCES="command_center=host:port,complaints=host:port,..."

Unset, every service is expected on localhost at its monolithic port (`make run`). Set, it lists
exactly the sources to call: a deployment that runs only some services names only those. A bad
value stops the process with a message naming the variable (services.common.config.ConfigError).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from services.common.config import ConfigError

VARIABLE = "INDICATOR_SOURCES"

# Every service that contributes indicators, with its gRPC port in monolithic mode.
MONOLITH_PORTS: dict[str, int] = {
    "command_center": 50051,
    "mobile_enforcement": 50052,
    "complaints": 50053,
    "emergency": 50054,
    "facilities": 50055,
    "assessment": 50056,
}
SOURCES = tuple(MONOLITH_PORTS)

FORM = "name=host:port pairs separated by commas, e.g. command_center=localhost:50051,complaints=localhost:50053"
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])$")


def default_sources() -> dict[str, str]:
    return {name: f"localhost:{port}" for name, port in MONOLITH_PORTS.items()}


def parse_sources(raw: str | None) -> dict[str, str]:
    """Source name -> gRPC target "host:port", in the order of SOURCES."""
    if raw is None:
        return default_sources()
    addresses: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        name, equals, address = (s.strip() for s in part.partition("="))
        if not equals:
            _fail(raw, f"{part!r} has no '='")
        if name not in MONOLITH_PORTS:
            _fail(raw, f"unknown service {name!r}; known: {', '.join(SOURCES)}")
        if name in addresses:
            _fail(raw, f"{name} is listed twice")
        host, colon, port = address.rpartition(":")
        if not colon or not _HOST.match(host) or not port.isdigit() or not 0 < int(port) < 65536:
            _fail(raw, f"{name}: {address!r} is not host:port")
        addresses[name] = f"{host}:{int(port)}"
    return {name: addresses[name] for name in SOURCES if name in addresses}


def sources_from_env(env: Mapping[str, str]) -> dict[str, str]:
    return parse_sources(env.get(VARIABLE))


def _fail(raw: str, why: str) -> None:
    raise ConfigError(f"configuration error: {VARIABLE}={raw!r} is invalid; expected {FORM} ({why})")
