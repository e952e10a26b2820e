"""`python -m simulator`: the command line, its checks, and a run from start to report."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import signal
import sys
import time
from dataclasses import dataclass

from simulator import discovery
from simulator.actions import CATALOGUE, PRESETS
from simulator.bootstrap import bootstrap
from simulator.center import Center, CenterError
from simulator.clients import DEFAULT_HTTP, DEFAULT_METRICS, GATEWAY_HTTP, SERVICES, Addresses, Clients
from simulator.clock import SimClock, parse_start
from simulator.engine import Engine, RunOptions
from simulator.mix import MixError, parse_mix
from simulator.stats import Recorder, check_report, error_report, table
from simulator.watch import StreamWatcher

log = logging.getLogger("simulator")
MAX_CONCURRENCY = 190  # below the services' MAX_CONCURRENT_RPCS (200): the simulator never causes a refusal
MAX_RATE = 10_000.0

EPILOG = """examples:
  python -m simulator --speed 200                      a day of the center running at make run's ports
  python -m simulator --center run --speed 200         start the center as make run does, then the day
  python -m simulator --center temp --rate 20 --duration 60 --mix all
                                                       the smoke test: a minute of load, every action
  python -m simulator --rate 50 --mix 'complaint.*=3,rapid_test.record=1' --duration 30
  python -m simulator --list-actions                   what --mix can name
exit status: 0 when every request succeeded, 1 when any failed (or the center did not start),
2 for a bad command line."""


@dataclass
class Options:
    center: str
    addresses: Addresses
    demo: bool
    bootstrap_offices: int
    businesses_per_office: int
    settle_timeout: float | None
    timeout: float
    json_path: str | None
    run: RunOptions
    start_seconds: float
    sample_rss: bool = False


def _positive(kind: type, minimum: float, maximum: float | None = None):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not math.isfinite(value) or value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum:g} and {maximum:g}" if maximum is not None else f"at least {minimum:g}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {bound}")
        return value

    return parse


def _port(text: str) -> tuple[str, int]:
    name, sep, port = text.partition("=")
    if not sep or name not in SERVICES:
        raise argparse.ArgumentTypeError(f"{text!r}: expected SERVICE=PORT with SERVICE one of {', '.join(SERVICES)}")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: the port must be a number 1-65535")
    return name, int(port)


def _start(text: str) -> float:
    try:
        return parse_start(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Plays a day of the district through the center's public APIs, or loads it at a target rate "
                    "with a mix of actions; reports throughput, errors and latency per action.")
    where = parser.add_argument_group("the center")
    where.add_argument("--center", choices=("external", "run", "temp"), default="external",
                       help="external: a center already running (default); run: start it as `make run` does and "
                            "stop it at the end; temp: start it on free loopback ports in a temporary directory")
    where.add_argument("--host", default="127.0.0.1", help="host of an external center (default 127.0.0.1)")
    where.add_argument("--port", type=_port, action="append", default=[], metavar="SERVICE=PORT",
                       help="a service's gRPC port when not the monolith's (repeatable)")
    where.add_argument("--http", default=DEFAULT_HTTP, help=f"the gateway's HTTP address (default {DEFAULT_HTTP})")
    where.add_argument("--metrics", default=DEFAULT_METRICS,
                       help=f"the center's /metrics address, its METRICS_PORT (default {DEFAULT_METRICS})")
    where.add_argument("--no-demo", action="store_true", help="start the center without the demo district (run, temp)")
    where.add_argument("--bootstrap-offices", type=_positive(int, 1, 9999), default=0, metavar="N",
                       help="when the center has no office, register N offices with officers, rapid-test readers "
                            "and businesses through its APIs first")
    where.add_argument("--businesses-per-office", type=_positive(int, 0, 100_000), default=24, metavar="N",
                       help="businesses per bootstrapped office (default 24)")
    where.add_argument("--settle-timeout", type=_positive(float, 1), default=None, metavar="SECONDS",
                       help="how long a bootstrapped district's events may take to reach every service "
                            "(default 120 s plus 1 s per office)")
    where.add_argument("--start-timeout", type=_positive(float, 1), default=300.0, metavar="SECONDS",
                       help="how long a started center may take to come up (default 300)")
    day = parser.add_argument_group("a simulated day (without --rate)")
    day.add_argument("--speed", type=_positive(float, 1, 1000), default=None,
                     help="simulated seconds per real second, 1-1000 (default 60)")
    day.add_argument("--start", type=_start, default=None, metavar="HH:MM",
                     help="simulated time of day to begin at (default 07:00)")
    day.add_argument("--skip-nights", action="store_true",
                     help="the simulated clock jumps from 21:00 to 07:00, so a demo never goes quiet")
    day.add_argument("--volume", type=_positive(float, 0.01, 1000), default=None,
                     help="multiplies every arrival rate (default 1: some 400 new items a day for 14 offices)")
    load = parser.add_argument_group("a load (with --rate)")
    load.add_argument("--rate", type=_positive(float, 0.01, MAX_RATE), default=None,
                      help="target requests per second")
    load.add_argument("--mix", default=None,
                      help="action weights, e.g. 'complaint.create=3,task.*=1'; presets: "
                           f"{', '.join(PRESETS)} (default day)")
    load.add_argument("--constant", action="store_true", help="evenly spaced requests instead of Poisson arrivals")
    both = parser.add_argument_group("both")
    both.add_argument("--duration", type=_positive(float, 0.1), default=None, metavar="SECONDS",
                      help="how long to run (a day: until Ctrl-C when unset; a load: default 60)")
    both.add_argument("--concurrency", type=_positive(int, 1, MAX_CONCURRENCY), default=16,
                      help=f"requests in flight at most, 1-{MAX_CONCURRENCY} (default 16)")
    both.add_argument("--timeout", type=_positive(float, 0.1, 600), default=30.0, metavar="SECONDS",
                      help="deadline of each request (default 30)")
    both.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    both.add_argument("--progress", type=_positive(float, 0), default=10.0, metavar="SECONDS",
                      help="a progress line every SECONDS (default 10; 0: none)")
    both.add_argument("--json", dest="json_path", metavar="PATH", help="also write the report as JSON to PATH")
    both.add_argument("--form-rate-per-minute", type=_positive(float, 0.01), default=5.0,
                      help="the gateway's COMPLAINT_FORM_RATE_PER_MINUTE (default 5): forms are sent within it")
    both.add_argument("--form-burst", type=_positive(int, 1), default=3,
                      help="the gateway's COMPLAINT_FORM_BURST (default 3)")
    both.add_argument("--sample-rss", action="store_true",
                      help="record the started center's resident memory every 10 s (run, temp)")
    both.add_argument("--list-actions", action="store_true", help="list the actions and exit")
    both.add_argument("--quiet", action="store_true", help="only the report")
    return parser


def parse_args(argv: list[str] | None = None) -> Options | None:
    """The options, or None after --list-actions; a bad command line exits with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_actions:
        print(list_actions())
        return None
    if args.mix is not None and args.rate is None:
        parser.error("--mix needs --rate: a simulated day has its own mix (use --volume to scale it)")
    if args.constant and args.rate is None:
        parser.error("--constant needs --rate")
    day_options = (args.speed, args.start, args.volume)
    if args.rate is not None and (args.skip_nights or any(v is not None for v in day_options)):
        parser.error("--speed, --start, --skip-nights and --volume shape a simulated day; "
                     "a load (--rate) has no clock")
    if args.center == "external" and (args.no_demo or args.sample_rss):
        parser.error("--no-demo and --sample-rss apply to a center the simulator starts (--center run or temp)")
    if args.center != "external" and (args.port or args.host != "127.0.0.1"):
        parser.error("--port and --host name an external center; with --center run or temp the simulator knows")
    mix = None
    if args.rate is not None:
        try:
            mix = parse_mix(args.mix or "day", CATALOGUE, PRESETS)
        except MixError as error:
            parser.error(str(error))
    seed = args.seed if args.seed is not None else int(time.time())
    start = _start("07:00") if args.start is None else args.start
    run = RunOptions(duration=args.duration if args.duration or args.rate is None else 60.0,
                     concurrency=args.concurrency, seed=seed, progress=0 if args.quiet else args.progress,
                     speed=args.speed or 60.0, start=start, skip_nights=args.skip_nights,
                     volume=args.volume or 1.0,
                     rate=args.rate, mix=mix,
                     poisson=not args.constant, form_per_minute=args.form_rate_per_minute,
                     form_burst=args.form_burst)
    addresses = Addresses.monolith(args.host, dict(args.port), args.http, args.metrics)
    return Options(center=args.center, addresses=addresses,
                   demo=not args.no_demo, bootstrap_offices=args.bootstrap_offices,
                   businesses_per_office=args.businesses_per_office, settle_timeout=args.settle_timeout,
                   timeout=args.timeout, json_path=args.json_path,
                   run=run, start_seconds=args.start_timeout, sample_rss=args.sample_rss)


def list_actions() -> str:
    lines = [f"{'action':28} {'service':20} {'day share':>9}  what", "-" * 100]
    day = PRESETS["day"]
    total = sum(day.values())
    for name, spec in CATALOGUE.items():
        what = spec.summary or f"next step of {spec.consumes}"
        lines.append(f"{name:28} {spec.service:20} {100 * day.get(name, 0) / total:8.2f}%  {what}")
    lines.append(f"\npresets for --mix: {', '.join(PRESETS)}")
    return "\n".join(lines)


async def execute(options: Options) -> int:
    center = None
    if options.center != "external":
        # The gateway started here limits the form as the simulator is told it does.
        env = {"COMPLAINT_FORM_RATE_PER_MINUTE": f"{options.run.form_per_minute:g}",
               "COMPLAINT_FORM_BURST": str(options.run.form_burst)}
        center = Center(options.center, demo=options.demo, env=env, start_seconds=options.start_seconds)
    try:
        if center is not None:
            log.info("starting the center (%s mode)...", options.center)
            try:
                options.addresses = await asyncio.to_thread(center.start)
            except CenterError as error:
                log.error("%s", error)
                return 1
        clients = Clients(options.addresses, options.timeout)
        try:
            return await _simulate(options, clients, center)
        finally:
            await clients.close()
    finally:
        # Also after Ctrl-C while the center was still starting: it never outlives the simulator.
        if center is not None:
            code = center.stop()
            if code not in (0, None, -signal.SIGTERM):
                log.warning("the center exited with status %s", code)


async def _simulate(options: Options, clients: Clients, center: Center | None) -> int:
    present = await clients.probe(force=True)
    if "command_center" not in present:
        log.error("command_center does not answer at %s: start the center (make run) or use --center temp",
                  options.addresses.grpc["command_center"])
        return 1
    district = await discovery.discover(clients)
    bootstrap_seconds = None
    if not district.offices and options.bootstrap_offices:
        started = time.monotonic()
        try:
            await bootstrap(clients, options.bootstrap_offices, options.businesses_per_office,
                            settle=options.settle_timeout)
        except RuntimeError as error:  # the district did not propagate in time: nothing to play on
            log.error("%s", error)
            return 1
        bootstrap_seconds = time.monotonic() - started
        district = await discovery.discover(clients)
    if not district.offices:
        log.error("the center has no office: load the demo district (make run) or pass --bootstrap-offices N")
        return 1
    log.info("district: %s", discovery.describe(district))
    run = options.run
    if run.rate:
        log.info("load: %.1f requests/s for %.0f s, %d actions in the mix, at most %d in flight (seed %d)",
                 run.rate, run.duration, len(run.mix), run.concurrency, run.seed)
    else:
        log.info("a day at %gx from %s%s (seed %d); Ctrl-C stops", run.speed, SimClock.describe(run.start),
                 f" for {run.duration:.0f} s" if run.duration else "", run.seed)
    recorder = Recorder()
    watcher = StreamWatcher(options.addresses.http) if GATEWAY_HTTP in present else None
    if watcher is not None:
        watcher.start()
    engine = Engine(run, clients, district, recorder,
                    rss_probe=center.rss_mb if options.sample_rss and center is not None else None, watcher=watcher)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, engine.stop)
    try:
        await engine.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if watcher is not None:
            watcher.stop()
    return report(options, engine, recorder, {"district": discovery.describe(district),
                                              "offices": len(district.offices), "bootstrap_seconds": bootstrap_seconds})


def report(options: Options, engine: Engine, recorder: Recorder, setup: dict) -> int:
    summary = recorder.summary()
    summary.update(**setup, target_rate=options.run.rate, max_lag_seconds=engine.max_lag, skipped=engine.skipped,
                   idle_slots=engine.idle_slots, unsent=engine.unsent, queued=engine.queues.sizes(),
                   dropped=engine.queues.dropped,
                   rss_mb=engine.rss_samples, seed=options.run.seed,
                   stream_events=dict(engine.watcher.events) if engine.watcher else None,
                   mode="load" if options.run.rate else "day", speed=options.run.speed,
                   simulated=SimClock.describe(engine.clock.now()) if engine.clock else None)
    print(table(summary))
    target = f" (target {options.run.rate:g}/s)" if options.run.rate else ""
    print(f"\n{summary['requests']} requests in {summary['seconds']:.1f} s: {summary['per_second']:.1f}/s{target}, "
          f"{summary['errors']} errors, p50 {summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, "
          f"most behind schedule {engine.max_lag:.2f} s")
    if engine.watcher is not None:
        print(f"the dashboard's live stream delivered {engine.watcher.changes} index changes "
              f"({', '.join(f'{k} {v}' for k, v in sorted(engine.watcher.events.items())) or 'none'})")
    if engine.unsent:
        print(f"behind schedule when the time was up: {engine.unsent} requests of the target rate not sent")
    if engine.skipped:
        print("skipped (nothing sent): " + ", ".join(f"{k} {v}" for k, v in sorted(engine.skipped.items())))
    if engine.rss_samples:
        print("center RSS (MiB) every 10 s: " + " ".join(f"{mb:.0f}" for _, mb in engine.rss_samples))
    if summary["checks"]:
        print("\nchecked by hand:\n" + check_report(summary))
    if summary["errors"]:
        print("\nerrors:\n" + error_report(summary))
    if options.json_path:
        with open(options.json_path, "w", encoding="utf-8") as out:
            json.dump(summary, out, ensure_ascii=False, indent=2, default=str)
    return 1 if summary["errors"] else 0


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    if options is None:
        return
    logging.basicConfig(level=logging.WARNING if options.run.progress == 0 else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s simulator %(message)s", datefmt="%H:%M:%S")
    sys.exit(asyncio.run(execute(options)))
