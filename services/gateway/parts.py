"""What the gateway holds in memory beside its store: the live index's parts, built by service.py and
started by services.gateway.hosting.GatewayHost in every process that serves."""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.config import GatewayConfig
from services.gateway.domain.monitor import Monitor
from services.gateway.feeder import Feeder
from services.gateway.recorder import Recorder
from services.gateway.upstream import Upstream


@dataclass
class GatewayParts:
    """The live index (in the monitor), the sources it asks, and the threads that keep it current."""

    config: GatewayConfig
    monitor: Monitor
    upstream: Upstream
    feeder: Feeder
    recorder: Recorder
