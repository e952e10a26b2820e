"""Alert rules as the cluster gets them: runbook links that open from Alertmanager, the rules the
repository tests, and a vanished-target term for every service the overlay deploys."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "deploy" / "prometheus" / "rules"
OPERATIONS = ROOT / "docs" / "operations.md"
# The rule files keep this repository's own link; the overlay's runbook-links ConfigMap replaces it.
RELATIVE_RUNBOOK = "docs/operations.md"
# absent(up{role="worker",service="complaints"}), in either label order.
_ABSENT_UP = re.compile(r'absent\(up\{(?=[^}]*role="(\w+)")(?=[^}]*service="(\w+)")[^}]*\}\)')


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading (lower case, punctuation dropped, spaces to hyphens)."""
    text = heading.strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def heading_anchors(markdown: str) -> dict[str, str]:
    """Every heading's anchor -> its text, with GitHub's -1, -2 suffixes for repeated headings."""
    anchors: dict[str, str] = {}
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if fenced or not re.match(r"#{1,6} ", line):
            continue
        text = line.lstrip("#").strip()
        anchor, n = github_anchor(text), 0
        while (anchor if n == 0 else f"{anchor}-{n}") in anchors:
            n += 1
        anchors[anchor if n == 0 else f"{anchor}-{n}"] = text
    return anchors


def repository_groups() -> list[dict]:
    """The rule groups of deploy/prometheus/rules, as promtool tests them."""
    groups: list[dict] = []
    for path in sorted(RULES_DIR.glob("*.yaml")):
        groups += yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return groups


def check_alerts(overlay: str, docs: list[dict], operations: str | None = None,
                 groups: list[dict] | None = None) -> list[str]:
    """Absolute https runbook links to each alert's own heading, the repository's rules, every service watched."""
    operations = OPERATIONS.read_text(encoding="utf-8") if operations is None else operations
    groups = repository_groups() if groups is None else groups
    rules = [d for d in docs if d["kind"] == "PrometheusRule"]
    if not rules:
        return [f"{overlay}: no PrometheusRule (the monitoring component)"]
    anchors = heading_anchors(operations)
    problems = []
    for rule in rules:
        where = f"{overlay}: PrometheusRule {rule['metadata']['name']}"
        for group in rule["spec"]["groups"]:
            for entry in group["rules"]:
                if "alert" in entry:
                    problems += _runbook_link(where, entry, anchors)
        if _without_bases(rule["spec"]["groups"]) != _without_bases(groups):
            problems.append(f"{where}: differs from deploy/prometheus/rules (beyond the runbook base URL); "
                            "run .venv/bin/python tools/k8s_check.py --write-rules")
        problems += _vanished_targets(where, rule["spec"]["groups"], docs)
    return problems


def _runbook_link(where: str, alert: dict, anchors: dict[str, str]) -> list[str]:
    name = alert["alert"]
    url = (alert.get("annotations") or {}).get("runbook_url", "")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        return [f"{where}: alert {name} has runbook_url {url!r}; Alertmanager needs an absolute https URL "
                "(set RUNBOOK_BASE_URL in the overlay's runbook-links ConfigMap)"]
    if parts.fragment not in anchors:
        return [f"{where}: alert {name}'s runbook_url anchor #{parts.fragment} is no heading of docs/operations.md"]
    if anchors[parts.fragment] != name:
        return [f"{where}: alert {name}'s runbook_url opens '{anchors[parts.fragment]}', not '### {name}'"]
    return []


def _without_bases(groups: list[dict]) -> list[dict]:
    """The groups with each runbook_url cut to its anchor: what the overlay may change."""
    def strip(entry: dict) -> dict:
        annotations = entry.get("annotations")
        if not annotations or "runbook_url" not in annotations:
            return entry
        anchor = annotations["runbook_url"].partition("#")[2]
        return {**entry, "annotations": {**annotations, "runbook_url": f"#{anchor}"}}

    return [{**g, "rules": [strip(r) for r in g["rules"]]} for g in groups]


def _vanished_targets(where: str, groups: list[dict], docs: list[dict]) -> list[str]:
    """absent(up{role, service}) terms name exactly the services deployed in that role."""
    # A service missing from the list would vanish without a page; one not deployed would page for ever.
    deployed: dict[str, set[str]] = {}
    for d in docs:
        labels = d["metadata"].get("labels", {})
        if d["kind"] == "Deployment" and labels.get("app.kubernetes.io/component") in ("api", "worker"):
            deployed.setdefault(labels["app.kubernetes.io/component"], set()).add(labels["app.kubernetes.io/name"])
    problems = []
    for group in groups:
        for entry in group["rules"]:
            terms = _ABSENT_UP.findall(entry.get("expr", ""))
            if "alert" not in entry or not terms:
                continue
            for role in sorted({r for r, _ in terms}):
                named = {service for r, service in terms if r == role}
                missing, extra = deployed.get(role, set()) - named, named - deployed.get(role, set())
                if missing:
                    problems.append(f"{where}: alert {entry['alert']} has no absent(up{{role=\"{role}\"}}) term for "
                                    f"{', '.join(sorted(missing))}")
                if extra:
                    problems.append(f"{where}: alert {entry['alert']} watches {', '.join(sorted(extra))}, which the "
                                    f"overlay does not deploy as {role}: it would page for ever")
    return problems
