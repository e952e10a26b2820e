"""`python -m tests.stalling_worker <service>`: the service's real worker plus one test-only handler
that blocks the eventlet hub, as a handler calling a blocking library without tpool would.

The handler consumes "BlockHub" events of the made-up source "stall_test" (in the worker's broker
namespace) and sleeps with the unpatched time.sleep: no other greenthread of the worker (the queue
consumer, the timers) runs until it returns, while the metrics server's own thread keeps answering.
"""

import sys

import eventlet

eventlet.monkey_patch(thread=False)

import importlib  # noqa: E402 - after the patch, as every worker entry point

from services.common import nameko_worker, runner  # noqa: E402

STALL_SOURCE, STALL_EVENT = "stall_test", "BlockHub"
BLOCK_SECONDS = 60.0
_worker_class = nameko_worker.worker_class


def _block_the_hub(self, payload):
    eventlet.patcher.original("time").sleep(BLOCK_SECONDS)


def _with_blocking_handler(*args, **kwargs) -> type:
    service_class = _worker_class(*args, **kwargs)
    # nameko finds entrypoints on the class when the container is built, after this.
    service_class.on_stall_test_BlockHub = nameko_worker.NamespacedEventHandler.decorator(
        STALL_SOURCE, STALL_EVENT, requeue_on_error=True)(_block_the_hub)
    return service_class


if __name__ == "__main__":
    service = sys.argv[1]
    nameko_worker.worker_class = _with_blocking_handler
    runner.main(service, importlib.import_module(f"services.{service}.service").build, ["worker"])
