"""The second peer every figure is compared with: a nameko RPC echo over RabbitMQ, the way the
services' workers talk (nameko on eventlet), with nothing behind it.

Three processes, none of them the caller's: the service (`service`: an @rpc echo method) and the
client (`client`: greenthreads calling it through ClusterRpcProxy) are eventlet-patched, so they
run as `python -m bench.nameko_echo service|client ...`; `measure()` starts both from the
benchmark process, which never imports eventlet (gRPC must not run patched).

Usage: python -m bench.nameko_echo service <amqp_uri>
       python -m bench.nameko_echo client <amqp_uri> <seconds> <concurrency> <warmup>   (prints JSON)
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in ("service", "client"):
    import eventlet

    eventlet.monkey_patch()

import json
import os
import subprocess
import time

SERVICE = "bench_echo"
QUEUE = f"rpc-{SERVICE}"
PAYLOAD = "MH01"
READY_SECONDS = 30.0


def serve(amqp_uri: str) -> None:
    import signal

    import eventlet
    from nameko.rpc import rpc
    from nameko.runners import ServiceRunner

    class Echo:
        name = SERVICE

        @rpc
        def echo(self, payload):
            return payload

    runner = ServiceRunner({"AMQP_URI": amqp_uri})
    runner.add_service(Echo)
    runner.start()
    # A signal handler only sets a flag; the main greenthread polls it and stops the runner (a
    # greenthread spawned from a handler may wait long for the hub, docs/architecture.md).
    flag = {"stop": False}
    signal.signal(signal.SIGTERM, lambda *_: flag.update(stop=True))
    while not flag["stop"]:
        eventlet.sleep(0.2)
    runner.stop()


def client(amqp_uri: str, seconds: float, concurrency: int, warmup: float) -> dict:
    """`concurrency` greenthreads, each with its own proxy, calling echo in a loop."""
    import eventlet
    from nameko.standalone.rpc import ClusterRpcProxy

    latencies: list[float] = []
    errors = 0
    measuring = False
    stop_at = time.perf_counter() + warmup + seconds

    def caller() -> None:
        nonlocal errors
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as cluster:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                try:
                    answer = cluster.bench_echo.echo(PAYLOAD)
                except Exception:  # noqa: BLE001 - counted: a peer's failure is a figure too
                    if measuring:
                        errors += 1
                    continue
                if measuring and answer == PAYLOAD:
                    latencies.append((time.perf_counter() - started) * 1000)

    pool = eventlet.GreenPool(concurrency)
    threads = [pool.spawn(caller) for _ in range(concurrency)]
    eventlet.sleep(warmup)
    measuring = True
    began = time.perf_counter()
    for thread in threads:
        thread.wait()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)

    def pct(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")

    return {"requests": len(latencies), "errors": errors, "seconds": elapsed,
            "throughput": len(latencies) / elapsed, "p50_ms": pct(0.5), "p99_ms": pct(0.99)}


def measure(amqp_uri: str, seconds: float = 8.0, concurrency: int = 16, warmup: float = 1.5) -> dict:
    """Starts the echo service and the client in their own processes; the client's figures."""
    from kombu import Connection

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    service = subprocess.Popen([sys.executable, "-m", "bench.nameko_echo", "service", amqp_uri], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + READY_SECONDS
        with Connection(amqp_uri) as connection:
            while True:
                try:
                    connection.default_channel.queue_declare(QUEUE, passive=True)
                    break
                except Exception:  # noqa: BLE001 - the service has not declared its queue yet
                    connection.close()
                    if time.monotonic() > deadline or service.poll() is not None:
                        raise RuntimeError(f"the nameko echo service did not start: {_tail(service)}") from None
                    time.sleep(0.2)
        run = subprocess.run([sys.executable, "-m", "bench.nameko_echo", "client", amqp_uri, str(seconds),
                              str(concurrency), str(warmup)], env=env, capture_output=True, text=True,
                             timeout=seconds + warmup + 120)
        if run.returncode != 0:
            raise RuntimeError(f"the nameko echo client failed: {run.stderr[-2000:]}")
        return json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        service.terminate()
        try:
            service.wait(20)
        except subprocess.TimeoutExpired:
            service.kill()


def _tail(process: subprocess.Popen) -> str:
    if process.poll() is None:
        return "(still running)"
    return (process.stderr.read() or "")[-2000:]


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "measure"
    if command == "service":
        serve(sys.argv[2])
    elif command == "client":
        print(json.dumps(client(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))), flush=True)
    else:
        print(json.dumps(measure(os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))))
