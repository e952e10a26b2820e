"""Where each service's IndicatorSource listens: INDICATOR_SOURCES, read once at start.

    INDICATOR_SOURCES="command_center=host:port,complaints=dns:///complaints-api-headless:50051,..."

An address is `host:port`, `dns:///host:port` (over a headless Service: every ready pod, calls spread
by services/common/channels.py), or an `ipv4:`/`ipv6:` list of addresses (`ipv4:10.0.0.1:50051,
10.0.0.2:50051`: a part without '=' continues the list before it).

Unset, every service is expected on localhost at its monolithic port (`make run`). Set, it lists
exactly the sources to call: a deployment that runs only some services names only those. A bad
value stops the process with a message naming the variable (services.common.config.ConfigError).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NoReturn

from services.common import registry
from services.common.config import ConfigError

VARIABLE = "INDICATOR_SOURCES"

# Every service that contributes indicators (services.common.registry), in start order.
SOURCES = tuple(entry.name for entry in registry.sources())

FORM = ("name=host:port pairs separated by commas, e.g. command_center=localhost:50051,"
        "complaints=dns:///complaints-api-headless:50051 (also ipv4:a:port,b:port and ipv6:[a]:port)")
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
# Resolver schemes a target may name; a list scheme takes more addresses after commas.
_DNS, _LISTS = "dns:///", {"ipv4:": _IPV4, "ipv6:": _IPV6}


def default_sources() -> dict[str, str]:
    """Every indicator source on localhost at its monolithic port (`make run`)."""
    return {entry.name: f"localhost:{entry.monolith_port}" for entry in registry.sources()}


def parse_sources(raw: str | None) -> dict[str, str]:
    """Source name -> gRPC target ("host:port", "dns:///host:port" or an ipv4:/ipv6: list), in the
    order of SOURCES."""
    if raw is None:
        return default_sources()
    addresses: dict[str, str] = {}
    listing = ""  # the source whose ipv4:/ipv6: list a part without '=' continues
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        name, equals, address = (s.strip() for s in part.partition("="))
        if not equals and listing:
            scheme = addresses[listing].partition(":")[0] + ":"
            addresses[listing] += "," + _host_port(raw, listing, part, _LISTS[scheme])
            continue
        if not equals:
            _fail(raw, f"{part!r} has no '='")
        if name not in SOURCES:
            _fail(raw, f"unknown service {name!r}; known: {', '.join(SOURCES)}")
        if name in addresses:
            _fail(raw, f"{name} is listed twice")
        scheme = next((s for s in (_DNS, *_LISTS) if address.startswith(s)), "")
        pattern = _LISTS.get(scheme, _HOST)
        addresses[name] = scheme + _host_port(raw, name, address.removeprefix(scheme), pattern)
        listing = name if scheme in _LISTS else ""
    return {name: addresses[name] for name in SOURCES if name in addresses}


def _host_port(raw: str, name: str, address: str, host_pattern: re.Pattern[str]) -> str:
    host, colon, port = address.rpartition(":")
    if not colon or not host_pattern.match(host) or not port.isdigit() or not 0 < int(port) < 65536:
        _fail(raw, f"{name}: {address!r} is not host:port")
    return f"{host}:{int(port)}"


def sources_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """The indicator sources' addresses from INDICATOR_SOURCES in `env`, or the monolithic defaults."""
    return parse_sources(env.get(VARIABLE))


def _fail(raw: str, why: str) -> NoReturn:
    raise ConfigError(f"configuration error: {VARIABLE}={raw!r} is invalid; expected {FORM} ({why})")
