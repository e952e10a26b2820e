"""The field app's deployment in the rendered overlays: where the gateway keeps evidence (a directory on
a volume in dev, an S3 bucket in prod with its credentials from a Secret that is referenced, never
inlined), the sign-in settings, the one new egress (the gateway's API pods to the object store, in
prod and nothing else opened), and the front door's body limit for uploads. Each rule is a function
run on the render and, to show it can fail, on a copy broken the way a careless edit would."""

from __future__ import annotations

import copy
import ipaddress
import re

import pytest

from tests.deploy.conftest import OVERLAY_NAMES

PROD_OVERLAYS = [name for name in OVERLAY_NAMES if name.startswith("prod")]
S3_SETTINGS = ("ATTACHMENT_S3_BUCKET", "ATTACHMENT_S3_ENDPOINT", "ATTACHMENT_S3_REGION")
OIDC_SETTINGS = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_SCOPES")
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
CREDENTIALS_SECRET = "gateway-attachment-store"
OBJECT_STORE_POLICY = "allow-object-store-egress"
# The egress rules every overlay has (components/network-policies) and prod's Redis of the complaint form.
SHARED_EGRESS = {"allow-dns-egress", "allow-database-egress", "allow-broker-egress", "allow-gateway-to-services-egress"}
PROD_EGRESS = SHARED_EGRESS | {"allow-redis-egress", OBJECT_STORE_POLICY}
# prod-operators: the egress of the PostgreSQL and RabbitMQ clusters' own pods (their components).
OPERATOR_EGRESS = {"allow-postgresql-cluster-egress", "allow-rabbitmq-cluster-egress"}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # the gateway's ATTACHMENT_MAX_BYTES when unset
FIELD_API = "/api/v1/field/"


def find(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def gateway_api(docs: list[dict]) -> dict:
    return find(docs, "Deployment", "gateway-api")


def environment(docs: list[dict], deployment: dict) -> dict[str, str]:
    """What the first container's process sees from ConfigMaps (envFrom, in order) and literal env values."""
    maps = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d["kind"] == "ConfigMap"}
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    seen: dict[str, str] = {}
    for source in container.get("envFrom", []):
        seen.update(maps.get((source.get("configMapRef") or {}).get("name"), {}))
    seen.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return seen


def secret_refs(deployment: dict) -> dict[str, dict]:
    """Variable -> its secretKeyRef, in the first container."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container.get("env", [])
            if (e.get("valueFrom") or {}).get("secretKeyRef")}


# ------------------------------------------------------------------ the rules

def check_s3_store(docs: list[dict]) -> list[str]:
    """Prod: ATTACHMENT_STORE=s3 with bucket, endpoint and region from a ConfigMap, the sign-in settings,
    the credentials from Secret gateway-attachment-store, and no credential written anywhere."""
    api = gateway_api(docs)
    env = environment(docs, api)
    problems = [] if env.get("ATTACHMENT_STORE") == "s3" else [f"ATTACHMENT_STORE is {env.get('ATTACHMENT_STORE')!r}"]
    problems += [f"{name} is not set" for name in (*S3_SETTINGS, *OIDC_SETTINGS) if not env.get(name)]
    if env.get("ATTACHMENT_S3_ENDPOINT") and not env["ATTACHMENT_S3_ENDPOINT"].startswith("https://"):
        problems.append("ATTACHMENT_S3_ENDPOINT is not https: evidence would cross the network in clear")
    if env.get("OIDC_ISSUER") and not env["OIDC_ISSUER"].startswith("https://"):
        problems.append("OIDC_ISSUER is not https")
    if env.get("OIDC_SCOPES") and "openid" not in env["OIDC_SCOPES"].split():
        problems.append("OIDC_SCOPES lacks openid")
    refs = secret_refs(api)
    for name in CREDENTIALS:
        ref = refs.get(name)
        if ref is None or ref["name"] != CREDENTIALS_SECRET or ref["key"] != name or ref.get("optional"):
            problems.append(f"{name} is not read (required) from Secret {CREDENTIALS_SECRET}")
    problems += check_no_inlined_credentials(docs)
    return problems


def check_no_inlined_credentials(docs: list[dict]) -> list[str]:
    """No object of the render carries a credential's value: no Secret, no ConfigMap key, no literal env."""
    problems = [f"Secret {d['metadata']['name']} is rendered: its values would be in the repository"
                for d in docs if d["kind"] == "Secret"]
    problems += [f"ConfigMap {d['metadata']['name']} holds {key}" for d in docs if d["kind"] == "ConfigMap"
                 for key in (d.get("data") or {}) if key in CREDENTIALS]
    for d in docs:
        if d["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        spec = d["spec"]["template"]["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            problems += [f"{d['kind']} {d['metadata']['name']}/{container['name']} sets {e['name']} literally"
                         for e in container.get("env", []) if e["name"] in CREDENTIALS and "value" in e]
    return problems


def check_directory_store(docs: list[dict]) -> list[str]:
    """Dev: ATTACHMENT_STORE=directory, ATTACHMENT_DIR a mounted, writable volume backed by a claim the
    render has; the rollout never waits for a second node to attach it; no object-store credentials."""
    api = gateway_api(docs)
    env = environment(docs, api)
    spec = api["spec"]["template"]["spec"]
    problems = [] if env.get("ATTACHMENT_STORE") == "directory" else [
        f"ATTACHMENT_STORE is {env.get('ATTACHMENT_STORE')!r}"]
    mounts = {m["mountPath"]: m for m in spec["containers"][0].get("volumeMounts", [])}
    mount = mounts.get(env.get("ATTACHMENT_DIR", ""))
    if mount is None or mount.get("readOnly"):
        return [*problems, f"ATTACHMENT_DIR {env.get('ATTACHMENT_DIR')!r} is no writable mount: the root "
                           "filesystem is read-only"]
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    claims = {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"}
    if claim not in claims:
        problems.append(f"the attachments' volume {mount['name']} is not a PersistentVolumeClaim of the render: "
                        "evidence would outlive neither a restart nor the inspections that name it")
    if api["spec"].get("strategy", {}).get("type") != "Recreate":
        problems.append("gateway-api rolls with a surge pod, which may wait for ever for a ReadWriteOnce volume")
    problems += [f"{name} is read in dev" for name in CREDENTIALS if name in secret_refs(api)]
    return problems


def selects(policy: dict, labels: dict[str, str]) -> bool:
    """Whether a NetworkPolicy's podSelector (matchLabels and matchExpressions In) selects pods so labelled."""
    selector = policy["spec"]["podSelector"]
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    return all(labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions") or []
               if e["operator"] == "In")


def pod_labels(docs: list[dict]) -> dict[str, dict[str, str]]:
    """Workload -> its pods' labels."""
    return {f"{d['kind']} {d['metadata']['name']}": d["spec"]["template"]["metadata"].get("labels") or {}
            for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")}


def check_object_store_egress(docs: list[dict]) -> list[str]:
    """Prod: the gateway's API pods, and only they, reach the object store: a private ipBlock (never the
    whole internet) on TCP ports of the operator's choosing; and the egress policies are exactly the
    shared ones, Redis's and this one."""
    policies = {d["metadata"]["name"]: d for d in docs if d["kind"] == "NetworkPolicy"
                and "Egress" in d["spec"].get("policyTypes", []) and d["spec"].get("egress")}
    problems = []
    extra = sorted(set(policies) - PROD_EGRESS - OPERATOR_EGRESS)
    if extra:
        problems.append(f"egress opened beyond the known flows: {', '.join(extra)}")
    policy = policies.get(OBJECT_STORE_POLICY)
    if policy is None:
        return [*problems, f"no NetworkPolicy {OBJECT_STORE_POLICY}: the gateway cannot reach the object store"]
    reached = sorted(name for name, labels in pod_labels(docs).items() if selects(policy, labels))
    if reached != ["Deployment gateway-api"]:
        problems.append(f"{OBJECT_STORE_POLICY} selects {reached}, not the gateway's API pods alone")
    for index, rule in enumerate(policy["spec"]["egress"]):
        peers = rule.get("to") or []
        if not peers or any(set(p) != {"ipBlock"} for p in peers):
            problems.append(f"{OBJECT_STORE_POLICY} rule {index} reaches more than ipBlocks")
        for peer in (p for p in peers if "ipBlock" in p):
            network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
            if not network.is_private or network.prefixlen < 8:
                problems.append(f"{OBJECT_STORE_POLICY} rule {index} opens {network}, beyond a private range")
        ports = rule.get("ports") or []
        if not ports or any(p.get("protocol", "TCP") != "TCP" or not isinstance(p.get("port"), int) or "endPort" in p
                            for p in ports):
            problems.append(f"{OBJECT_STORE_POLICY} rule {index} opens every port or a range")
    return problems


def body_limit_bytes(value: str) -> int:
    """nginx's size syntax (proxy-body-size): bytes, or k/m/g."""
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", value)
    if match is None:
        raise ValueError(f"not an nginx size: {value!r}")
    return int(match[1]) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[match[2].lower()]


def check_upload_limit(docs: list[dict]) -> list[str]:
    """The front door lets an evidence upload of ATTACHMENT_MAX_BYTES through on /api/v1/field/ (the
    gateway answers the size itself), and every other route keeps its small limit."""
    max_bytes = int(environment(docs, gateway_api(docs)).get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))
    problems = []
    field_routes = 0
    for ingress in (d for d in docs if d["kind"] == "Ingress"):
        limit = body_limit_bytes((ingress["metadata"].get("annotations") or {}).get(
            "nginx.ingress.kubernetes.io/proxy-body-size", "1m"))
        paths = [p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
        if paths == [FIELD_API]:
            field_routes += 1
            if limit <= max_bytes:
                problems.append(f"Ingress {ingress['metadata']['name']} allows {limit} bytes, not above "
                                f"ATTACHMENT_MAX_BYTES ({max_bytes}): nginx answers 413 before the gateway")
        elif limit > 1024 ** 2:
            problems.append(f"Ingress {ingress['metadata']['name']} ({', '.join(paths)}) allows {limit} bytes")
    if field_routes != 1:
        problems.append(f"{field_routes} Ingresses route {FIELD_API} alone (expected one)")
    return problems


# ------------------------------------------------------------------ the rendered overlays

@pytest.mark.parametrize("overlay", PROD_OVERLAYS)
def test_prod_keeps_evidence_in_s3_with_referenced_credentials(rendered_overlays, overlay):
    assert check_s3_store(rendered_overlays[overlay]) == []


@pytest.mark.parametrize("overlay", PROD_OVERLAYS)
def test_prod_opens_egress_to_the_object_store_for_the_gateway_api_only(rendered_overlays, overlay):
    assert check_object_store_egress(rendered_overlays[overlay]) == []


def test_dev_keeps_evidence_in_a_directory_on_a_claimed_volume(rendered_overlays):
    assert check_directory_store(rendered_overlays["dev"]) == []
    assert check_no_inlined_credentials(rendered_overlays["dev"]) == []


def test_dev_opens_no_egress_to_an_object_store(rendered_overlays):
    names = {d["metadata"]["name"] for d in rendered_overlays["dev"] if d["kind"] == "NetworkPolicy"}
    assert OBJECT_STORE_POLICY not in names


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_every_overlay_lets_an_upload_through_on_the_field_api_only(rendered_overlays, overlay):
    assert check_upload_limit(rendered_overlays[overlay]) == []


def test_prod_operators_makes_the_credentials_secret_with_an_external_secret(rendered_overlays):
    made = {d["spec"]["target"]["name"] for d in rendered_overlays["prod-operators"] if d["kind"] == "ExternalSecret"}
    assert CREDENTIALS_SECRET in made


def test_only_the_api_pods_read_the_field_settings(rendered_overlays):
    """The worker serves no HTTP: it neither needs the object store's credentials nor a directory."""
    for overlay in OVERLAY_NAMES:
        docs = rendered_overlays[overlay]
        worker = find(docs, "Deployment", "gateway-worker")
        assert "ATTACHMENT_STORE" not in environment(docs, worker), overlay
        assert not set(CREDENTIALS) & set(secret_refs(worker)), overlay


# ------------------------------------------------------------------ the rules fail when they should

def broken(docs: list[dict], change) -> list[dict]:
    copied = copy.deepcopy(docs)
    change(copied)
    return copied


def test_an_inlined_secret_key_is_reported(rendered_overlays):
    def inline(docs):
        env = gateway_api(docs)["spec"]["template"]["spec"]["containers"][0]["env"]
        variable = next(e for e in env if e["name"] == "AWS_SECRET_ACCESS_KEY")
        variable.pop("valueFrom")
        variable["value"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    problems = check_s3_store(broken(rendered_overlays["prod"], inline))
    assert "AWS_SECRET_ACCESS_KEY is not read (required) from Secret gateway-attachment-store" in problems
    assert "Deployment gateway-api/api sets AWS_SECRET_ACCESS_KEY literally" in problems


def test_a_credential_in_a_config_map_or_a_rendered_secret_is_reported(rendered_overlays):
    def leak(docs):
        next(d for d in docs if d["kind"] == "ConfigMap")["data"]["AWS_ACCESS_KEY_ID"] = "AKIAEXAMPLE"
        docs.append({"kind": "Secret", "metadata": {"name": CREDENTIALS_SECRET}, "stringData": {"x": "y"}})
    problems = check_no_inlined_credentials(broken(rendered_overlays["prod"], leak))
    assert len(problems) == 2


def test_a_policy_opening_the_object_store_to_every_pod_or_the_internet_is_reported(rendered_overlays):
    def widen(docs):
        policy = find(docs, "NetworkPolicy", OBJECT_STORE_POLICY)
        policy["spec"]["podSelector"] = {}
        policy["spec"]["egress"][0]["to"] = [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
        del policy["spec"]["egress"][0]["ports"]
    problems = check_object_store_egress(broken(rendered_overlays["prod"], widen))
    assert len(problems) == 3
    assert "not the gateway's API pods alone" in problems[0]


def test_a_new_egress_policy_is_reported(rendered_overlays):
    def open_more(docs):
        docs.append({"kind": "NetworkPolicy", "metadata": {"name": "allow-anything-egress"},
                     "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}})
    problems = check_object_store_egress(broken(rendered_overlays["prod"], open_more))
    assert problems == ["egress opened beyond the known flows: allow-anything-egress"]


def test_prod_without_the_object_store_policy_is_reported(rendered_overlays):
    docs = [d for d in rendered_overlays["prod"] if d["metadata"]["name"] != OBJECT_STORE_POLICY]
    assert check_object_store_egress(docs) == [
        f"no NetworkPolicy {OBJECT_STORE_POLICY}: the gateway cannot reach the object store"]


def test_dev_on_an_empty_dir_rolling_with_a_surge_is_reported(rendered_overlays):
    def ephemeral(docs):
        api = gateway_api(docs)
        volume = next(v for v in api["spec"]["template"]["spec"]["volumes"] if v["name"] == "attachments")
        volume.pop("persistentVolumeClaim")
        volume["emptyDir"] = {}
        api["spec"]["strategy"] = {"type": "RollingUpdate"}
    problems = check_directory_store(broken(rendered_overlays["dev"], ephemeral))
    assert len(problems) == 2


def test_the_front_door_refusing_uploads_is_reported(rendered_overlays):
    def shrink(docs):
        find(docs, "Ingress", "gateway-http-field")["metadata"]["annotations"][
            "nginx.ingress.kubernetes.io/proxy-body-size"] = "1m"
    problems = check_upload_limit(broken(rendered_overlays["prod"], shrink))
    assert len(problems) == 1 and "413" in problems[0]


@pytest.mark.parametrize(("value", "size"), [("1m", 1024 ** 2), ("11m", 11 * 1024 ** 2), ("512k", 512 * 1024),
                                             ("100", 100)])
def test_nginx_sizes_read(value, size):
    assert body_limit_bytes(value) == size


def test_a_bad_nginx_size_is_refused():
    with pytest.raises(ValueError, match="not an nginx size"):
        body_limit_bytes("eleven")


@pytest.mark.parametrize("overlay", PROD_OVERLAYS)
def test_prod_never_offers_the_development_officers_picker(rendered_overlays, overlay):
    """With AUTH_MODE=off the field app lets anyone act as any officer (X-Development-Officer)."""
    docs = rendered_overlays[overlay]
    assert environment(docs, gateway_api(docs))["AUTH_MODE"] == "jwt"
