"""`make k8s-check`'s front-door rules on small manifests: a metrics port behind an Ingress, a
NetworkPolicy opening one to more than Prometheus, an overlay turning on the development login."""

from __future__ import annotations

import pytest

from tools.k8s.front_door import check_front_door


def service(ports: list[dict]) -> dict:
    return {"kind": "Service", "metadata": {"name": "gateway-api"}, "spec": {"ports": ports}}


def ingress(port: dict) -> dict:
    return {"kind": "Ingress", "metadata": {"name": "gateway-http"}, "spec": {"rules": [{"http": {"paths": [
        {"path": "/", "backend": {"service": {"name": "gateway-api", "port": port}}}]}}]}}


DEFAULT_DENY = {"kind": "NetworkPolicy", "metadata": {"name": "default-deny-all"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
PROMETHEUS = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
              "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
CONTROLLER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
PORTS = [{"name": "grpc", "port": 50051, "targetPort": "grpc"},
         {"name": "metrics", "port": 9090, "targetPort": "metrics"},
         {"name": "http", "port": 8080, "targetPort": "http"}]


def policy(name: str, peers: list[dict] | None, ports: list[int] | None) -> dict:
    rule = {}
    if peers is not None:
        rule["from"] = peers
    if ports is not None:
        rule["ports"] = [{"protocol": "TCP", "port": p} for p in ports]
    return {"kind": "NetworkPolicy", "metadata": {"name": name},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [rule]}}


def test_the_shipped_shape_passes():
    docs = [service(PORTS), ingress({"name": "http"}), DEFAULT_DENY,
            policy("allow-prometheus-scrape", [PROMETHEUS], [9090]), policy("allow-http", [CONTROLLER], [8080])]
    assert check_front_door("prod", docs, 9090) == []


@pytest.mark.parametrize("port", [{"name": "metrics"}, {"number": 9090}])
def test_an_ingress_routing_a_metrics_port_is_refused(port):
    problems = check_front_door("prod", [service(PORTS), ingress(port), DEFAULT_DENY], 9090)
    assert len(problems) == 1 and "a metrics port" in problems[0]


@pytest.mark.parametrize(("peers", "ports"), [
    ([CONTROLLER], [9090]),  # the ingress controller
    ([PROMETHEUS, CONTROLLER], [9090]),  # Prometheus and someone else
    ([CONTROLLER], None),  # every port
    (None, [9090]),  # from anywhere
    ([{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}], [9090]),  # any namespace's pod
])
def test_a_network_policy_opening_a_metrics_port_beyond_prometheus_is_refused(peers, ports):
    docs = [service(PORTS), ingress({"name": "http"}), DEFAULT_DENY, policy("too-wide", peers, ports)]
    problems = check_front_door("prod", docs, 9090)
    assert len(problems) == 1 and "too-wide" in problems[0] and "Prometheus" in problems[0]


def test_no_default_deny_leaves_metrics_open():
    problems = check_front_door("prod", [service(PORTS), ingress({"name": "http"})], 9090)
    assert len(problems) == 1 and "denies all ingress" in problems[0]


def test_an_overlay_setting_the_development_login_is_refused():
    config = {"kind": "ConfigMap", "metadata": {"name": "supervision-config"}, "data": {"DEVELOPMENT_LOGIN": "true"}}
    problems = check_front_door("prod", [service(PORTS), ingress({"name": "http"}), DEFAULT_DENY, config],
                                          9090)
    assert len(problems) == 1 and "DEVELOPMENT_LOGIN" in problems[0]
