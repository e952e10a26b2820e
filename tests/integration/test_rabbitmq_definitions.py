"""The definitions the operator-run RabbitMQ imports at boot (deploy/k8s/components/rabbitmq-cluster/
definitions.yaml), imported into the real local broker with `rabbitmqctl import_definitions` under a
scratch virtual host and user: the virtual host and the user's permissions exist, the services'
AMQP_URI template reaches it, and a quorum queue named like a service's event queue gets the policy.

The policy's value, delivery-limit -1, exists from RabbitMQ 4.0 and its apply-to `quorum_queues` from
3.12; an older broker refuses both. On such a broker the test imports the definitions with those two
values replaced (`queues`, and a positive limit), so it checks what an old broker can (the import,
the virtual host, the permissions, the pattern reaching our queue names); the -1 itself is checked
only against RabbitMQ 4.x's documentation and by `make k8s-check`, never by this broker.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import yaml
from kombu import Connection, Queue

from tests.conftest import AMQP_URI, broker_address
from tools.k8s.references import service_worker_queues

COMPONENT = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "components" / "rabbitmq-cluster"
# What an older broker accepts instead (see the module docstring).
OLD_APPLY_TO, OLD_DELIVERY_LIMIT = "queues", 1_000_000


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"RabbitMQ with rabbitmqctl is required under CI=true: {reason}")
    pytest.skip(reason)


def rabbitmqctl(*args: str) -> subprocess.CompletedProcess:
    """rabbitmqctl on the local broker, its output kept."""
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=120, check=False)


def table(*args: str) -> list[dict]:
    """A rabbitmqctl listing as JSON rows."""
    done = rabbitmqctl(*args, "--formatter", "json", "--silent")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout or "[]")


def _vhost_exists(name: str) -> bool:
    return name in {row["name"] for row in table("list_vhosts", "name")}


def external_secret_template(file: str, key: str) -> str:
    """The template text of `key` in the ExternalSecret of the component's `file`."""
    doc = next(d for d in yaml.safe_load_all((COMPONENT / file).read_text(encoding="utf-8"))
               if d and d["kind"] == "ExternalSecret")
    return doc["spec"]["target"]["template"]["data"][key]


def broker_version() -> tuple[int, int]:
    """(major, minor) of the local broker."""
    done = rabbitmqctl("version")
    match = re.match(r"(\d+)\.(\d+)", done.stdout.strip())
    assert done.returncode == 0 and match, done.stdout + done.stderr
    return int(match[1]), int(match[2])


@pytest.fixture
def scratch() -> Iterator[dict[str, str]]:
    """A scratch virtual host and user name (and password), both deleted afterwards."""
    if shutil.which("rabbitmqctl") is None:
        _missing("rabbitmqctl is not installed")
    host, _ = broker_address(AMQP_URI)
    if host not in ("127.0.0.1", "localhost"):
        _missing(f"the broker {host} is not local: rabbitmqctl cannot reach it")
    if rabbitmqctl("status").returncode != 0:
        _missing("rabbitmqctl cannot reach the local broker")
    token = uuid.uuid4().hex[:10]
    names = {"vhost": f"test-definitions-{token}", "user": f"test_definitions_{token}",
             "password": secrets.token_urlsafe(18)}
    try:
        yield names
    finally:
        rabbitmqctl("delete_vhost", names["vhost"])
        rabbitmqctl("delete_user", names["user"])


def test_the_boot_definitions_make_the_vhost_and_lift_the_limit_on_our_queues(scratch):
    uri_template = external_secret_template("amqp-secret.yaml", "AMQP_URI")
    shipped_vhost = urlsplit(re.sub(r"\{\{.*?\}\}", "x", uri_template)).path[1:]
    assert shipped_vhost and shipped_vhost != "%2F"
    # Rendered as the External Secrets Operator would, with the scratch user for the operator's.
    text = external_secret_template("definitions.yaml", "definitions.json")
    text = text.replace("{{ .username }}", scratch["user"]).replace("{{ .password }}", scratch["password"])
    assert "{{" not in text, "a template action the test does not render"
    definitions = json.loads(text)
    for entry in definitions["vhosts"]:
        assert entry["name"] == shipped_vhost, "the definitions' virtual host is the AMQP_URI's"
        entry["name"] = scratch["vhost"]
    for entry in definitions["permissions"] + definitions["policies"]:
        assert entry["vhost"] == shipped_vhost
        entry["vhost"] = scratch["vhost"]
    [policy] = definitions["policies"]
    assert (policy["apply-to"], policy["definition"]["delivery-limit"]) == ("quorum_queues", -1)
    old_broker = broker_version() < (4, 0)
    if old_broker:  # see the module docstring: what 3.x accepts in place of 4.x's values
        policy["apply-to"] = OLD_APPLY_TO if broker_version() < (3, 12) else "quorum_queues"
        policy["definition"]["delivery-limit"] = OLD_DELIVERY_LIMIT
    # A file the broker's user can read (the CLI runs as that user; a test's own directory is private).
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as file:
        json.dump(definitions, file)
        file.flush()
        os.chmod(file.name, 0o644)
        done = rabbitmqctl("import_definitions", file.name)
        assert done.returncode == 0, done.stdout + done.stderr
        # The import may complete after the command returns: wait for its last part, the policies.
        deadline = time.monotonic() + 30
        while not (_vhost_exists(scratch["vhost"]) and table("list_policies", "-p", scratch["vhost"])):
            assert time.monotonic() < deadline, "the definitions were not imported within 30 s"
            time.sleep(0.5)
    granted = {(r["user"], r["configure"], r["write"], r["read"])
               for r in table("list_permissions", "-p", scratch["vhost"])}
    assert (scratch["user"], ".*", ".*", ".*") in granted
    [imported] = [p for p in table("list_policies", "-p", scratch["vhost"]) if p["name"] == policy["name"]]
    assert imported["pattern"] == policy["pattern"]
    assert imported["apply-to"] == policy["apply-to"]
    value = imported["definition"]
    value = json.loads(value) if isinstance(value, str) else value
    assert value["delivery-limit"] == (OLD_DELIVERY_LIMIT if old_broker else -1)

    # The services' AMQP_URI, with the scratch credentials and the local broker for the operator's.
    host, port = broker_address(AMQP_URI)
    uri = (uri_template.replace("{{ .username | urlquery }}", quote(scratch["user"], safe=""))
           .replace("{{ .password | urlquery }}", quote(scratch["password"], safe=""))
           .replace("supervision-rabbitmq:5672", f"{host}:{port}")
           .removesuffix(shipped_vhost) + quote(scratch["vhost"], safe=""))
    ours = [queue for queues in service_worker_queues().values() for queue in queues]
    assert ours
    with Connection(uri, connect_timeout=5) as connection:
        channel = connection.channel()
        for name in (ours[0], ours[-1]):
            # Declared quorum explicitly: the shipped broker's default_queue_type makes them so.
            Queue(name, durable=True, queue_arguments={"x-queue-type": "quorum"}).bind(channel).declare()
        channel.close()

    # The policy that applies to each: ours (3.10's list_queues has no effective_policy_definition
    # column; the policy's definition is checked above).
    rows = {r["name"]: r for r in table("list_queues", "-p", scratch["vhost"], "name", "type", "policy")}
    for name in (ours[0], ours[-1]):
        assert rows[name]["type"] == "quorum"
        assert rows[name]["policy"] == policy["name"], rows
