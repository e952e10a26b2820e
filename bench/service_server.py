"""One service hosted with the full bootstrap (interceptor, metrics, health, relay) on SQLite, as in
monolithic mode, for the gRPC benchmarks. Usage: service_server.py <service> <port> <data_dir>"""

from __future__ import annotations

import importlib
import sys

from services.common import migrate
from services.common.bus import InProcessBus
from services.common.config import Settings
from services.common.db import Store, sqlite_url
from services.common.grpc_server import wait_for_termination_signal
from services.common.hosting import HostedService


def main(service: str, port: int, data_dir: str) -> None:
    settings = Settings.from_env({"DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"})
    module = importlib.import_module(f"services.{service}.service")
    store = Store(sqlite_url(data_dir, service))
    runtime = module.build(settings, store)
    migrate.upgrade(service, runtime.migrations_dir, store.url)
    bus = InProcessBus()
    bus.subscribe(runtime.consumer(), runtime.subscriptions)
    hosted = HostedService(runtime, settings, bus, port=port, host="127.0.0.1", run_timers=False)
    hosted.start()
    wait_for_termination_signal()
    hosted.stop(1)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
