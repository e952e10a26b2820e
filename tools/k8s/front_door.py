"""Front-door rules: /metrics stays for Prometheus, and no overlay turns on the development login."""

from __future__ import annotations

from tools.k8s.manifests import pod_specs

# Ports that serve /metrics (ours are named metrics, RabbitMQ's prometheus): per-office business figures,
# for Prometheus only. Its pods are app.kubernetes.io/name=prometheus in namespace monitoring, as
# kube-prometheus-stack installs it (docs/operations.md).
METRICS_PORT_NAMES = frozenset({"metrics", "prometheus"})
MONITORING_NAMESPACE = "monitoring"
PROMETHEUS_POD = {"app.kubernetes.io/name": "prometheus"}


def check_front_door(overlay: str, docs: list[dict], metrics_port: int) -> list[str]:
    """/metrics stays behind the front door: no Ingress backend is a metrics port, every NetworkPolicy
    rule that admits a metrics port admits only Prometheus (behind a default deny of all ingress), and
    nothing sets DEVELOPMENT_LOGIN (it prints a bureau-leader token; `serve` refuses it)."""
    numbers = {metrics_port} | {p["containerPort"] for _, spec in pod_specs(docs) for c in spec["containers"]
                                for p in c.get("ports", []) if p.get("name") in METRICS_PORT_NAMES}
    return (_ingress_metrics_backends(overlay, docs, numbers) + _metrics_reachable(overlay, docs, numbers)
            + _development_login(overlay, docs))


def _is_metrics(port: object, numbers: set[int]) -> bool:
    return port in METRICS_PORT_NAMES or port in numbers


def _ingress_metrics_backends(overlay: str, docs: list[dict], numbers: set[int]) -> list[str]:
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    problems = []
    for ingress in (d for d in docs if d["kind"] == "Ingress"):
        backends = [ingress["spec"].get("defaultBackend")] + [
            path.get("backend") for rule in ingress["spec"].get("rules", [])
            for path in (rule.get("http") or {}).get("paths", [])]
        for backend in filter(None, backends):
            service = backend.get("service") or {}
            wanted = service.get("port") or {}
            named = wanted.get("name", wanted.get("number"))
            target = services.get(service.get("name"), {})
            exposed = [p for p in target.get("spec", {}).get("ports", [])
                       if named in (p.get("name"), p.get("port"))]
            if _is_metrics(named, numbers) or any(_is_metrics(p.get(k), numbers) for p in exposed
                                                  for k in ("name", "port", "targetPort")):
                problems.append(f"{overlay}: Ingress {ingress['metadata']['name']} routes {service.get('name')}:"
                                f"{named}, a metrics port: /metrics is for Prometheus, never the public")
    return problems


def _only_prometheus(peer: dict) -> bool:
    namespace = (peer.get("namespaceSelector") or {}).get("matchLabels", {})
    pods = (peer.get("podSelector") or {}).get("matchLabels", {})
    return (namespace.get("kubernetes.io/metadata.name") == MONITORING_NAMESPACE
            and all(pods.get(k) == v for k, v in PROMETHEUS_POD.items()) and "ipBlock" not in peer)


def _metrics_reachable(overlay: str, docs: list[dict], numbers: set[int]) -> list[str]:
    policies = [d for d in docs if d["kind"] == "NetworkPolicy" and "Ingress" in d["spec"].get("policyTypes", [])]
    problems = []
    if not any(p["spec"].get("podSelector") == {} and not p["spec"].get("ingress") for p in policies):
        problems.append(f"{overlay}: no NetworkPolicy denies all ingress by default: every pod's metrics port "
                        "is open to the whole cluster")
    for policy in policies:
        for index, rule in enumerate(policy["spec"].get("ingress") or []):
            ports = rule.get("ports") or []
            admits = not ports or any(
                _is_metrics(p.get("port"), numbers) or (
                    isinstance(p.get("port"), int) and p.get("endPort") and
                    any(p["port"] <= n <= p["endPort"] for n in numbers)) for p in ports)
            if admits and not (rule.get("from") and all(_only_prometheus(peer) for peer in rule["from"])):
                problems.append(f"{overlay}: NetworkPolicy {policy['metadata']['name']} ingress rule {index} admits "
                                f"a metrics port ({', '.join(map(str, sorted(numbers)))}) from more than "
                                f"Prometheus (namespace {MONITORING_NAMESPACE}, pods "
                                f"{PROMETHEUS_POD['app.kubernetes.io/name']})")
    return problems


def _development_login(overlay: str, docs: list[dict]) -> list[str]:
    found = [f"ConfigMap {d['metadata']['name']}" for d in docs
             if d["kind"] == "ConfigMap" and "DEVELOPMENT_LOGIN" in (d.get("data") or {})]
    found += [f"{doc['kind']} {doc['metadata']['name']}/{c['name']}" for doc, spec in pod_specs(docs)
              for c in spec.get("initContainers", []) + spec["containers"]
              for e in c.get("env", []) if e.get("name") == "DEVELOPMENT_LOGIN"]
    return [f"{overlay}: {where} sets DEVELOPMENT_LOGIN: it prints a bureau-leader token and is for `make run` "
            "only (the gateway's serve refuses it)" for where in found]
