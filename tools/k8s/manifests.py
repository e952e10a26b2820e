"""Reading rendered manifests: the workloads' pod specs and the center's shared configuration."""

from __future__ import annotations

from collections.abc import Iterator


def config(docs: list[dict]) -> dict[str, str]:
    """The data of the center's shared ConfigMap (supervision-config, with kustomize's hash suffix)."""
    return next(d["data"] for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(
        "supervision-config"))


def pod_specs(docs: list[dict]) -> Iterator[tuple[dict, dict]]:
    """Every workload with its pod spec: Deployments, StatefulSets and Jobs."""
    for d in docs:
        if d["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield d, d["spec"]["template"]["spec"]
