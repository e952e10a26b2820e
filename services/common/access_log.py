"""One access log line per gRPC call and per HTTP request: what was asked, the outcome, how long it
took and who asked. The request id and trace id come from the context (services.common.logs).

Never the request's content: messages may carry personal data (a complainant's name and phone),
which must not reach the logs. The logger is `access`, so an operator can route or silence it on
its own (its lines are INFO: LOG_LEVEL=WARNING drops them at the cost of one level check). Probes
(gRPC health and reflection, HTTP /healthz and /readyz) answer every few seconds for ever: their
lines are DEBUG, or they would bury the calls of people.
"""

from __future__ import annotations

import logging

log = logging.getLogger("access")


def grpc_call(method: str, code: str, seconds: float, caller: str, *, probe: bool = False) -> None:
    """Logs one finished gRPC call: full method name, status code name, duration, caller's subject."""
    level = logging.DEBUG if probe else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "grpc %s %s", method, code, extra={
            "protocol": "grpc", "method": method, "code": code,
            "duration_ms": round(seconds * 1000, 3), "caller": caller})


HTTP_PROBES = frozenset({"/healthz", "/readyz"})


def http_request(method: str, route: str, status: int, seconds: float, caller: str) -> None:
    """Logs one finished HTTP request: verb, route (the path template), status, duration, caller's subject."""
    level = logging.DEBUG if route in HTTP_PROBES else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "http %s %s %d", method, route, status, extra={
            "protocol": "http", "method": method, "route": route, "status": status,
            "duration_ms": round(seconds * 1000, 3), "caller": caller})
