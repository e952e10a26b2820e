"""`make k8s-check`'s rules for the operators' custom resources: a wrong field or type in a CNPG
Cluster, a RabbitmqCluster or an ExternalSecret is reported against the schemas in deploy/crds, a
kind without a vendored schema is reported, a Secret the workloads read that no ExternalSecret makes
is reported, and the shipped prod-operators overlay passes."""

from __future__ import annotations

import copy
import json

import pytest

from tests.deploy.conftest import ROOT
from tools.k8s.operators import (
    boot_definitions,
    check_operators,
    check_rabbitmq_definitions,
    is_operator_api,
    vendored_schemas,
)

CLUSTER = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg"},
           "spec": {"instances": 3, "storage": {"size": "20Gi"},
                    "managed": {"roles": [{"name": "gateway", "login": True,
                                           "passwordSecret": {"name": "gateway-postgresql-role"}}]},
                    "backup": {"retentionPolicy": "30d",
                               "barmanObjectStore": {"destinationPath": "s3://bucket/pg"}}}}
DATABASE = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Database", "metadata": {"name": "gateway"},
            "spec": {"cluster": {"name": "pg"}, "name": "supervision_gateway", "owner": "gateway"}}
RABBITMQ = {"apiVersion": "rabbitmq.com/v1beta1", "kind": "RabbitmqCluster", "metadata": {"name": "mq"},
            "spec": {"replicas": 3, "persistence": {"storage": "20Gi"},
                     "rabbitmq": {"additionalConfig": "default_queue_type = quorum\n"}}}


def external_secret(name: str, keys: list[str]) -> dict:
    return {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": name},
            "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "store"}, "target": {"name": name},
                     "data": [{"secretKey": k, "remoteRef": {"key": f"supervision/{name}", "property": k}}
                              for k in keys]}}


def deployment(secret: str, key: str, optional: bool = False) -> dict:
    ref = {"name": secret, "key": key} | ({"optional": True} if optional else {})
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gateway-api"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "api", "env": [{"name": key, "valueFrom": {"secretKeyRef": ref}}]}]}}}}


def shipped() -> list[dict]:
    return [copy.deepcopy(d) for d in (CLUSTER, DATABASE, RABBITMQ)] + [
        external_secret("gateway-postgresql-role", ["password"]), external_secret("gateway-database", ["DATABASE_URL"]),
        deployment("gateway-database", "DATABASE_URL")]


def test_the_small_shipped_shape_passes():
    assert check_operators("t", shipped()) == []


@pytest.mark.parametrize(("kind", "change", "expected"), [
    ("Cluster", lambda s: s.update(instance=3), "spec: Additional properties are not allowed ('instance'"),
    ("Cluster", lambda s: s["storage"].update(size=20), "spec.storage.size: 20 is not of type 'string'"),
    ("Cluster", lambda s: s["backup"].update(retentionPolicy="30 days"), "spec.backup.retentionPolicy"),
    ("Cluster", lambda s: s["managed"]["roles"][0].update(login="yes"),
     "spec.managed.roles.0.login: 'yes' is not of type 'boolean'"),
    ("RabbitmqCluster", lambda s: s.update(replicas="3"), "spec.replicas: '3' is not of type 'integer'"),
    ("RabbitmqCluster", lambda s: s["rabbitmq"].update(additonalConfig="x"),
     "spec.rabbitmq: Additional properties are not allowed ('additonalConfig'"),
    ("ExternalSecret", lambda s: s["secretStoreRef"].update(kind="VaultStore"),
     "spec.secretStoreRef.kind: 'VaultStore'"),
    ("ExternalSecret", lambda s: s["data"][0].pop("remoteRef"), "spec.data.0: 'remoteRef' is a required property"),
    ("Database", lambda s: s.update(name="postgres"), "spec.name"),
])
def test_a_wrong_field_or_type_is_reported(kind, change, expected):
    docs = shipped()
    change(next(d for d in docs if d["kind"] == kind)["spec"])
    problems = check_operators("t", docs)
    assert any(expected in p and kind in p for p in problems), problems


def test_a_kind_without_a_vendored_schema_is_reported():
    docs = shipped()
    docs[0]["apiVersion"] = "postgresql.cnpg.io/v2"
    docs.append({"apiVersion": "rabbitmq.com/v1beta1", "kind": "Vhost", "metadata": {"name": "supervision"},
                 "spec": {"name": "/", "defaultQueueType": "quorum"}})
    problems = check_operators("t", docs)
    assert any("Cluster pg (postgresql.cnpg.io/v2): no vendored schema" in p for p in problems), problems
    assert any("Vhost supervision (rabbitmq.com/v1beta1): no vendored schema" in p for p in problems), problems


def test_a_secret_no_external_secret_makes_is_reported():
    docs = [*shipped(), deployment("supervision-amqp", "AMQP_URI"), deployment("gateway-database", "OTHER_KEY")]
    problems = check_operators("t", docs)
    assert any("AMQP_URI reads Secret supervision-amqp, which no ExternalSecret makes" in p for p in problems)
    assert any("reads key OTHER_KEY of Secret gateway-database" in p for p in problems), problems


def test_an_optional_key_may_be_missing_but_not_the_secret():
    assert check_operators("t", [*shipped(), deployment("gateway-database", "EXTRA", optional=True)]) == []
    problems = check_operators("t", [*shipped(), deployment("supervision-jwt", "JWT_SECRET", optional=True)])
    assert any("reads Secret supervision-jwt, which no ExternalSecret makes" in p for p in problems), problems


def test_broken_references_between_the_operators_objects_are_reported():
    docs = shipped()
    docs[1]["spec"]["owner"] = "nobody"
    docs[0]["spec"]["managed"]["roles"][0]["passwordSecret"]["name"] = "missing-role-secret"
    docs.append({"apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup", "metadata": {"name": "nightly"},
                 "spec": {"schedule": "0 0 1 * * *", "cluster": {"name": "other"}}})
    problems = check_operators("t", docs)
    assert any("owner nobody is not a managed role" in p for p in problems), problems
    assert any("password Secret missing-role-secret is made by no ExternalSecret" in p for p in problems), problems
    assert any("ScheduledBackup nightly: names Cluster other" in p for p in problems), problems


def test_every_vendored_schema_is_named_in_the_readme():
    readme = (ROOT / "deploy" / "crds" / "README.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in (ROOT / "deploy" / "crds").glob("*.json"))
    assert files and all(name in readme for name in files)
    assert {api for api, _ in vendored_schemas()} == {"postgresql.cnpg.io/v1", "rabbitmq.com/v1beta1",
                                                      "external-secrets.io/v1"}
    assert is_operator_api("external-secrets.io/v1") and not is_operator_api("monitoring.coreos.com/v1")


def test_the_shipped_prod_operators_overlay_passes(rendered_overlays):
    docs = rendered_overlays["prod-operators"]
    kinds = {d["kind"] for d in docs}
    assert {"Cluster", "Database", "ScheduledBackup", "RabbitmqCluster", "ExternalSecret"} <= kinds
    assert check_operators("prod-operators", docs) == []
    # Every service's DATABASE_URL comes from the CNPG role's password, and AMQP_URI from the operator.
    made = {d["spec"]["target"]["name"]: d for d in docs if d["kind"] == "ExternalSecret"}
    assert "supervision-postgresql-rw:5432/supervision_gateway" in \
        made["gateway-database"]["spec"]["target"]["template"]["data"]["DATABASE_URL"]
    assert "AMQP_URI" in made["supervision-amqp"]["spec"]["target"]["template"]["data"]


# ------------------------------------------------------------------ RabbitMQ definitions

VHOST = "supervision_prod"
QUEUES = {"command_center": ["evt-complaints-ComplaintOverdue--command_center.on_complaints_ComplaintOverdue"],
          "assessment": ["evt-facilities-InspectionRecorded--assessment.on_facilities_InspectionRecorded"]}
POLICY = {"vhost": VHOST, "name": "unlimited", "pattern": "^evt-", "apply-to": "quorum_queues",
          "definition": {"delivery-limit": -1}, "priority": 0}


def definitions(**changes) -> dict:
    defs = {"users": [{"name": "{{ .username }}", "password": "{{ .password }}", "tags": "administrator"}],
            "vhosts": [{"name": VHOST}],
            "permissions": [{"user": "{{ .username }}", "vhost": VHOST,
                             "configure": ".*", "write": ".*", "read": ".*"}],
            "policies": [dict(POLICY)]}
    return defs | changes


def broker(uri_path: str = "/" + VHOST, defs: dict | None = None,
           config: str = "definitions.import_backend = local_filesystem\n"
                         "definitions.local.path = /etc/rabbitmq/definitions/supervision.json\n") -> list[dict]:
    """A RabbitmqCluster importing definitions (from an ExternalSecret's template) and the services' AMQP_URI."""
    mq = copy.deepcopy(RABBITMQ)
    mq["spec"]["rabbitmq"]["additionalConfig"] += config
    mq["spec"]["override"] = {"statefulSet": {"spec": {"template": {"spec": {
        "containers": [{"name": "rabbitmq", "volumeMounts": [
            {"name": "definitions", "mountPath": "/etc/rabbitmq/definitions/supervision.json",
             "subPath": "definitions.json", "readOnly": True}]}],
        "volumes": [{"name": "definitions", "secret": {"secretName": "mq-definitions"}}]}}}}}
    amqp = external_secret("supervision-amqp", ["username", "password"])
    amqp["spec"]["target"]["template"] = {"data": {
        "AMQP_URI": "amqp://{{ .username | urlquery }}:{{ .password | urlquery }}@mq:5672" + uri_path}}
    made = external_secret("mq-definitions", ["username", "password"])
    made["spec"]["target"]["template"] = {"data": {"definitions.json": json.dumps(defs or definitions())}}
    return [mq, amqp, made]


def problems_of(docs: list[dict]) -> list[str]:
    return check_rabbitmq_definitions("t", docs, QUEUES)


def test_a_broker_in_its_own_vhost_with_the_limit_lifted_passes():
    assert problems_of(broker()) == []
    assert check_operators("t", broker()) == []  # schemas, and the services' real queue names


@pytest.mark.parametrize("path", ["/", "", "/%2F"])
def test_the_default_vhost_is_reported(path):
    problems = problems_of(broker(uri_path=path))
    assert any("uses the default virtual host /" in p for p in problems), problems


def test_a_vhost_the_definitions_do_not_declare_is_reported():
    problems = problems_of(broker(uri_path="/supervision-staging"))
    assert any("declare no virtual host supervision-staging" in p for p in problems), problems
    assert any("no policy in virtual host supervision-staging" in p for p in problems), problems


def test_a_vhost_not_url_encoded_is_reported():
    defs = definitions(vhosts=[{"name": "supervision/prod"}])
    problems = problems_of(broker(uri_path="/supervision/prod", defs=defs))
    assert any("'supervision/prod' is not URL-encoded in the path ('supervision%2Fprod')" in p
               for p in problems), problems


@pytest.mark.parametrize(("policy", "expected"), [
    ({"definition": {"delivery-limit": 1000}}, "applies to quorum queues with delivery-limit -1"),
    ({"definition": {"delivery-limit": "-1"}}, "applies to quorum queues with delivery-limit -1"),
    ({"definition": {}}, "applies to quorum queues with delivery-limit -1"),
    ({"apply-to": "classic_queues"}, "applies to quorum queues with delivery-limit -1"),
    ({"apply-to": "exchanges"}, "applies to quorum queues with delivery-limit -1"),
    ({"vhost": "/"}, "applies to quorum queues with delivery-limit -1"),
    ({"pattern": "^evt-complaints-"}, "matches queue evt-facilities-InspectionRecorded--assessment."),
    ({"pattern": "--command_center\\."}, "matches queue evt-facilities-InspectionRecorded--assessment."),
])
def test_a_policy_that_leaves_a_queue_limited_is_reported(policy, expected):
    problems = problems_of(broker(defs=definitions(policies=[POLICY | policy])))
    assert any(expected in p for p in problems), problems


def test_a_policy_of_higher_priority_that_keeps_the_limit_is_reported():
    shadow = POLICY | {"name": "ttl", "pattern": "assessment", "definition": {"message-ttl": 60000}, "priority": 5}
    problems = problems_of(broker(defs=definitions(policies=[dict(POLICY), shadow])))
    assert problems == ["t: RabbitmqCluster mq definitions: queue evt-facilities-InspectionRecorded--assessment."
                        "on_facilities_InspectionRecorded gets policy ttl (the highest priority that matches), "
                        "whose delivery-limit is not -1"]
    # Also "queues" and "all" reach quorum queues, and an unanchored pattern is searched.
    for apply_to in ("queues", "all"):
        assert problems_of(broker(defs=definitions(policies=[POLICY | {"apply-to": apply_to, "pattern": "--"}]))) == []


def test_definitions_without_a_user_or_its_permissions_are_reported():
    problems = problems_of(broker(defs=definitions(users=[], permissions=[])))
    assert any("declare no user: a blank node importing definitions at boot creates no default user" in p
               for p in problems), problems
    problems = problems_of(broker(defs=definitions(permissions=[])))
    assert any("grant no declared user configure, write and read '.*' on virtual host supervision_prod" in p
               for p in problems), problems


def test_definitions_the_nodes_do_not_load_are_reported():
    problems = problems_of(broker(config=""))
    assert any("RabbitmqCluster mq: imports no definitions at boot" in p for p in problems), problems
    assert problems_of(broker(config="load_definitions = /etc/rabbitmq/definitions/supervision.json\n")) == []
    problems = problems_of(broker(config="load_definitions = /etc/rabbitmq/other.json\n"))
    assert any("nothing is mounted at /etc/rabbitmq/other.json" in p for p in problems), problems
    docs = broker()
    docs[2]["spec"]["target"]["template"]["data"] = {"other.json": "{}"}
    assert any("has no key definitions.json" in p for p in problems_of(docs))
    docs[2]["spec"]["target"]["template"]["data"] = {"definitions.json": '{"users": [{"name": {{ .username }}}]}'}
    assert any("are not JSON (template actions belong inside strings)" in p for p in problems_of(docs))


def test_a_config_map_volume_and_a_directory_mount_are_followed():
    docs = broker(config="load_definitions = /etc/rabbitmq/definitions/supervision.json\n")
    pod = docs[0]["spec"]["override"]["statefulSet"]["spec"]["template"]["spec"]
    pod["containers"][0]["volumeMounts"] = [{"name": "definitions", "mountPath": "/etc/rabbitmq/definitions"}]
    pod["volumes"] = [{"name": "definitions", "configMap": {"name": "mq-definitions"}}]
    docs[2] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mq-definitions"},
               "data": {"supervision.json": json.dumps(definitions(policies=[]))}}
    problems = problems_of(docs)
    assert any("no policy in virtual host supervision_prod" in p for p in problems), problems
    docs[2]["data"]["supervision.json"] = json.dumps(definitions())
    assert problems_of(docs) == []


def test_an_event_namespace_prefix_is_applied_to_the_queue_names():
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "supervision-config"},
              "data": {"EVENT_NAMESPACE": "staging"}}
    problems = problems_of([*broker(), config])
    assert any("matches queue staging.evt-" in p for p in problems), problems
    assert problems_of([*broker(defs=definitions(policies=[POLICY | {"pattern": r"^(staging\.)?evt-"}])), config]) == []


def test_a_broker_outside_the_overlay_is_not_checked():
    docs = broker(uri_path="/")
    docs[1]["spec"]["target"]["template"]["data"]["AMQP_URI"] = "amqp://u:p@broker.example.net:5672/"
    assert problems_of(docs) == []


def test_the_shipped_broker_lives_in_its_own_vhost_with_the_limit_lifted(rendered_overlays):
    docs = rendered_overlays["prod-operators"]
    assert check_rabbitmq_definitions("prod-operators", docs) == []
    cluster = next(d for d in docs if d["kind"] == "RabbitmqCluster")
    loaded, _ = boot_definitions(cluster, docs)
    assert loaded is not None
    assert [v["name"] for v in loaded["vhosts"]] == [VHOST]
    [policy] = loaded["policies"]
    assert (policy["vhost"], policy["apply-to"]) == (VHOST, "quorum_queues")
    assert policy["definition"] == {"delivery-limit": -1}
    uri = next(d for d in docs if d["kind"] == "ExternalSecret" and d["metadata"]["name"] == "supervision-amqp")
    assert uri["spec"]["target"]["template"]["data"]["AMQP_URI"].endswith("@supervision-rabbitmq:5672/" + VHOST)
    # The component as it was before (the services in "/", nothing imported at boot) is reported.
    uri["spec"]["target"]["template"]["data"]["AMQP_URI"] = uri["spec"]["target"]["template"]["data"]["AMQP_URI"] \
        .removesuffix(VHOST)
    assert any("uses the default virtual host /" in p for p in check_rabbitmq_definitions("prod-operators", docs))
