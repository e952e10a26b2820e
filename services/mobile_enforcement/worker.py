"""mobile_enforcement's nameko worker (microservices mode): `python -m services.mobile_enforcement worker`.

Its entrypoints are generated from handlers.py, so the worker and the monolith host the same
subscriptions and timers. Import only in an eventlet-patched process.
"""

from services.common.config import Settings
from services.common.nameko_worker import run_worker
from services.common.runtime import ServiceRuntime


def run(runtime: ServiceRuntime, settings: Settings) -> None:
    run_worker(runtime, settings.amqp_uri, settings.sweep_interval_seconds)
