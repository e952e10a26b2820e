"""The other services' IndicatorSource, called for live scores.

Addresses come from INDICATOR_SOURCES ("command_center=host:port,complaints=host:port,..."),
read and checked when the service starts; unset, they default to the monolithic ports on
localhost. assessment's own indicators are read from its own store, never through a call to itself.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Mapping

import grpc

from services.assessment.domain.history import Value, Values
from services.assessment.domain.scorecards import Fetched, SourceStatus
from services.common.channels import internal_channel
from services.common.config import ConfigError
from services.common.context import request_id_var, traceparent_var
from services.common.sources import parse_sources
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc

SELF = "assessment"
DEFAULT_TIMEOUT_SECONDS = 3.0


def remote_sources(raw: str | None) -> dict[str, str]:
    """INDICATOR_SOURCES (services/common/sources.py) less assessment itself: listing it is allowed,
    since it is a source, but its indicators are read from its own store, never by calling itself."""
    addresses = parse_sources(raw)
    addresses.pop(SELF, None)
    return addresses


def parse_timeout(raw: str | None) -> float:
    try:
        timeout = float(raw) if raw is not None else DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        timeout = math.nan
    if not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"configuration error: INDICATOR_SOURCE_TIMEOUT_SECONDS={raw!r} is invalid; "
                          "expected seconds > 0")
    return timeout


class IndicatorSources:
    """Asks every configured source at once; a source that fails or times out is reported, and
    its indicators are simply absent (scored as missing)."""

    def __init__(self, addresses: Mapping[str, str], timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS):
        self.addresses = dict(addresses)
        self.timeout = timeout_seconds
        self._stubs: dict[str, indicators_pb2_grpc.IndicatorSourceStub] | None = None
        self._lock = threading.Lock()

    def _sources(self) -> dict[str, indicators_pb2_grpc.IndicatorSourceStub]:
        # Made at the first live score, not at build: the nameko worker builds the same runtime in
        # an eventlet-patched process, where no gRPC may run. Channels connect lazily and
        # reconnect by themselves, so a source down at start is not an error either.
        with self._lock:
            if self._stubs is None:
                self._stubs = {name: indicators_pb2_grpc.IndicatorSourceStub(internal_channel(address))
                               for name, address in self.addresses.items()}
            return self._stubs

    def fetch(self, office_ids: list[str] | None, authorization: str) -> Fetched:
        request = indicators_pb2.ListIndicatorsRequest(office_ids=office_ids or [])
        metadata = [("x-request-id", request_id_var.get()), ("traceparent", traceparent_var.get())]
        if authorization:
            metadata.append(("authorization", authorization))
        metadata = [(key, value) for key, value in metadata if value]
        calls = {name: stub.ListIndicators.future(request, timeout=self.timeout, metadata=metadata)
                 for name, stub in self._sources().items()}
        values: Values = {}
        statuses = []
        for name, call in calls.items():
            try:
                response = call.result()
            except grpc.RpcError as error:
                statuses.append(SourceStatus(name, False, f"{error.code().name}: {error.details()}"))
                continue
            statuses.append(SourceStatus(name, True))
            for reading in response.indicators:
                if reading.key.startswith(name + "."):  # a source speaks for its own indicators only
                    as_of = reading.as_of.ToDatetime(tzinfo=dt.UTC) if reading.HasField("as_of") else None
                    values.setdefault(reading.office_id, {})[reading.key] = Value(
                        reading.numerator, reading.denominator, as_of)
        return Fetched(values, statuses)
