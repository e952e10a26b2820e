"""`make k8s-check`'s conventions on small manifests: the release labels on every object, images
pinned outside development, and docs/operations.md stating OLDEST_KUBERNETES; and every rendered
overlay passing them."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import OVERLAY_NAMES
from tools.k8s.conventions import check_conventions, check_supported_kubernetes, check_workers, split_image

LABELS = {"app.kubernetes.io/version": "0.1.0", "app.kubernetes.io/instance": "supervision"}
DIGEST = "sha256:" + "ab" * 32


def workload(image: str, labels: dict | None = None) -> dict:
    return {"kind": "Deployment", "metadata": {"name": "a-api", "labels": dict(LABELS if labels is None else labels)},
            "spec": {"template": {"spec": {"initContainers": [{"name": "wait", "image": image}],
                                           "containers": [{"name": "api", "image": image}]}}}}


def test_a_pinned_labelled_release_passes():
    assert check_conventions("prod", [workload("registry.example/supervision-cloud:0.1.0")]) == []
    assert check_conventions("prod", [workload(f"registry.example/supervision-cloud@{DIGEST}")]) == []


@pytest.mark.parametrize("missing", list(LABELS))
def test_an_object_without_a_release_label_is_reported(missing):
    labels = {k: v for k, v in LABELS.items() if k != missing}
    config = {"kind": "ConfigMap", "metadata": {"name": "c", "labels": labels}}
    problems = check_conventions("dev", [config])
    assert problems == [f"dev: ConfigMap c lacks the label {missing}"]


@pytest.mark.parametrize(("image", "why"), [
    ("registry.example/supervision-cloud:latest", "is not pinned"),
    ("registry.example/supervision-cloud", "is not pinned"),
    ("registry.example:5000/supervision-cloud", "is not pinned"),  # a registry port is no tag
    ("registry.example/supervision-cloud@sha256:abc", "no sha256 digest"),
    ("registry.example/supervision-cloud:0.2.0", "image tag 0.2.0 but app.kubernetes.io/version 0.1.0"),
])
def test_unpinned_or_mislabelled_images_outside_development_are_reported(image, why):
    problems = check_conventions("prod", [workload(image)])
    assert problems and all(why in p for p in problems), problems


def test_development_may_run_a_local_tag():
    assert check_conventions("dev", [workload("supervision-cloud:latest")]) == []


def test_objects_of_one_overlay_agree_on_the_version():
    other = {"kind": "ConfigMap", "metadata": {"name": "c", "labels": {**LABELS, "app.kubernetes.io/version": "9"}}}
    problems = check_conventions("dev", [workload("x:1"), other])
    assert problems == ["dev: objects disagree on app.kubernetes.io/version: 0.1.0, 9"]


@pytest.mark.parametrize(("image", "parts"), [
    ("a/b:1", ("a/b", "1", "")), ("host:5000/b", ("host:5000/b", "", "")),
    (f"host:5000/b:2@{DIGEST}", ("host:5000/b", "2", DIGEST)),
])
def test_image_references_split(image, parts):
    assert split_image(image) == parts


def worker(probes: dict[str, str], strategy: dict) -> dict:
    container = {"name": "worker", "image": "x:1"}
    for probe, path in probes.items():
        container[probe] = {"httpGet": {"path": path, "port": "metrics"}}
    return {"kind": "Deployment", "metadata": {"name": "a-worker", "labels": {"app.kubernetes.io/component": "worker"}},
            "spec": {"strategy": strategy, "template": {"spec": {"containers": [container]}}}}


ROLLING = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
HEALTH = {"livenessProbe": "/livez", "readinessProbe": "/readyz", "startupProbe": "/readyz"}


def test_a_worker_probing_its_health_endpoints_and_rolling_passes():
    assert check_workers("prod", [worker(HEALTH, ROLLING)]) == []


def test_todays_worker_probing_metrics_with_recreate_is_reported():
    """The shape before: every probe on /metrics, which answers while the consumer is stuck."""
    problems = check_workers("prod", [worker(dict.fromkeys(HEALTH, "/metrics"), {"type": "Recreate"})])
    assert len(problems) == 4
    assert "livenessProbe must be httpGet /livez on port metrics" in problems[0]
    assert "RollingUpdate with maxUnavailable 0" in problems[3]


@pytest.mark.parametrize(("text", "ok"), [
    ("Supported: 1.30 to 1.34. The oldest supported Kubernetes version is 1.30.\n", True),
    ("The oldest supported Kubernetes version is 1.29.\n", False),
    ("Kubernetes 1.30 or newer.\n", False),
    ("The oldest supported Kubernetes version is 1.30.\nThe oldest supported Kubernetes version is 1.31.\n", False),
])
def test_the_operators_guide_states_the_oldest_version(tmp_path, text, ok):
    guide = tmp_path / "operations.md"
    guide.write_text(text, encoding="utf-8")
    assert (check_supported_kubernetes(guide, "1.30.0") == []) is ok


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_every_rendered_overlay_passes(rendered_overlays, overlay):
    assert check_conventions(overlay, rendered_overlays[overlay]) == []
