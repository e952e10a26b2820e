"""The gateway's nameko worker (microservices mode): `python -m services.gateway worker`.

The live index lives in the API process, which consumes the events that move it through its own
broadcast queue (services/gateway/listener.py): that is the process that serves HTTP and gRPC, and
gRPC never runs in this eventlet-patched one. The worker keeps what is shared by every replica:
it consumes assessment's SchemeUpdated as a broadcast subscriber and keeps each version in the
gateway's store (a replica starting while assessment is down scores with it), and it runs the
history retention timer once for all replicas.
"""

from dataclasses import replace

from services.common.config import Settings
from services.common.nameko_worker import run_worker
from services.common.runtime import ServiceRuntime

SHARED_EVENTS = {("assessment", "SchemeUpdated")}


def run(runtime: ServiceRuntime, settings: Settings) -> None:
    shared = [s for s in runtime.subscriptions if (s.source, s.event_type) in SHARED_EVENTS]
    run_worker(replace(runtime, subscriptions=shared), settings.amqp_uri, settings.sweep_interval_seconds)
