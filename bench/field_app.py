"""The field app (移动执法, /field/) as an inspector's phone first meets it: Lighthouse (npm, pinned in
bench/lighthouse/package-lock.json) in Debian's Chromium, with its default mobile form factor and
simulated throttling (a mid-range phone on a slow 4G link, its CPU four times slower than this
machine's), categories performance and accessibility, and the app shell's compressed size.

The center is the monolith on free ports with its data in a temporary directory and the demo
district loaded (simulator.center, `temp` mode; AUTH_MODE=off, so the app opens on the development
officers' picker). Lighthouse runs RUNS times (scores move between runs on shared cores) and the run
of the median performance score is reported, with every run's scores beside it.

    python -m bench.field_app [--runs 3] [--url http://127.0.0.1:8080/field/]

--url audits a center already running instead of starting one. Needs npm (bench/lighthouse is
installed with `npm ci` on first use) and /usr/bin/chromium (CHROME_PATH to use another).
Writes bench/results/<date>-field-app.md and .json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import ROOT, machine, number, write_results

LIGHTHOUSE_DIR = ROOT / "bench" / "lighthouse"
LIGHTHOUSE_CLI = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
SHELL_DIR = ROOT / "services" / "gateway" / "static" / "field"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
# Chromium in a container: no sandbox (no user namespaces), no GPU.
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"
CATEGORIES = ("performance", "accessibility")
METRICS = {"first-contentful-paint": "First Contentful Paint", "largest-contentful-paint": "Largest Contentful Paint",
           "total-blocking-time": "Total Blocking Time", "cumulative-layout-shift": "Cumulative Layout Shift",
           "speed-index": "Speed Index", "interactive": "Time to Interactive"}
# Audits that carry no pass or fail.
UNSCORED_MODES = {"informative", "notApplicable", "manual", "error"}
RUN_SECONDS = 180


class BenchError(RuntimeError):
    """A tool the benchmark needs is missing or failed; the message says which and how to get it."""


# ---------------------------------------------------------------- the app shell

def is_shell_file(path: Path) -> bool:
    """Whether a file under static/field is part of the shell a first visit loads and the service
    worker caches: the page, scripts, styles and the manifest (icons are images, compressed already)."""
    return path.name == "index.html" or path.suffix in (".js", ".css", ".webmanifest")


def shell_sizes(directory: Path = SHELL_DIR) -> list[dict]:
    """Each shell file with its size and its size gzip-compressed (level 9, as a server or a CDN
    would send it), largest compressed first."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and is_shell_file(p))
    sizes = [{"file": str(p.relative_to(directory)), "bytes": p.stat().st_size,
              "gzip_bytes": len(gzip.compress(p.read_bytes(), compresslevel=9, mtime=0))} for p in files]
    return sorted(sizes, key=lambda s: -s["gzip_bytes"])


# ---------------------------------------------------------------- Lighthouse

def ensure_lighthouse() -> Path:
    """Lighthouse's CLI, installed from the lock file when missing or older than the lock."""
    installed = LIGHTHOUSE_DIR / "node_modules" / ".package-lock.json"
    lock = LIGHTHOUSE_DIR / "package-lock.json"
    if not LIGHTHOUSE_CLI.exists() or not installed.exists() or lock.stat().st_mtime > installed.stat().st_mtime:
        if shutil.which("npm") is None:
            raise BenchError("npm is required to install Lighthouse (apt-get install npm)")
        subprocess.run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=LIGHTHOUSE_DIR, check=True)
    if not Path(CHROME).exists():
        raise BenchError(f"no Chromium at {CHROME} (apt-get install chromium, or set CHROME_PATH)")
    return LIGHTHOUSE_CLI


def audit(cli: Path, url: str, out: Path) -> dict:
    """One Lighthouse run of `url` with its defaults (mobile, simulated throttling); its JSON report."""
    command = ["node", str(cli), url, "--output=json", f"--output-path={out}", "--quiet",
               f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}"]
    run = subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROME}, capture_output=True, text=True,
                         timeout=RUN_SECONDS, check=False)
    if run.returncode != 0 or not out.exists():
        raise BenchError(f"lighthouse exited with status {run.returncode}: {run.stderr[-1500:]}")
    report = json.loads(out.read_text(encoding="utf-8"))
    if report.get("runtimeError"):
        raise BenchError(f"lighthouse could not load {url}: {report['runtimeError'].get('message')}")
    return report


def scores(report: dict) -> dict[str, float | None]:
    """Category -> score out of 100 (None when Lighthouse could not score it)."""
    return {c: None if report["categories"][c]["score"] is None else round(report["categories"][c]["score"] * 100)
            for c in CATEGORIES}


def metrics(report: dict) -> dict[str, dict]:
    """The key metrics of one run: value (ms, or unitless for the layout shift), display and score."""
    audits = report["audits"]
    return {key: {"title": title, "value": audits[key].get("numericValue"),
                  "display": audits[key].get("displayValue", ""), "score": audits[key].get("score")}
            for key, title in METRICS.items() if key in audits}


def problems(report: dict) -> dict[str, list[dict]]:
    """Per category, every audit it counts that did not pass (score below 0.9), with what Lighthouse
    shows for it and, for accessibility, the first elements it names."""
    found: dict[str, list[dict]] = {}
    for category in CATEGORIES:
        rows = []
        for ref in report["categories"][category]["auditRefs"]:
            item = report["audits"][ref["id"]]
            if item.get("scoreDisplayMode") in UNSCORED_MODES or item.get("score") is None or item["score"] >= 0.9:
                continue
            if ref["id"] in METRICS:
                continue  # the metrics have a table of their own
            nodes = [i["node"].get("snippet") or i["node"].get("selector") for i in
                     (item.get("details") or {}).get("items", []) if isinstance(i.get("node"), dict)]
            rows.append({"id": ref["id"], "title": item["title"], "score": item["score"],
                         "display": item.get("displayValue", ""), "weight": ref.get("weight", 0),
                         "elements": nodes[:3]})
        found[category] = sorted(rows, key=lambda r: (-r["weight"], r["score"]))
    return found


def median_run(reports: list[dict]) -> dict:
    """The run whose performance score is the median (the lower middle for an even count)."""
    ordered = sorted(reports, key=lambda r: r["categories"]["performance"]["score"] or 0)
    return ordered[(len(ordered) - 1) // 2]


# ---------------------------------------------------------------- the report

def render(url: str, runs: list[dict], chosen: dict, shell: list[dict], started: str, command: str,
           center: str) -> str:
    """The results page: scores, the median run's metrics and failing audits, the shell's size."""
    run_scores = [scores(r) for r in runs]
    chosen_scores = scores(chosen)
    lines = [
        "# The field app (移动执法) on a mid-range phone: Lighthouse and the shell's size", "",
        f"Command: `{command}`; {started} UTC.",
        f"Machine: {machine()}; Lighthouse {chosen['lighthouseVersion']} in {chosen['environment']['hostUserAgent']}.",
        "",
        f"Page: {url} {center}. Lighthouse's defaults: mobile form factor "
        f"({chosen['configSettings']['screenEmulation']['width']}×{chosen['configSettings']['screenEmulation']['height']}"
        f", DPR {chosen['configSettings']['screenEmulation']['deviceScaleFactor']}), throttling "
        f"`{chosen['configSettings']['throttlingMethod']}` (RTT "
        f"{chosen['configSettings']['throttling']['rttMs']:.0f} ms, "
        f"{chosen['configSettings']['throttling']['throughputKbps'] / 1024:.1f} Mbit/s, CPU slowed "
        f"{chosen['configSettings']['throttling']['cpuSlowdownMultiplier']:g}×). "
        f"{len(runs)} run{'s' if len(runs) != 1 else ''}; the run of the median performance score is reported.", "",
        "## Scores", "",
        "| category | median run | every run |", "|---|---|---|",
    ]
    for category in CATEGORIES:
        every = ", ".join("—" if s[category] is None else str(s[category]) for s in run_scores)
        lines.append(f"| {category} | {chosen_scores[category]} | {every} |")
    lines += ["", "## Key metrics (median run)", "", "| metric | value | Lighthouse's score (0–1) | every run |",
              "|---|---|---|---|"]
    all_metrics = [metrics(r) for r in runs]
    for key, figure in metrics(chosen).items():
        every = ", ".join(m[key]["display"] for m in all_metrics if key in m)
        lines.append(f"| {figure['title']} | {figure['display']} | {number(figure['score'], 2)} | {every} |")
    for category, rows in problems(chosen).items():
        lines += ["", f"## What Lighthouse names: {category} (median run)", ""]
        if not rows:
            lines.append("Every audit of the category passed.")
            continue
        lines += ["| audit | score | shows | elements |", "|---|---|---|---|"]
        for row in rows:
            elements = "; ".join(f"`{e.strip()[:80]}`" for e in row["elements"] if e)
            lines.append(f"| {row['title']} (`{row['id']}`) | {number(row['score'], 2)} | {row['display']} | "
                         f"{elements.replace('|', '∣')} |")
    total_raw = sum(s["bytes"] for s in shell)
    total_gzip = sum(s["gzip_bytes"] for s in shell)
    lines += ["", "## The app shell's size", "",
              "services/gateway/static/field: index.html, the scripts, the styles and the manifest (the service "
              "worker sw.js among the scripts; icons left out), each gzip-compressed at level 9 as a server would "
              "send it. What a first visit downloads before the app can work offline.", "",
              "| file | bytes | gzip bytes |", "|---|---|---|"]
    lines += [f"| {s['file']} | {s['bytes']:,} | {s['gzip_bytes']:,} |" for s in shell]
    lines += [f"| **total ({len(shell)} files)** | **{total_raw:,}** | **{total_gzip:,}** "
              f"({total_gzip / 1024:.1f} KiB) |", ""]
    return "\n".join(lines)


def measure(url: str, runs: int) -> tuple[list[dict], dict]:
    """RUNS Lighthouse runs of `url`; every report and the median one."""
    cli = ensure_lighthouse()
    reports = []
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        for index in range(runs):
            print(f"lighthouse run {index + 1} of {runs}...", flush=True)
            reports.append(audit(cli, url, Path(tmp) / f"run-{index}.json"))
    return reports, median_run(reports)


def main(argv: list[str] | None = None) -> None:
    """Starts the center (unless --url), audits /field/ and records the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.field_app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs (default 3; the median is reported)")
    parser.add_argument("--url", help="audit this address of a running center instead of starting one")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    command = ("python -m bench.field_app" + (f" --runs {args.runs}" if args.runs != 3 else "")
               + (f" --url {args.url}" if args.url else ""))
    center = None
    url = args.url
    try:
        ensure_lighthouse()
        if url is None:
            from simulator.center import Center

            print("starting the center with the demo district...", flush=True)
            center = Center("temp", demo=True)
            url = center.start().http.rstrip("/") + "/field/"
        reports, chosen = measure(url, args.runs)
    except BenchError as error:
        sys.exit(f"bench.field_app: {error}")
    finally:
        if center is not None:
            center.stop()
    shell = shell_sizes()
    where = ("on the monolith with the demo district (simulator.center, temp mode; AUTH_MODE=off, so the first "
             "screen is the development officers' picker)" if args.url is None else "(a center already running)")
    markdown = render(url, reports, chosen, shell, started, command, where)
    data = {"machine": machine(), "url": url, "runs": [{"scores": scores(r), "metrics": metrics(r)} for r in reports],
            "median": {"scores": scores(chosen), "metrics": metrics(chosen), "problems": problems(chosen)},
            "shell": shell, "shell_gzip_bytes": sum(s["gzip_bytes"] for s in shell),
            "performance_scores": [scores(r)["performance"] for r in reports],
            "performance_score_spread": (statistics.pstdev([scores(r)["performance"] or 0 for r in reports])
                                         if reports else None)}
    path = write_results("field-app", markdown, data)
    print(markdown)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
