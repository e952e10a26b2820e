"""The operators' custom resources (CloudNativePG, RabbitMQ Cluster Operator, External Secrets
Operator): each validated against its schema vendored in deploy/crds, and the links between them
that no schema sees: every Secret a workload reads is made by an ExternalSecret, every reference
from one custom resource to another names an object the overlay renders."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from tools.k8s.manifests import pod_specs

CRDS = Path(__file__).resolve().parents[2] / "deploy" / "crds"
# The API groups whose kinds this module validates; kubernetes-validate has no schema for them.
OPERATOR_GROUPS = frozenset({"postgresql.cnpg.io", "rabbitmq.com", "external-secrets.io"})


def is_operator_api(api_version: str) -> bool:
    """Whether an apiVersion belongs to one of the operators' API groups."""
    return api_version.partition("/")[0] in OPERATOR_GROUPS


@cache
def vendored_schemas(directory: Path = CRDS) -> dict[tuple[str, str], dict]:
    """The schemas in deploy/crds by (apiVersion, kind)."""
    schemas = {}
    for path in sorted(directory.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        gvk = schema["x-kubernetes-group-version-kind"]
        schemas[(gvk["apiVersion"], gvk["kind"])] = schema
    return schemas


def check_operators(overlay: str, docs: list[dict]) -> list[str]:
    """Every custom resource of the operators' groups valid against its vendored schema, and consistent."""
    problems = _check_schemas(overlay, docs)
    if not problems:  # the cross-references read fields the schemas guarantee
        problems = (_check_secrets_made(overlay, docs) + _check_references(overlay, docs)
                    + check_rabbitmq_definitions(overlay, docs))
    return problems


def _check_schemas(overlay: str, docs: list[dict]) -> list[str]:
    # Imported here: jsonschema comes with kubernetes-validate, which tools/k8s_check.py installs
    # after importing this module (on a fresh machine it is not there yet at import time).
    from jsonschema import Draft7Validator

    problems = []
    schemas = vendored_schemas()
    for doc in docs:
        api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
        if not is_operator_api(api):
            continue
        where = f"{overlay}: {kind} {doc.get('metadata', {}).get('name')} ({api})"
        schema = schemas.get((api, kind))
        if schema is None:
            problems.append(f"{where}: no vendored schema in deploy/crds for this kind and version")
            continue
        for error in sorted(Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path)):
            path = ".".join(str(p) for p in error.absolute_path) or "(top)"
            problems.append(f"{where}: {path}: {error.message}")
    return problems


def _check_secrets_made(overlay: str, docs: list[dict]) -> list[str]:
    """Where an overlay makes Secrets with ExternalSecrets, it makes every one a workload reads."""
    made: dict[str, set[str] | None] = {}  # Secret name -> its keys (None: whatever the store entry holds)
    for doc in (d for d in docs if d["kind"] == "ExternalSecret"):
        spec = doc["spec"]
        name = spec.get("target", {}).get("name") or doc["metadata"]["name"]
        template = spec.get("target", {}).get("template", {}).get("data")
        keys = set(template) if template is not None else {item["secretKey"] for item in spec.get("data", [])}
        made[name] = None if spec.get("dataFrom") and template is None else keys
    if not made:
        return []
    problems = []
    for doc, spec in pod_specs(docs):
        for container in spec.get("initContainers", []) + spec["containers"]:
            where = f"{overlay}: {doc['kind']} {doc['metadata']['name']}/{container['name']}"
            for secret in (e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e):
                if secret not in made:
                    problems.append(f"{where}: reads Secret {secret}, which no ExternalSecret makes")
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if not ref:
                    continue
                keys = made.get(ref["name"], set())
                if ref["name"] not in made:
                    problems.append(f"{where}: {env['name']} reads Secret {ref['name']}, which no ExternalSecret makes")
                elif keys is not None and ref["key"] not in keys and not ref.get("optional"):
                    problems.append(f"{where}: {env['name']} reads key {ref['key']} of Secret {ref['name']}, "
                                    "which its ExternalSecret does not make")
    return problems


def _check_references(overlay: str, docs: list[dict]) -> list[str]:
    """References between the operators' objects name objects the overlay renders."""
    def names(kind: str) -> set[str]:
        return {d["metadata"]["name"] for d in docs if d["kind"] == kind}

    secrets = {d["spec"].get("target", {}).get("name") or d["metadata"]["name"]
               for d in docs if d["kind"] == "ExternalSecret"}
    clusters = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Cluster"}
    problems = []
    for doc in docs:
        kind, name, spec = doc["kind"], doc["metadata"]["name"], doc.get("spec", {})
        where = f"{overlay}: {kind} {name}"
        if kind in ("Database", "ScheduledBackup") and spec["cluster"]["name"] not in clusters:
            problems.append(f"{where}: names Cluster {spec['cluster']['name']}, which the overlay does not render")
        if kind == "Database" and spec["cluster"]["name"] in clusters:
            roles = {r["name"] for r in clusters[spec["cluster"]["name"]]["spec"].get("managed", {}).get("roles", [])}
            if spec["owner"] not in roles:
                problems.append(f"{where}: owner {spec['owner']} is not a managed role of its Cluster")
        if kind == "Cluster" and secrets:
            for role in spec.get("managed", {}).get("roles", []):
                secret = role.get("passwordSecret", {}).get("name")
                if secret and secret not in secrets:
                    problems.append(f"{where}: role {role['name']}'s password Secret {secret} is made by no "
                                    "ExternalSecret")
        if kind == "ExternalSecret" and spec["secretStoreRef"].get("kind") == "SecretStore" and \
                spec["secretStoreRef"]["name"] not in names("SecretStore"):
            problems.append(f"{where}: SecretStore {spec['secretStoreRef']['name']} is not in the overlay")
    return problems


# ------------------------------------------------------------------ RabbitMQ definitions

# Since RabbitMQ 4.0 a quorum queue drops (or dead-letters) a message requeued more than its delivery
# limit, 20 by default; -1 lifts it (the quorum queues guide, "Disabling the Limit"). The workers
# requeue an event while their store is away, so their queues need it.
UNLIMITED_DELIVERIES = -1
# The policy apply-to values that reach quorum queues.
REACHES_QUORUM_QUEUES = frozenset({"quorum_queues", "queues", "all"})
_TEMPLATE_ACTION = re.compile(r"\{\{.*?\}\}")


def check_rabbitmq_definitions(overlay: str, docs: list[dict],
                               worker_queues: Mapping[str, list[str]] | None = None) -> list[str]:
    """Where the services' AMQP_URI names a RabbitmqCluster of the overlay: its URI is in a virtual host
    of its own (not "/", URL-encoded), and the definitions its nodes import at boot declare that
    virtual host, a user with permissions on it, and a policy there lifting the quorum queues'
    delivery limit on every queue the services' workers declare (`worker_queues`: computed from the
    services' subscriptions when not given)."""
    clusters = {d["metadata"]["name"]: d for d in docs if d["kind"] == "RabbitmqCluster"}
    problems = []
    for doc in (d for d in docs if d["kind"] == "ExternalSecret"):
        uri = ((doc["spec"].get("target") or {}).get("template") or {}).get("data", {}).get("AMQP_URI")
        if uri is None:
            continue
        # The template's actions ({{ .password | urlquery }}) stand in the userinfo: any text parses.
        parts = urlsplit(_TEMPLATE_ACTION.sub("x", uri))
        cluster = clusters.get((parts.hostname or "").split(".")[0])
        if cluster is None:
            continue  # a broker outside the overlay: its virtual host is the platform team's
        where = f"{overlay}: ExternalSecret {doc['metadata']['name']} AMQP_URI"
        raw = parts.path[1:]
        vhost = unquote(raw)
        if vhost in ("", "/"):
            problems.append(f"{where} uses the default virtual host /: the environment's events need a "
                            "virtual host of their own, shared with nothing else on the broker")
            continue
        if quote(vhost, safe="") != raw:
            problems.append(f"{where}: virtual host {raw!r} is not URL-encoded in the path "
                            f"({quote(vhost, safe='')!r})")
        definitions, problem = boot_definitions(cluster, docs)
        if definitions is None:
            problems.append(f"{overlay}: RabbitmqCluster {cluster['metadata']['name']}: {problem}")
            continue
        queues = _declared_queues(docs, worker_queues)
        problems += [f"{overlay}: RabbitmqCluster {cluster['metadata']['name']} definitions: {p}"
                     for p in check_definitions(definitions, vhost, queues)]
    return problems


def check_definitions(definitions: dict, vhost: str, queues: list[str]) -> list[str]:
    """Definitions declaring `vhost` (not "/"), a user with every permission on it, and policies there
    under which each of `queues`, as a quorum queue, has no delivery limit."""
    problems = []
    if vhost not in {v.get("name") for v in definitions.get("vhosts", [])}:
        problems.append(f"declare no virtual host {vhost} (the AMQP_URI's)")
    users = {u.get("name") for u in definitions.get("users", [])}
    if not users:
        problems.append("declare no user: a blank node importing definitions at boot creates no default user, "
                        "so the operator's generated credentials would open nothing")
    granted = [p for p in definitions.get("permissions", []) if p.get("vhost") == vhost and p.get("user") in users
               and all(p.get(k) == ".*" for k in ("configure", "write", "read"))]
    if users and not granted:
        problems.append(f"grant no declared user configure, write and read '.*' on virtual host {vhost}")
    policies = [p for p in definitions.get("policies", []) if p.get("vhost") == vhost]
    unlimited = [p for p in policies if p.get("apply-to", "all") in REACHES_QUORUM_QUEUES
                 and _delivery_limit(p) == UNLIMITED_DELIVERIES]
    if not unlimited:
        problems.append(f"no policy in virtual host {vhost} applies to quorum queues with delivery-limit "
                        f"{UNLIMITED_DELIVERIES}: since RabbitMQ 4.0 an event requeued 20 times is dropped")
        return problems
    for queue in queues:
        effective = _effective_policy(policies, queue)
        if effective is None:
            problems.append(f"no policy in virtual host {vhost} matches queue {queue}: it keeps the default "
                            "delivery limit of 20")
        elif _delivery_limit(effective) != UNLIMITED_DELIVERIES:
            problems.append(f"queue {queue} gets policy {effective.get('name')} (the highest priority that "
                            f"matches), whose delivery-limit is not {UNLIMITED_DELIVERIES}")
    return problems


def boot_definitions(cluster: dict, docs: list[dict]) -> tuple[dict | None, str]:
    """The definitions a RabbitmqCluster's nodes import at boot, followed from its additionalConfig to
    the file mounted there and the ConfigMap or ExternalSecret template that makes it; else (None,
    what is missing)."""
    path = _definitions_path(cluster["spec"].get("rabbitmq", {}).get("additionalConfig", ""))
    if path is None:
        return None, ("imports no definitions at boot (definitions.import_backend = local_filesystem and "
                      "definitions.local.path, or load_definitions, in rabbitmq.additionalConfig)")
    pod = ((((cluster["spec"].get("override") or {}).get("statefulSet") or {}).get("spec") or {})
           .get("template") or {}).get("spec") or {}
    container = next((c for c in pod.get("containers", []) if c.get("name") == "rabbitmq"), {})
    mount = next((m for m in container.get("volumeMounts", []) if m.get("mountPath") == path and m.get("subPath")),
                 None)
    if mount is not None:
        key = mount["subPath"]
    else:
        mount = next((m for m in container.get("volumeMounts", [])
                      if m.get("mountPath", "").rstrip("/") == posixpath.dirname(path) and not m.get("subPath")), None)
        key = posixpath.basename(path)
    if mount is None:
        return None, f"nothing is mounted at {path}, the definitions file its additionalConfig names"
    volume = next((v for v in pod.get("volumes", []) if v.get("name") == mount["name"]), {})
    text = None
    if "configMap" in volume:
        text = next((d.get("data", {}).get(key) for d in docs if d["kind"] == "ConfigMap"
                     and d["metadata"]["name"] == volume["configMap"]["name"]), None)
    elif "secret" in volume:
        text = next((d["spec"].get("target", {}).get("template", {}).get("data", {}).get(key) for d in docs
                     if d["kind"] == "ExternalSecret" and (d["spec"].get("target", {}).get("name")
                                                           or d["metadata"]["name"]) == volume["secret"]["secretName"]),
                    None)
    if text is None:
        return None, (f"volume {mount['name']} mounted at {path} has no key {key} in a ConfigMap or an "
                      "ExternalSecret's template of the overlay")
    try:
        return json.loads(text), ""
    except json.JSONDecodeError as exc:
        return None, f"the definitions at {path} are not JSON (template actions belong inside strings): {exc}"


def _definitions_path(config: str) -> str | None:
    """The local definitions file a rabbitmq.conf text imports at boot."""
    settings = {}
    for line in config.splitlines():
        key, sep, value = line.split("#", 1)[0].partition("=")
        if sep:
            settings[key.strip()] = value.strip()
    if settings.get("definitions.import_backend") == "local_filesystem":
        return settings.get("definitions.local.path")
    return settings.get("load_definitions")


def _delivery_limit(policy: dict) -> object:
    return (policy.get("definition") or {}).get("delivery-limit")


def _effective_policy(policies: list[dict], queue: str) -> dict | None:
    """The policy a quorum queue named `queue` gets: the highest priority among those matching (RabbitMQ
    searches the pattern, unanchored)."""
    matching = [p for p in policies if p.get("apply-to", "all") in REACHES_QUORUM_QUEUES
                and re.search(p.get("pattern", ""), queue)]
    return max(matching, key=lambda p: p.get("priority", 0), default=None)


def _declared_queues(docs: list[dict], worker_queues: Mapping[str, list[str]] | None) -> list[str]:
    """Every durable queue the services' workers declare, in the EVENT_NAMESPACE the overlay sets (if any)."""
    from services.common.amqp import namespaced
    from tools.k8s.references import service_worker_queues

    queues = service_worker_queues() if worker_queues is None else worker_queues
    namespace = next((d["data"]["EVENT_NAMESPACE"] for d in docs if d["kind"] == "ConfigMap"
                      and (d.get("data") or {}).get("EVENT_NAMESPACE")), "")
    return [namespaced(queue, namespace) for names in queues.values() for queue in names]
