"""`make k8s-check`'s reference rules on small manifests: a ConfigMap or Secret nobody reads (the shape
that left assessment's INDICATOR_SOURCES out of every pod), INDICATOR_SOURCES missing from a process
that reads it, internal gRPC addresses not on a headless Service, ScaledObjects pointing at nothing;
and every rendered overlay passing them."""

from __future__ import annotations

import copy
import re

import pytest

from tests.deploy.conftest import OVERLAY_NAMES, ROOT
from tools.k8s.references import (
    check_indicator_sources,
    check_internal_addresses,
    check_mounted,
    check_references,
    check_scaled_objects,
    service_worker_queues,
)

SOURCES = "command_center=dns:///command-center-api-headless:50051"


def config_map(name: str, **data: str) -> dict:
    return {"kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def deployment(name: str, service: str, component: str, env_from: list[str] = (), env: list[dict] = (),
               volumes: list[dict] = ()) -> dict:
    container = {"name": component, "image": "supervision-cloud:1",
                 "envFrom": [{"configMapRef": {"name": n}} for n in env_from], "env": list(env)}
    return {"kind": "Deployment", "metadata": {"name": name, "labels": {
                "app.kubernetes.io/name": service, "app.kubernetes.io/component": component}},
            "spec": {"template": {"spec": {"containers": [container], "volumes": list(volumes)}}}}


def assessment(env_from_api: list[str], env_from_worker: list[str]) -> list[dict]:
    return [deployment("assessment-api", "assessment", "api", env_from_api),
            deployment("assessment-worker", "assessment", "worker", env_from_worker)]


def service(name: str, headless: bool) -> dict:
    spec = {"ports": [{"name": "grpc", "port": 50051}]}
    if headless:
        spec["clusterIP"] = "None"
    return {"kind": "Service", "metadata": {"name": name}, "spec": spec}


# ------------------------------------------------------------------ mounted

def test_todays_bug_a_generated_config_map_mounted_by_no_pod_is_reported():
    """assessment's kustomization generated assessment-config (INDICATOR_SOURCES) and no patch put it
    in any container: both the ConfigMap and the missing variable are reported."""
    docs = [config_map("supervision-config-abc", GRPC_PORT="50051"),
            config_map("assessment-config-h2ktc2hc5h", INDICATOR_SOURCES=SOURCES),
            *assessment(["supervision-config-abc"], ["supervision-config-abc"])]
    mounted = check_mounted("prod", docs)
    assert mounted == ["prod: ConfigMap assessment-config-h2ktc2hc5h is mounted by no workload (envFrom, env "
                       "valueFrom, volumes, projected): its settings reach no process"]
    sources = check_indicator_sources("prod", docs)
    assert len(sources) == 2 and all("does not receive INDICATOR_SOURCES" in p for p in sources)
    assert {p.split()[2] for p in sources} == {"assessment-api", "assessment-worker"}


def test_the_fixed_shape_passes():
    docs = [config_map("supervision-config-abc", GRPC_PORT="50051"),
            config_map("assessment-config-1", INDICATOR_SOURCES=SOURCES),
            *assessment(["supervision-config-abc", "assessment-config-1"],
                        ["supervision-config-abc", "assessment-config-1"])]
    assert check_mounted("prod", docs) == []
    assert check_indicator_sources("prod", docs) == []


def test_the_api_alone_receiving_it_still_reports_the_worker():
    docs = [config_map("assessment-config-1", INDICATOR_SOURCES=SOURCES),
            *assessment(["assessment-config-1"], [])]
    assert [p.split()[2] for p in check_indicator_sources("prod", docs)] == ["assessment-worker"]


@pytest.mark.parametrize("read", [
    {"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "extra", "key": "X"}}}]},
    {"volumes": [{"name": "v", "configMap": {"name": "extra"}}]},
    {"volumes": [{"name": "v", "projected": {"sources": [{"configMap": {"name": "extra"}}]}}]},
])
def test_every_way_a_pod_reads_a_config_map_counts(read):
    docs = [config_map("extra", X="1"), deployment("a-api", "a", "api", **read)]
    assert check_mounted("prod", docs) == []


def test_a_dashboard_config_map_is_read_by_grafana():
    dashboards = config_map("grafana-dashboards")
    dashboards["metadata"]["labels"] = {"grafana_dashboard": "1"}
    assert check_mounted("prod", [dashboards]) == []


def test_a_pod_reading_a_config_map_missing_from_the_render_is_reported():
    problems = check_mounted("prod", [deployment("a-api", "a", "api", ["assessment-config"])])
    assert problems == ["prod: Deployment a-api reads ConfigMap assessment-config, which the render does not contain"]


def test_a_secret_an_external_secret_brings_must_be_read():
    external = {"kind": "ExternalSecret", "metadata": {"name": "supervision-page-tokens"},
                "spec": {"target": {"name": "supervision-page-tokens"}, "secretStoreRef": {"name": "vault"}}}
    reader = deployment("a-api", "a", "api", env=[{"name": "PAGE_TOKEN_SECRET", "valueFrom": {"secretKeyRef": {
        "name": "supervision-page-tokens", "key": "PAGE_TOKEN_SECRET"}}}])
    assert check_mounted("prod", [external]) == [
        "prod: Secret supervision-page-tokens (ExternalSecret supervision-page-tokens) is read by no workload"]
    assert check_mounted("prod", [external, reader]) == []


def test_secrets_an_operator_or_keda_reads_count():
    roles = {"kind": "ExternalSecret", "metadata": {"name": "assessment-postgresql-role"}, "spec": {}}
    backup = {"kind": "ExternalSecret", "metadata": {"name": "backup"}, "spec": {"target": {"name": "backup-keys"}}}
    keda = {"kind": "ExternalSecret", "metadata": {"name": "rabbitmq-management"}, "spec": {}}
    cluster = {"kind": "Cluster", "metadata": {"name": "pg"}, "spec": {
        "managed": {"roles": [{"name": "assessment", "passwordSecret": {"name": "assessment-postgresql-role"}}]},
        "backup": {"barmanObjectStore": {"s3Credentials": {"secretAccessKey": {"name": "backup-keys", "key": "K"}}}}}}
    trigger = {"kind": "TriggerAuthentication", "metadata": {"name": "t"}, "spec": {
        "secretTargetRef": [{"parameter": "host", "name": "rabbitmq-management", "key": "URL"}]}}
    assert len(check_mounted("prod", [roles, backup, keda])) == 3
    assert check_mounted("prod", [roles, backup, keda, cluster, trigger]) == []


def test_a_bad_indicator_sources_value_is_reported_as_the_services_would():
    docs = [config_map("gateway-config-1", INDICATOR_SOURCES="gateway=localhost:1")]
    problems = check_indicator_sources("prod", docs)
    assert len(problems) == 1 and "INDICATOR_SOURCES" in problems[0] and "unknown service" in problems[0]


# ------------------------------------------------------------------ internal addresses

HEADLESS = [service("command-center-api", False), service("command-center-api-headless", True)]


def test_a_headless_dns_address_passes():
    assert check_internal_addresses("prod", [config_map("c", INDICATOR_SOURCES=SOURCES), *HEADLESS], 50051) == []


@pytest.mark.parametrize(("value", "why"), [
    ("command_center=command-center-api:50051", "is not dns:///"),  # the ClusterIP Service, as before
    ("command_center=command-center-api-headless:50051", "is not dns:///"),  # no scheme: one address
    ("command_center=dns:///command-center-api:50051", "is not headless"),
    ("command_center=dns:///facilities-api-headless:50051", "no Service facilities-api-headless"),
    ("command_center=dns:///command-center-api-headless:50052", "has no port 50052"),
])
def test_internal_addresses_not_on_a_headless_service_are_reported(value, why):
    problems = check_internal_addresses("prod", [config_map("c", INDICATOR_SOURCES=value), *HEADLESS], 50051)
    assert len(problems) == 1 and why in problems[0]


def test_external_addresses_and_urls_are_left_alone():
    docs = [config_map("c", COMPLAINT_FORM_REDIS_URL="rediss://redis.supervision.internal:6380/0",
                       COMPLAINT_FORM_TRUSTED_PROXIES="10.244.0.0/16", GRPC_PORT="50051",
                       SMTP="mail.example.gov.cn:25"), *HEADLESS]
    assert check_internal_addresses("prod", docs, 50051) == []


# ------------------------------------------------------------------ KEDA

QUEUES = {"assessment": ["evt-command_center-OfficeRegistered--assessment.on_command_center_OfficeRegistered",
                         "evt-complaints-ComplaintClosed--assessment.on_complaints_ComplaintClosed"],
          "complaints": ["evt-command_center-OfficeRegistered--complaints.on_command_center_OfficeRegistered"]}
PATTERN = r"^evt-[a-z_]+-[A-Za-z]+--assessment\.on_[a-z_]+_[A-Za-z]+$"


def scaled_object(**changes) -> dict:
    document = {"kind": "ScaledObject", "metadata": {"name": "assessment-worker"}, "spec": {
        "scaleTargetRef": {"name": "assessment-worker"}, "minReplicaCount": 1, "maxReplicaCount": 4,
        "triggers": [{"type": "rabbitmq", "authenticationRef": {"name": "rabbitmq-management"}, "metadata": {
            "protocol": "http", "mode": "QueueLength", "value": "200", "useRegex": "true", "operation": "sum",
            "queueName": PATTERN}}]}}
    for path, value in changes.items():
        node = document["spec"]
        *parents, last = path.split("__")
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    return document


def keda_docs(scaled: dict, replicas: bool = False) -> list[dict]:
    worker = deployment("assessment-worker", "assessment", "worker")
    if replicas:
        worker["spec"]["replicas"] = 1
    authentication = {"kind": "TriggerAuthentication", "metadata": {"name": "rabbitmq-management"}, "spec": {
        "secretTargetRef": [{"parameter": "host", "name": "supervision-rabbitmq-management", "key": "URL"}]}}
    return [worker, authentication, scaled]


def test_the_shipped_scaled_object_shape_passes():
    assert check_scaled_objects("prod-keda", keda_docs(scaled_object()), QUEUES) == []


@pytest.mark.parametrize(("changes", "why"), [
    ({"scaleTargetRef__name": "assessment-api"}, "names no worker Deployment"),
    ({"minReplicaCount": 0}, "never zero"),
    ({"triggers__0__type": "kafka"}, "expected rabbitmq"),
    ({"triggers__0__metadata__protocol": "amqp"}, "useRegex needs protocol http"),
    ({"triggers__0__metadata__mode": "MessageRate"}, "mode QueueLength"),
    ({"triggers__0__metadata__queueName": r"^evt-.*--assessment\.on_command_center_"}, "misses"),
    ({"triggers__0__metadata__queueName": r"--(assessment|complaints)\."}, "other services' queues"),
    ({"triggers__0__metadata__queueName": "OfficeRegistered"}, "other services' queues"),  # unanchored
    ({"triggers__0__metadata__queueName": r"--facilities\."}, "matches none"),
    ({"triggers__0__authenticationRef__name": "missing"}, "no TriggerAuthentication"),
])
def test_a_scaled_object_that_would_not_scale_the_worker_is_reported(changes, why):
    problems = check_scaled_objects("prod-keda", keda_docs(scaled_object(**changes)), QUEUES)
    assert problems and any(why in p for p in problems), problems


def test_a_worker_keeping_its_replicas_field_is_reported():
    problems = check_scaled_objects("prod-keda", keda_docs(scaled_object(), replicas=True), QUEUES)
    assert len(problems) == 1 and "sets replicas" in problems[0]


def test_a_broadcast_worker_cannot_be_scaled_on_a_queue():
    docs = keda_docs(scaled_object(scaleTargetRef={"name": "gateway-worker"}))
    docs.append(deployment("gateway-worker", "gateway", "worker"))
    problems = check_scaled_objects("prod-keda", docs, QUEUES)
    assert len(problems) == 1 and "broadcast" in problems[0]


def test_the_queue_names_are_the_services_real_subscriptions():
    """Built from the services' runtimes: nameko's SERVICE_POOL names, and the gateway (broadcast)
    left out."""
    queues = service_worker_queues()
    assert "gateway" not in queues
    assert "evt-command_center-OfficeRegistered--assessment.on_command_center_OfficeRegistered" in queues["assessment"]
    assert all(q.startswith("evt-") and f"--{name}.on_" in q for name, names in queues.items() for q in names)


# ------------------------------------------------------------------ the rendered overlays

@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_every_rendered_overlay_passes(rendered_overlays, overlay):
    assert check_references(overlay, rendered_overlays[overlay], 50051) == []


def test_the_rendered_prod_overlay_with_assessments_mount_removed_fails(rendered_overlays):
    """The rule on the real render: take the ConfigMap out of assessment's pods again."""
    docs = copy.deepcopy(rendered_overlays["prod"])
    for d in docs:
        if d["kind"] == "Deployment" and d["metadata"]["name"].startswith("assessment-"):
            container = d["spec"]["template"]["spec"]["containers"][0]
            container["envFrom"] = [s for s in container["envFrom"]
                                    if not s["configMapRef"]["name"].startswith("assessment-config")]
    problems = check_references("prod", docs, 50051)
    assert any("ConfigMap assessment-config" in p and "mounted by no workload" in p for p in problems)
    assert sum("does not receive INDICATOR_SOURCES" in p for p in problems) == 2


def test_the_rendered_keda_overlay_scales_every_shared_queue_worker(rendered_overlays):
    scaled = {d["spec"]["scaleTargetRef"]["name"] for d in rendered_overlays["prod-keda"]
              if d["kind"] == "ScaledObject"}
    assert scaled == {f"{s.replace('_', '-')}-worker" for s in service_worker_queues()}


def test_the_readers_of_indicator_sources_are_the_services_that_read_it():
    """SOURCE_READERS lists every service whose code reads the variable (directly or through
    services/common/sources.py): a new reader without an entry would go unchecked."""
    from tools.k8s.references import SOURCE_READERS

    reads = re.compile(r"services\.common\.sources import|[\"']INDICATOR_SOURCES[\"']")
    # Services only (a package with a service.py): the operator's command line takes the monolith's
    # ports from there, and is no workload of the overlays.
    readers = {path.relative_to(ROOT / "services").parts[0] for path in (ROOT / "services").rglob("*.py")
               if reads.search(path.read_text(encoding="utf-8"))}
    readers = {name for name in readers if (ROOT / "services" / name / "service.py").is_file()}
    assert readers == set(SOURCE_READERS)
