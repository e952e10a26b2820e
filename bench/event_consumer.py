"""A nameko worker consuming command_center's OfficeRegistered through the real worker path
(generated entrypoint, eventlet tpool, Consumer with inbox on SQLite) and recording each delay.
Usage: event_consumer.py <amqp_uri> <sqlite_path>   (SIGTERM to stop)"""

import eventlet

eventlet.monkey_patch(thread=False)

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.latency_models import AppliedVersion, Base, DeadLetter, Inbox, Outbox, record_delay  # noqa: E402
from services.common.consumer import Subscription  # noqa: E402
from services.common.db import Store  # noqa: E402
from services.common.nameko_worker import run_worker  # noqa: E402
from services.common.runtime import ServiceRuntime  # noqa: E402
from supervision.command_center.v1.events_pb2 import OfficeRegistered  # noqa: E402


def main(amqp_uri: str, path: str) -> None:
    store = Store(f"sqlite:///{path}")
    Base.metadata.create_all(store.engine)
    runtime = ServiceRuntime(
        name="bench_consumer", store=store, outbox_model=Outbox, inbox_model=Inbox, version_model=AppliedVersion,
        migrations_dir=Path("."), grpc_registrations=list, grpc_service_names=[],
        subscriptions=[Subscription("command_center", OfficeRegistered, record_delay)], dead_letter_model=DeadLetter)
    run_worker(runtime, amqp_uri, 3600)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
