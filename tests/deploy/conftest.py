"""The overlays as `kubectl kustomize` renders them, once per test session, for the rules' own tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"
OVERLAY_NAMES = sorted(p.name for p in (ROOT / "deploy" / "k8s" / "overlays").iterdir()
                       if (p / "kustomization.yaml").exists())


@pytest.fixture(scope="session")
def rendered_overlays() -> dict[str, list[dict]]:
    """Every overlay's rendered objects, by overlay name."""
    out = {}
    for name in OVERLAY_NAMES:
        result = subprocess.run([str(KUBECTL), "kustomize", str(ROOT / "deploy" / "k8s" / "overlays" / name)],
                                capture_output=True, text=True, check=True)
        out[name] = [d for d in yaml.safe_load_all(result.stdout) if d]
    return out
