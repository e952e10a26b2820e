"""`make k8s-check`'s alert rules: runbook links that open from Alertmanager (absolute https, the
alert's own heading), the rules the repository tests, vanished-target terms for every service; on
small hand-built manifests, then on every rendered overlay."""

from __future__ import annotations

import copy
import os
import subprocess

import pytest
import yaml

from tests.deploy.conftest import KUBECTL, OVERLAY_NAMES, ROOT
from tools.k8s.alerts import check_alerts, github_anchor, heading_anchors

BASE = "https://git.example.gov.cn/supervision/cloud/-/blob/main/docs/operations.md"
OPERATIONS = """# Operations

## Runbooks

```sh
# a shell comment, not a heading
```

### WorkersAllDown

### ApiAllDown
"""


def absent_terms(role: str, services: list[str]) -> str:
    return " or ".join(f'absent(up{{role="{role}",service="{s}"}})' for s in services)


def repository_groups(services=("complaints", "gateway")) -> list[dict]:
    return [{"name": "processes", "rules": [
        {"record": "service:up:sum", "expr": "sum by (service) (up)"},
        {"alert": "WorkersAllDown", "expr": absent_terms("worker", list(services)),
         "annotations": {"runbook_url": "docs/operations.md#workersalldown"}},
        {"alert": "ApiAllDown", "expr": absent_terms("api", list(services)),
         "annotations": {"runbook_url": "docs/operations.md#apialldown"}}]}]


def rendered_rule(base: str = BASE, groups: list[dict] | None = None) -> dict:
    """The PrometheusRule as an overlay renders it: each runbook_url's base replaced."""
    groups = copy.deepcopy(groups if groups is not None else repository_groups())
    for group in groups:
        for rule in group["rules"]:
            if "annotations" in rule:
                anchor = rule["annotations"]["runbook_url"].partition("#")[2]
                rule["annotations"]["runbook_url"] = f"{base}#{anchor}"
    return {"kind": "PrometheusRule", "metadata": {"name": "supervision"}, "spec": {"groups": groups}}


def deployment(service: str, role: str) -> dict:
    return {"kind": "Deployment", "metadata": {"name": f"{service.replace('_', '-')}-{role}", "labels": {
        "app.kubernetes.io/name": service, "app.kubernetes.io/component": role}}}


DEPLOYED = [deployment(s, r) for s in ("complaints", "gateway") for r in ("api", "worker")]


def check(docs: list[dict], groups: list[dict] | None = None) -> list[str]:
    return check_alerts("prod", docs, OPERATIONS, repository_groups() if groups is None else groups)


def test_anchors_are_githubs():
    assert github_anchor("WorkersAllDown") == "workersalldown"
    assert github_anchor("Back up and restore") == "back-up-and-restore"
    assert github_anchor("make run-micro") == "make-run-micro"
    assert github_anchor("Configuration and Secrets (env)") == "configuration-and-secrets-env"
    anchors = heading_anchors("# A\n```\n# not one\n```\n## Runbooks\n### Runbooks\n")
    assert anchors == {"a": "A", "runbooks": "Runbooks", "runbooks-1": "Runbooks"}


def test_the_shipped_shape_passes():
    assert check([rendered_rule(), *DEPLOYED]) == []


@pytest.mark.parametrize("base", ["docs/operations.md", "/docs/operations.md",
                                  "http://git.example.gov.cn/docs/operations.md", "https:///docs/operations.md"])
def test_a_runbook_url_alertmanager_cannot_open_is_refused(base):
    problems = check([rendered_rule(base), *DEPLOYED])
    assert len(problems) == 2 and all("absolute https URL" in p for p in problems)


def test_an_anchor_that_is_no_heading_is_refused():
    groups = repository_groups()
    groups[0]["rules"][1]["annotations"]["runbook_url"] = "docs/operations.md#workers-all-down"
    problems = check([rendered_rule(groups=groups), *DEPLOYED], groups)
    assert problems == ["prod: PrometheusRule supervision: alert WorkersAllDown's runbook_url anchor "
                        "#workers-all-down is no heading of docs/operations.md"]


def test_an_anchor_of_another_alerts_runbook_is_refused():
    groups = repository_groups()
    groups[0]["rules"][1]["annotations"]["runbook_url"] = "docs/operations.md#apialldown"
    problems = check([rendered_rule(groups=groups), *DEPLOYED], groups)
    assert len(problems) == 1 and "opens 'ApiAllDown', not '### WorkersAllDown'" in problems[0]


def test_a_rendered_rule_that_differs_beyond_the_base_is_refused():
    rule = rendered_rule()
    rule["spec"]["groups"][0]["rules"][1]["expr"] = "vector(0)"  # edited in the cluster copy only
    problems = check([rule, *DEPLOYED])
    assert any("differs from deploy/prometheus/rules" in p for p in problems)


def test_a_deployed_service_without_its_absent_term_is_refused():
    groups = repository_groups(services=("complaints",))
    problems = check([rendered_rule(groups=groups), *DEPLOYED], groups)
    assert problems == [
        'prod: PrometheusRule supervision: alert WorkersAllDown has no absent(up{role="worker"}) term for gateway',
        'prod: PrometheusRule supervision: alert ApiAllDown has no absent(up{role="api"}) term for gateway']


def test_an_absent_term_for_a_service_not_deployed_is_refused():
    groups = repository_groups(services=("complaints", "gateway", "billing"))
    problems = check([rendered_rule(groups=groups), *DEPLOYED], groups)
    assert len(problems) == 2 and all("billing" in p and "page for ever" in p for p in problems)


def test_an_overlay_without_the_rules_is_refused():
    assert check(DEPLOYED) == ["prod: no PrometheusRule (the monitoring component)"]


# ------------------------------------------------------------------ the rendered overlays

@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_every_rendered_overlay_passes(rendered_overlays, overlay):
    assert check_alerts(overlay, rendered_overlays[overlay]) == []


def test_every_rendered_alert_links_its_runbook_absolutely(rendered_overlays):
    """The base the overlay sets, then the alert's own anchor, for every alert of every overlay."""
    for docs in rendered_overlays.values():
        rule = next(d for d in docs if d["kind"] == "PrometheusRule")
        alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
        assert len(alerts) >= 27
        for alert in alerts:
            url = alert["annotations"]["runbook_url"]
            assert url.startswith("https://") and url.endswith(f"docs/operations.md#{alert['alert'].lower()}"), url


def test_an_overlay_without_runbook_links_does_not_render(tmp_path):
    """The component's replacement needs the overlay's base URL: forgetting it fails at render time."""
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "components": [os.path.relpath(ROOT / "deploy" / "k8s" / "components" / "monitoring", tmp_path)]}))
    result = subprocess.run([str(KUBECTL), "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "runbook-links" in result.stderr
