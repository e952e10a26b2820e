"""Where the services are, how a call carries the operator's token, and what a failed call says.

Addresses: each service at the host given by --host (SUPERVISION_HOST, default localhost) on its
monolithic port, unless --address SERVICE=HOST:PORT (or SUPERVISION_ADDRESSES, the same pairs
joined by commas) names another place: in the microservices mode every service has its own.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.common import registry

# Every service's gRPC port in monolithic mode (services.common.registry), in start order.
MONOLITH_PORTS = {entry.name: entry.monolith_port for entry in registry.SERVICES}

_ADDRESS = re.compile(r"^(?P<service>[a-z_]+)=(?P<target>\S+:\d{1,5})$")


class UsageError(Exception):
    """A mistake in the command line or its environment: exit status 2."""


class CommandFailed(Exception):
    """The command ran but did not succeed (a broken trail, an unreadable store): exit status 1."""


def parse_addresses(pairs: Iterable[str]) -> dict[str, str]:
    """`service=host:port` pairs into a mapping; an unknown service or a malformed pair is a UsageError."""
    addresses = {}
    for pair in pairs:
        match = _ADDRESS.match(pair.strip())
        if match is None:
            raise UsageError(f"地址应为 SERVICE=HOST:PORT · an address is SERVICE=HOST:PORT, got {pair!r}")
        service = match["service"]
        if service not in MONOLITH_PORTS:
            raise UsageError(f"未知服务 · unknown service {service!r}; one of: {', '.join(MONOLITH_PORTS)}")
        addresses[service] = match["target"]
    return addresses


@dataclass
class Connection:
    """The operator's session with a center: addresses, token, deadline; channels opened on demand."""

    host: str = "localhost"
    addresses: dict[str, str] = field(default_factory=dict)
    token: str = ""
    timeout_seconds: float = 30.0
    _channels: dict[str, grpc.Channel] = field(default_factory=dict)

    @classmethod
    def from_options(cls, host: str | None, address_flags: list[str], token: str | None,
                     timeout_seconds: float, env: dict[str, str] | None = None) -> Connection:
        """Flags first, then SUPERVISION_HOST / SUPERVISION_ADDRESSES / SUPERVISION_TOKEN."""
        env = os.environ if env is None else env
        from_env = [pair for pair in env.get("SUPERVISION_ADDRESSES", "").split(",") if pair.strip()]
        addresses = {**parse_addresses(from_env), **parse_addresses(address_flags)}
        return cls(host=host or env.get("SUPERVISION_HOST") or "localhost", addresses=addresses,
                   token=(token if token is not None else env.get("SUPERVISION_TOKEN", "")).strip(),
                   timeout_seconds=timeout_seconds)

    def address(self, service: str) -> str:
        """Where `service` answers."""
        return self.addresses.get(service) or f"{self.host}:{MONOLITH_PORTS[service]}"

    def channel(self, service: str) -> grpc.Channel:
        """One channel per service for the whole command."""
        if service not in self._channels:
            self._channels[service] = grpc.insecure_channel(self.address(service))
        return self._channels[service]

    def call(self, service: str, method: Callable, request):
        """Calls a unary method with the token and the deadline; a failure raises CallFailed."""
        metadata = [("authorization", f"Bearer {self.token}")] if self.token else []
        try:
            return method(request, metadata=metadata, timeout=self.timeout_seconds)
        except grpc.RpcError as error:
            raise CallFailed.of(service, self.address(service), error) from None

    def close(self) -> None:
        """Closes every channel opened."""
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()


@dataclass(eq=False)  # an exception stays hashable by identity
class CallFailed(Exception):
    """A gRPC call that ended with a status other than OK, with what the server said about it."""

    service: str
    address: str
    code: str
    message: str
    field_violations: list[tuple[str, str]]
    request_id: str = ""

    @classmethod
    def of(cls, service: str, address: str, error: grpc.RpcError) -> CallFailed:
        """Reads the status code, message, google.rpc.BadRequest field violations and x-request-id."""
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = error.details() if hasattr(error, "details") else str(error)
        violations: list[tuple[str, str]] = []
        request_id = ""
        try:
            status = rpc_status.from_call(error)
        except ValueError:  # the trailing status does not match code and message: show what we have
            status = None
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad_request = error_details_pb2.BadRequest()
                    detail.Unpack(bad_request)
                    violations += [(v.field, v.description) for v in bad_request.field_violations]
        for key, value in (error.trailing_metadata() or ()) if hasattr(error, "trailing_metadata") else ():
            if key == "x-request-id":
                request_id = value
        return cls(service, address, code.name if code else "UNKNOWN", message or "", violations, request_id)

    def as_json(self) -> dict:
        """The error as a JSON object, in the gateway's error shape."""
        error = {"code": self.code, "message": self.message, "service": self.service, "address": self.address,
                 "field_violations": [{"field": f, "description": d} for f, d in self.field_violations]}
        if self.request_id:
            error["request_id"] = self.request_id
        return {"error": error}

    def as_text(self) -> str:
        """The error for a person: the status, the message, each field violation on its own line."""
        lines = [f"错误 error: {self.service} ({self.address}): {self.code}: {self.message}"]
        if self.code == "UNAVAILABLE":
            lines.append("  无法连接服务，请检查地址和服务是否在运行 · cannot reach the service: is it running at "
                         "that address? (--host, --address, SUPERVISION_ADDRESSES)")
        if self.code == "UNAUTHENTICATED":
            lines.append("  需要有效令牌 · a valid token is needed: --token or SUPERVISION_TOKEN")
        lines += [f"  {field}: {description}" for field, description in self.field_violations]
        if self.request_id:
            lines.append(f"  request id: {self.request_id}")
        return "\n".join(lines)


def new_request_id() -> str:
    """A fresh request id for a create: a retry of the same command with --request-id returns the first result."""
    return str(uuid.uuid4())


def list_all(connection: Connection, service: str, method: Callable, make_request: Callable[..., object],
             items_field: str, *, limit: int | None = None, page_size: int = 200) -> list:
    """Every item of a List method, page by page (at most `limit`); make_request(page_size, page_token)
    builds each page's request with the same filter, as a page token requires."""
    items: list = []
    token = ""
    while True:
        wanted = page_size if limit is None else min(page_size, limit - len(items))
        response = connection.call(service, method, make_request(page_size=wanted, page_token=token))
        items.extend(getattr(response, items_field))
        token = response.next_page_token
        if not token or (limit is not None and len(items) >= limit):
            return items if limit is None else items[:limit]


def quoted(value: str) -> str:
    """A filter value in double quotes, with quotes and backslashes escaped as the filters read them."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def join_filter(terms: list[str], raw: str | None) -> str:
    """Filter terms from flags and a --filter given as is, joined by AND."""
    return " AND ".join([*terms, *([raw.strip()] if raw and raw.strip() else [])])
