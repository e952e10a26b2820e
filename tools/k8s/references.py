"""References between rendered objects, which schemas cannot see: every ConfigMap and Secret the
render brings is read by someone, INDICATOR_SOURCES reaches every process that reads it, internal
gRPC addresses go through headless Services, and KEDA's ScaledObjects point at real workers,
queues and credentials."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping

from tools.k8s.manifests import pod_specs

VARIABLE = "INDICATOR_SOURCES"
# The services whose processes read INDICATOR_SOURCES, and which processes: both build the service's
# runtime, which parses it at start (services/assessment/service.py, services/gateway/config.py).
# Without it a process falls back to localhost ports and its live calls fail.
SOURCE_READERS: dict[str, tuple[str, ...]] = {"assessment": ("api", "worker"), "gateway": ("api", "worker")}
# ConfigMaps read by something other than a pod: Grafana's sidecar loads every one labelled so.
READ_BY_LABEL = {"grafana_dashboard": "1"}
_ADDRESS = re.compile(r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(?P<port>\d+)$")
DNS = "dns:///"


def check_references(overlay: str, docs: list[dict], grpc_port: int,
                     worker_queues: Mapping[str, list[str]] | None = None) -> list[str]:
    """All the reference rules on one rendered overlay; `worker_queues` (service -> the queues its
    worker consumes from) is computed from the services' subscriptions when not given."""
    return (check_mounted(overlay, docs) + check_indicator_sources(overlay, docs)
            + check_internal_addresses(overlay, docs, grpc_port) + check_scaled_objects(overlay, docs, worker_queues))


# ------------------------------------------------------------------ ConfigMaps and Secrets

def pod_references(spec: dict) -> Iterator[tuple[str, str, bool]]:
    """(kind ConfigMap|Secret, name, optional) of everything a pod spec reads."""
    for container in spec.get("initContainers", []) + spec.get("containers", []):
        for source in container.get("envFrom", []):
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if key in source:
                    yield kind, source[key]["name"], bool(source[key].get("optional"))
        for variable in container.get("env", []):
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = (variable.get("valueFrom") or {}).get(key)
                if ref:
                    yield kind, ref["name"], bool(ref.get("optional"))
    for volume in spec.get("volumes", []):
        sources = [volume, *(volume.get("projected") or {}).get("sources", [])]
        for source in sources:
            if "configMap" in source:
                yield "ConfigMap", source["configMap"]["name"], bool(source["configMap"].get("optional"))
            if "secret" in source:
                secret = source["secret"]
                yield "Secret", secret.get("secretName") or secret.get("name"), bool(secret.get("optional"))
    for pull in spec.get("imagePullSecrets", []):
        yield "Secret", pull["name"], False


def secrets_brought(docs: list[dict]) -> dict[str, str]:
    """Secret name -> the object that makes it exist: a rendered Secret, or an ExternalSecret's or
    SealedSecret's target."""
    brought = {}
    for d in docs:
        name = d["metadata"]["name"]
        if d["kind"] == "Secret":
            brought[name] = f"Secret {name}"
        elif d["kind"] == "ExternalSecret":
            brought[(d.get("spec", {}).get("target") or {}).get("name") or name] = f"ExternalSecret {name}"
        elif d["kind"] == "SealedSecret":
            brought[name] = f"SealedSecret {name}"
    return brought


def _secret_names(node: object, secretish: bool = False) -> Iterator[str]:
    """Names under keys that speak of a secret (secretName, passwordSecret: {name}, secretTargetRef:
    [{name}], secretAccessKey: {name, key}), at any depth."""
    if isinstance(node, dict):
        if secretish and isinstance(node.get("name"), str):
            yield node["name"]
        for key, value in node.items():
            if key == "secretName" and isinstance(value, str):
                yield value
            else:
                yield from _secret_names(value, "secret" in key.lower())
    elif isinstance(node, list):
        for item in node:
            yield from _secret_names(item, secretish)


def _secrets_read_elsewhere(docs: list[dict]) -> set[str]:
    """Secrets read by the platform rather than a pod: an Ingress's certificate, KEDA's credentials,
    an operator's (CloudNativePG's role passwords and backup keys, RabbitMQ's users)."""
    return {name for d in docs if d["kind"] not in ("Secret", "ExternalSecret", "SealedSecret", "ConfigMap")
            for name in _secret_names(d.get("spec") or {})}


def check_mounted(overlay: str, docs: list[dict]) -> list[str]:
    """Every ConfigMap and Secret the render brings is read by some workload (a ConfigMap nobody
    mounts is configuration that never reaches a process), and every ConfigMap a pod needs exists."""
    read = {(kind, name) for _, spec in pod_specs(docs) for kind, name, _ in pod_references(spec)}
    problems = []
    for d in docs:
        labels = d["metadata"].get("labels") or {}
        if d["kind"] == "ConfigMap" and ("ConfigMap", d["metadata"]["name"]) not in read and \
                not any(labels.get(k) == v for k, v in READ_BY_LABEL.items()):
            problems.append(f"{overlay}: ConfigMap {d['metadata']['name']} is mounted by no workload (envFrom, "
                            "env valueFrom, volumes, projected): its settings reach no process")
    elsewhere = _secrets_read_elsewhere(docs)
    for name, origin in sorted(secrets_brought(docs).items()):
        if ("Secret", name) not in read and name not in elsewhere:
            problems.append(f"{overlay}: Secret {name} ({origin}) is read by no workload")
    config_maps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    for doc, spec in pod_specs(docs):
        for kind, name, optional in pod_references(spec):
            if kind == "ConfigMap" and not optional and name not in config_maps:
                problems.append(f"{overlay}: {doc['kind']} {doc['metadata']['name']} reads ConfigMap {name}, "
                                "which the render does not contain")
    return problems


# ------------------------------------------------------------------ INDICATOR_SOURCES

def received(container: dict, docs: list[dict], variable: str) -> bool:
    """Whether the container's environment holds `variable` (env, or a ConfigMap of the render
    through envFrom)."""
    if any(e.get("name") == variable for e in container.get("env", [])):
        return True
    maps = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d["kind"] == "ConfigMap"}
    return any(variable in maps.get((source.get("configMapRef") or {}).get("name"), {})
               for source in container.get("envFrom", []))


def check_indicator_sources(overlay: str, docs: list[dict]) -> list[str]:
    """Every process that reads INDICATOR_SOURCES receives it (else it calls localhost), and every
    value parses as the services parse it."""
    from services.common.config import ConfigError
    from services.common.sources import parse_sources

    problems = []
    for service, components in SOURCE_READERS.items():
        for component in components:
            found = [(doc, spec) for doc, spec in pod_specs(docs) if doc["kind"] == "Deployment"
                     and (doc["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == service
                     and doc["metadata"]["labels"].get("app.kubernetes.io/component") == component]
            for doc, spec in found:
                if not received(spec["containers"][0], docs, VARIABLE):
                    problems.append(f"{overlay}: Deployment {doc['metadata']['name']} does not receive {VARIABLE}: "
                                    "its process falls back to localhost ports and every live call fails")
    for d in docs:
        raw = (d.get("data") or {}).get(VARIABLE) if d["kind"] == "ConfigMap" else None
        if raw is not None:
            try:
                parse_sources(raw)
            except ConfigError as exc:
                problems.append(f"{overlay}: ConfigMap {d['metadata']['name']}: {exc}")
    return problems


# ------------------------------------------------------------------ internal gRPC addresses

def addresses_in(value: str) -> Iterator[str]:
    """The address-like parts of a setting: comma-separated, each after an optional `name=`."""
    for part in value.split(","):
        address = part.partition("=")[2] if "=" in part else part
        yield address.strip()


def check_internal_addresses(overlay: str, docs: list[dict], grpc_port: int) -> list[str]:
    """Every internal gRPC address in a ConfigMap is dns:///<headless Service>:<its gRPC port>, so that
    clients balance per call over every ready pod (a ClusterIP Service pins a client's one long-lived
    connection to one pod)."""
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    problems = []
    for d in docs:
        if d["kind"] != "ConfigMap":
            continue
        for key, value in (d.get("data") or {}).items():
            for address in addresses_in(str(value)):
                scheme = DNS if address.startswith(DNS) else ""
                match = _ADDRESS.match(address.removeprefix(scheme))
                if not match or "://" in address.removeprefix(scheme):
                    continue
                name, port = match["host"].split(".")[0], int(match["port"])
                if name not in services and port != grpc_port:
                    continue  # not an address of ours (an external host, a proxy range)
                where = f"{overlay}: ConfigMap {d['metadata']['name']} {key}: {address}"
                service = services.get(name)
                if not scheme:
                    problems.append(f"{where} is not {DNS}<service>-api-headless:{grpc_port}: one connection to "
                                    "a ClusterIP Service sends every call to one pod")
                elif service is None:
                    problems.append(f"{where}: no Service {name} in the render")
                elif service["spec"].get("clusterIP") != "None":
                    problems.append(f"{where}: Service {name} is not headless (clusterIP: None): DNS gives one "
                                    "virtual address and round_robin has a single pod-less target")
                elif port not in {p.get("port") for p in service["spec"].get("ports", [])}:
                    problems.append(f"{where}: Service {name} has no port {port}")
    return problems


# ------------------------------------------------------------------ KEDA

@functools.cache
def service_worker_queues() -> dict[str, list[str]]:
    """Service package -> the queues its nameko worker consumes from, for services whose subscriptions
    share durable queues (nameko SERVICE_POOL: evt-<source>-<EventType>--<service>.<handler>). A
    broadcast consumer (the gateway) has a queue per replica and is absent."""
    from tools.event_map import build_runtimes

    runtimes, _ = build_runtimes()
    return {name: [f"evt-{s.source}-{s.event_type}--{name}.{s.name}" for s in runtime.subscriptions]
            for name, runtime in runtimes.items() if not runtime.broadcast}


def check_scaled_objects(overlay: str, docs: list[dict], worker_queues: Mapping[str, list[str]] | None) -> list[str]:
    """KEDA's CRDs have no bundled schema: the fields this project relies on. Each ScaledObject scales
    a worker Deployment of the render (which leaves replicas to it, and keeps at least one for the
    sweeps), on rabbitmq triggers whose queue pattern matches exactly its service's queues, with
    credentials from a TriggerAuthentication of the render."""
    scaled = [d for d in docs if d["kind"] == "ScaledObject"]
    if not scaled:
        return []
    queues = service_worker_queues() if worker_queues is None else worker_queues
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    authentications = {d["metadata"]["name"]: d for d in docs if d["kind"] == "TriggerAuthentication"}
    problems = []
    for d in scaled:
        spec, where = d.get("spec") or {}, f"{overlay}: ScaledObject {d['metadata']['name']}"
        target = deployments.get((spec.get("scaleTargetRef") or {}).get("name"))
        labels = (target or {}).get("metadata", {}).get("labels") or {}
        service = labels.get("app.kubernetes.io/name")
        if target is None or labels.get("app.kubernetes.io/component") != "worker":
            problems.append(f"{where}: scaleTargetRef names no worker Deployment of the render")
            continue
        if "replicas" in target["spec"]:
            problems.append(f"{where}: Deployment {target['metadata']['name']} sets replicas, which every apply "
                            "would reset under the autoscaler")
        minimum, maximum = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
        if not 1 <= minimum <= maximum:
            problems.append(f"{where}: needs 1 <= minReplicaCount <= maxReplicaCount (a worker also runs the "
                            "deadline sweeps: never zero)")
        if service not in queues:
            problems.append(f"{where}: {service}'s worker has no shared queue (a broadcast consumer): another "
                            "replica shortens no backlog")
            continue
        triggers = spec.get("triggers") or []
        if not triggers:
            problems.append(f"{where}: no triggers")
        for index, trigger in enumerate(triggers):
            problems += _check_trigger(f"{where} trigger {index}", trigger, queues, service, authentications)
    return problems


def _check_trigger(where: str, trigger: dict, queues: Mapping[str, list[str]], service: str,
                   authentications: dict[str, dict]) -> list[str]:
    meta = trigger.get("metadata") or {}
    if trigger.get("type") != "rabbitmq":
        return [f"{where}: type {trigger.get('type')!r}, expected rabbitmq"]
    problems = []
    if meta.get("mode") != "QueueLength" or not re.fullmatch(r"\d+(\.\d+)?", str(meta.get("value", ""))) \
            or float(meta["value"]) <= 0:
        problems.append(f"{where}: needs mode QueueLength and a positive value (messages per replica)")
    if meta.get("useRegex") == "true":
        if meta.get("protocol") != "http":
            problems.append(f"{where}: useRegex needs protocol http (RabbitMQ's management API)")
        try:
            pattern = re.compile(meta.get("queueName", ""))
        except re.error as exc:
            return [*problems, f"{where}: queueName is no regular expression: {exc}"]
        matches = lambda queue: pattern.search(queue) is not None  # noqa: E731 - KEDA searches, unanchored
    else:
        matches = lambda queue: queue == meta.get("queueName")  # noqa: E731
    missed = [q for q in queues[service] if not matches(q)]
    if missed and meta.get("useRegex") == "true":
        problems.append(f"{where}: queueName misses {service}'s queues {', '.join(missed)}")
    if not any(matches(q) for q in queues[service]):
        problems.append(f"{where}: queueName {meta.get('queueName')!r} matches none of {service}'s queues")
    foreign = [q for other, names in queues.items() if other != service for q in names if matches(q)]
    if foreign:
        problems.append(f"{where}: queueName also matches other services' queues: {', '.join(foreign[:3])}")
    authentication = authentications.get((trigger.get("authenticationRef") or {}).get("name"))
    if "host" not in meta and (authentication is None or "host" not in {
            r.get("parameter") for r in (authentication.get("spec") or {}).get("secretTargetRef", [])}):
        problems.append(f"{where}: the broker's address comes from no TriggerAuthentication of the render "
                        "(secretTargetRef parameter host)")
    return problems
