"""Starting the center for the simulator's own runs, in a process of its own.

- `run`: exactly `make run` (`python -m services.monolith`: the monolith's ports, var/, the demo
  district), for `make demo`;
- `temp`: the monolith on free loopback ports with its data in a temporary directory, for the
  smoke test, the tests and the benchmarks. `python -m simulator.center` is that process: it
  starts the services through `services.monolith.start`, prints one JSON line with the ports it
  got, and stops them on SIGTERM or SIGINT.

The center's resident memory is read from /proc, for the sustained-load benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from simulator.clients import DEFAULT_HTTP, Addresses

ROOT = Path(__file__).resolve().parent.parent
STOP_SECONDS = 60.0
# services.monolith prints this once every service serves and the demo district is loaded.
BANNER = "monolithic mode"


class CenterError(RuntimeError):
    """The center did not start; the message carries the end of its log."""


class Center:
    def __init__(self, mode: str, demo: bool = True, env: dict[str, str] | None = None, start_seconds: float = 300.0):
        if mode not in ("run", "temp"):
            raise ValueError(f"unknown center mode {mode!r}")
        self.mode = mode
        self.demo = demo
        self.env = env or {}
        self.start_seconds = start_seconds
        self.process: subprocess.Popen | None = None
        self.addresses: Addresses | None = None
        self.data_dir: str | None = None
        self._log_path: Path | None = None

    def start(self) -> Addresses:
        env = {**os.environ, "DEMO_DATA": "true" if self.demo else "false", **self.env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
        if self.mode == "run":
            return self._start_as_make_run(env)
        self.data_dir = tempfile.mkdtemp(prefix="simulator-center-")
        self._log_path = Path(self.data_dir) / "center.log"
        env.update(DATA_DIR=self.data_dir, LOG_FORMAT=env.get("LOG_FORMAT", "text"),
                   LOG_LEVEL=env.get("LOG_LEVEL", "WARNING"))
        with open(self._log_path, "w") as log_file:
            self.process = subprocess.Popen([sys.executable, "-m", "simulator.center"], cwd=ROOT, env=env,
                                            stdout=subprocess.PIPE, stderr=log_file, text=True)
        line = self._read_ready_line()
        ports = json.loads(line)
        self.addresses = Addresses({name: f"127.0.0.1:{port}" for name, port in ports["grpc"].items()},
                                   f"http://127.0.0.1:{ports['http']}" if ports.get("http") else DEFAULT_HTTP,
                                   f"http://127.0.0.1:{ports['metrics']}")
        return self.addresses

    def _read_ready_line(self) -> str:
        """The child's one line of ports, within the start timeout (the demo district takes a while)."""
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.start_seconds)
        if not found or not found[0].strip():
            exited = self.process.poll() is not None
            tail = self.log_tail()
            self.stop()
            why = "exited" if exited else f"did not start within {self.start_seconds:.0f} s"
            raise CenterError(f"the center {why}; the end of its log:\n{tail}")
        return found[0]

    def _start_as_make_run(self, env: dict[str, str]) -> Addresses:
        """`python -m services.monolith` with its own ports and var/; its log goes on to this
        terminal, and the run begins once it printed its banner, which it does after loading the
        demo district (its ports open before that)."""
        self.addresses = Addresses.monolith(http=f"http://127.0.0.1:{env.get('HTTP_PORT', '8080')}",
                                            metrics=f"http://127.0.0.1:{env.get('METRICS_PORT', '9090')}")
        taken = [address for address in self.addresses.grpc.values() if _listening(address)]
        if taken:
            raise CenterError(f"something already listens on {', '.join(taken)}: a center is running (play against "
                              "it with --center external, the default) or stop it first")
        self.process = subprocess.Popen([sys.executable, "-m", "services.monolith"], cwd=ROOT, env=env,
                                        stderr=subprocess.PIPE, text=True, errors="replace")
        ready = threading.Event()

        def forward() -> None:
            for line in self.process.stderr:
                sys.stderr.write(line)
                if BANNER in line:
                    ready.set()

        threading.Thread(target=forward, name="center-log", daemon=True).start()
        deadline = time.monotonic() + self.start_seconds
        while not ready.wait(0.2):
            if self.process.poll() is not None:
                raise CenterError(f"the center exited with status {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise CenterError(f"the center did not come up within {self.start_seconds:.0f} s")
        return self.addresses

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def rss_mb(self) -> float | None:
        """Resident memory of the center process, in MiB (Linux /proc)."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except (OSError, TypeError, ValueError):
            return None
        return None

    def log_tail(self, lines: int = 40) -> str:
        if self._log_path is None or not self._log_path.exists():
            return "(the center's log is on the terminal)"
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int | None:
        process, self.process = self.process, None
        code = None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            if process.stdout:
                process.stdout.close()
        if self.data_dir and os.environ.get("SIMULATOR_KEEP_DATA") != "1":
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return code


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, int(port))) == 0


# ---------------------------------------------------------------- the center's own process


def serve() -> None:
    """`python -m simulator.center`: the monolith on free loopback ports until SIGTERM or SIGINT;
    the demo district is loaded unless DEMO_DATA=false."""
    from services import monolith  # what the simulator uses of services: the center and its registry
    from services.common import registry
    from services.common.runner import start_metrics_server

    # The monolith's own configuration (README's variables), read the way `make run` reads it.
    settings = monolith.Settings.from_env()
    names = registry.names()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    metrics = start_metrics_server(0)  # as the monolith's METRICS_PORT, on a free port
    hosted = monolith.start(settings, host="127.0.0.1", ports={**dict.fromkeys(names, 0), "gateway_http": 0})
    ports = {service.runtime.name: service.server.port for service in hosted}
    http = next((getattr(service, "http_port", None) for service in hosted if hasattr(service, "http_port")), None)
    print(json.dumps({"grpc": ports, "http": http, "metrics": metrics, "pid": os.getpid()}), flush=True)
    while not stop.wait(3600):
        pass
    for service in hosted:
        service.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator.center",
                                     description="The center in monolithic mode on free loopback ports "
                                                 "(DATA_DIR and the other variables of README apply).")
    parser.parse_args(argv)
    serve()


if __name__ == "__main__":
    main()

