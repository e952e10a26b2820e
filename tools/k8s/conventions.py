"""Conventions of every rendered object: the release labels, images pinned for production, and the
oldest supported Kubernetes version stated in docs/operations.md as tools/k8s_check.py checks it."""

from __future__ import annotations

import re
from pathlib import Path

from tools.k8s.manifests import pod_specs

VERSION, INSTANCE = "app.kubernetes.io/version", "app.kubernetes.io/instance"
# The overlay for development clusters runs images built and loaded locally.
DEVELOPMENT_OVERLAYS = frozenset({"dev"})
OUR_IMAGE = "supervision-cloud"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# The sentence of docs/operations.md the check reads; the version must be OLDEST_KUBERNETES's minor.
SUPPORTED_SENTENCE = re.compile(r"The oldest supported Kubernetes version is (\d+\.\d+)\.")


def split_image(image: str) -> tuple[str, str, str]:
    """(repository, tag, digest) of an image reference; tag and digest may be empty."""
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    repository, tag = (rest[:colon], rest[colon + 1:]) if colon > slash else (rest, "")
    return repository, tag, digest


def images(docs: list[dict]) -> list[tuple[str, str]]:
    """(where, image) of every container and init container of the render."""
    return [(f"{doc['kind']} {doc['metadata']['name']}/{c['name']}", c["image"]) for doc, spec in pod_specs(docs)
            for c in spec.get("initContainers", []) + spec.get("containers", [])]


def check_conventions(overlay: str, docs: list[dict]) -> list[str]:
    """Every object carries app.kubernetes.io/version and /instance (one version per overlay); outside
    development every image is a digest or a tag other than latest, and the version label is the tag
    of the project's image when it is pinned by tag."""
    problems = []
    for d in docs:
        labels = d["metadata"].get("labels") or {}
        missing = [k for k in (VERSION, INSTANCE) if not labels.get(k)]
        if missing:
            problems.append(f"{overlay}: {d['kind']} {d['metadata']['name']} lacks the label {', '.join(missing)}")
    versions = {str((d["metadata"].get("labels") or {}).get(VERSION)) for d in docs} - {"None"}
    if len(versions) > 1:
        problems.append(f"{overlay}: objects disagree on {VERSION}: {', '.join(sorted(versions))}")
    problems += check_workers(overlay, docs)
    if overlay in DEVELOPMENT_OVERLAYS:
        return problems
    for where, image in images(docs):
        repository, tag, digest = split_image(image)
        if digest:
            if not DIGEST.search(image):
                problems.append(f"{overlay}: {where}: {image} is no sha256 digest")
        elif tag in ("", "latest"):
            problems.append(f"{overlay}: {where}: {image} is not pinned (a release tag, or a digest from "
                            "`make release-manifests`); latest changes under a running Deployment")
        elif repository.rsplit("/", 1)[-1] == OUR_IMAGE and versions and tag not in versions:
            problems.append(f"{overlay}: {where}: image tag {tag} but {VERSION} {', '.join(sorted(versions))}")
    return problems


# A worker's probes ask its health endpoints on the metrics server (services/common/worker_health.py):
# /metrics answers while the consumer is stuck or disconnected.
WORKER_PROBES = {"livenessProbe": "/livez", "readinessProbe": "/readyz", "startupProbe": "/readyz"}


def check_workers(overlay: str, docs: list[dict]) -> list[str]:
    """Every worker Deployment probes /livez and /readyz on its metrics port, and rolls out with a new
    replica consuming before the old one stops (several consumers keep the events' guarantees)."""
    problems = []
    for d in docs:
        if d["kind"] != "Deployment" or (d["metadata"].get("labels") or {}).get(
                "app.kubernetes.io/component") != "worker":
            continue
        where = f"{overlay}: Deployment {d['metadata']['name']}"
        container = d["spec"]["template"]["spec"]["containers"][0]
        for probe, path in WORKER_PROBES.items():
            action = (container.get(probe) or {}).get("httpGet") or {}
            if action.get("path") != path or action.get("port") != "metrics":
                problems.append(f"{where}: {probe} must be httpGet {path} on port metrics, is {action or 'none'}")
        strategy = d["spec"].get("strategy") or {}
        rolling = strategy.get("rollingUpdate") or {}
        if strategy.get("type") != "RollingUpdate" or rolling.get("maxUnavailable") != 0:
            problems.append(f"{where}: strategy must be RollingUpdate with maxUnavailable 0 (a new worker consumes "
                            "before the old one stops)")
    return problems


def check_supported_kubernetes(operations: Path, oldest: str) -> list[str]:
    """docs/operations.md states the oldest supported Kubernetes version, the same minor version the
    manifests are validated against (OLDEST_KUBERNETES): the preStop sleep action needs 1.30."""
    if not operations.exists():
        return [f"{operations.name} missing"]
    minor = ".".join(oldest.split(".")[:2])
    stated = SUPPORTED_SENTENCE.findall(operations.read_text(encoding="utf-8"))
    if stated != [minor]:
        return [f"docs/operations.md must state 'The oldest supported Kubernetes version is {minor}.' once "
                f"(OLDEST_KUBERNETES in tools/k8s_check.py is {oldest}); it states {stated or 'none'}"]
    return []
