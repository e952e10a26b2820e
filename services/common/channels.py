"""Client channels for calls between the services.

An address is `host:port` or a gRPC target with a resolver scheme (`dns:///host:port`, and
`ipv4:`/`ipv6:` address lists). Every channel uses the round_robin load-balancing policy: over a
headless Service (`dns:///<service>-api-headless:50051`) the name resolves to every ready pod and
calls are spread over all of them, instead of the default pick_first, which keeps one connection to
one pod for the channel's whole life (a ClusterIP Service balances connections, not calls, so a
replica added by the autoscaler would get no internal traffic). gRPC resolves the name again when a
connection drops, which the servers' maximum connection age makes happen regularly
(services/common/grpc_server.py), so new pods join within that age.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import grpc

from services.common.grpc_server import MAX_MESSAGE_BYTES, MIN_CLIENT_PING_INTERVAL_MS

# Calls to other services are spread over every address the name resolves to.
SERVICE_CONFIG: dict[str, list[dict[str, dict[str, object]]]] = {"loadBalancingConfig": [{"round_robin": {}}]}

# Keepalive within the servers' policy: a ping only while calls are open (the servers count a ping
# on a connection without calls as abuse and send GOAWAY too_many_pings), and never more often than
# the servers accept; it detects a pod that vanished without closing its connections.
KEEPALIVE_TIME_MS = 3 * MIN_CLIENT_PING_INTERVAL_MS
KEEPALIVE_TIMEOUT_MS = 10_000

SCHEMES = ("dns", "ipv4", "ipv6")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")


def channel_options() -> list[tuple[str, object]]:
    """The options of every internal client channel: round_robin, keepalive, message sizes."""
    return [
        ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
        # Without this a service config from a DNS TXT record would replace ours.
        ("grpc.service_config_disable_resolution", 1),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.keepalive_permit_without_calls", 0),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]


def target_of(address: str) -> str:
    """The gRPC target of an internal address: a known scheme is kept, `host:port` is gRPC's default
    (dns) resolution of that name."""
    match = _SCHEME.match(address)
    if match and match.group(1) in SCHEMES:
        return address
    if match and not address[match.end():].isdigit():
        raise ValueError(f"{address!r}: unsupported scheme {match.group(1)!r}; expected host:port or one of "
                         + ", ".join(f"{scheme}:" for scheme in SCHEMES))
    return address


def internal_channel(address: str, extra_options: Sequence[tuple[str, object]] = ()) -> grpc.Channel:
    """A channel to another service at `address` (`host:port`, `dns:///host:port`, `ipv4:a:p,b:p`)
    that spreads its calls over every address the name resolves to; `extra_options` are more channel
    arguments (tests shorten gRPC's 30 s floor between two resolutions of a name with them)."""
    return grpc.insecure_channel(target_of(address), options=[*channel_options(), *extra_options])
