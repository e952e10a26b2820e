"""Broker namespace rules: every environment's events live apart from every other's on a broker.

The vhost is part of AMQP_URI, a Secret the repository never holds, so what can be checked offline is
what the repository does hold: an EVENT_NAMESPACE in an overlay's configuration must be one the
services accept (else every process exits 2 at start), and a broker the manifests run themselves
(the dev overlay's in-cluster RabbitMQ) must create a vhost of its own that the overlay's secret
script puts into AMQP_URI — never RabbitMQ's shared default vhost `/`.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from services.common.config import ConfigError, event_namespace_setting

# The in-cluster broker's configuration file, as the in-cluster-backing component generates it.
RABBITMQ_CONF_KEY = re.compile(r"\.conf$")
DEFAULT_VHOST = re.compile(r"^\s*default_vhost\s*=\s*(\S+)\s*$", re.MULTILINE)
# The AMQP_URI a secret script writes, quoted: amqp://<user>:<password>@host:port/<vhost>, where user
# and password may be shell substitutions holding spaces.
SCRIPT_AMQP_URI = re.compile(r'AMQP_URI="(amqps?://[^"]+)"')


def check_broker_namespaces(overlay: str, docs: list[dict], overlay_dir: Path) -> list[str]:
    """EVENT_NAMESPACE values the services accept; an in-cluster broker with a vhost of its own that the
    overlay's secret script (create-secrets.sh) uses in AMQP_URI."""
    problems = []
    for doc in docs:
        if doc["kind"] != "ConfigMap":
            continue
        data = doc.get("data") or {}
        if "EVENT_NAMESPACE" in data:
            try:
                event_namespace_setting({"EVENT_NAMESPACE": data["EVENT_NAMESPACE"]})
            except ConfigError as error:
                problems.append(f"{overlay}: ConfigMap {doc['metadata']['name']}: {error}")
    broker_vhosts = in_cluster_broker_vhosts(docs)
    for name, vhost in broker_vhosts.items():
        if vhost in (None, "/"):
            problems.append(f"{overlay}: ConfigMap {name} runs RabbitMQ with the shared default vhost /: set "
                            "default_vhost to a vhost of this environment's own")
    script = overlay_dir / "create-secrets.sh"
    if broker_vhosts and script.exists():
        for uri in SCRIPT_AMQP_URI.findall(script.read_text(encoding="utf-8")):
            vhost = unquote(uri.rsplit("@", 1)[-1].partition("/")[2]) or "/"
            if vhost not in broker_vhosts.values():
                problems.append(f"{overlay}: {script.name} writes AMQP_URI with vhost {vhost!r}, but the in-cluster "
                                f"broker makes {sorted(v for v in broker_vhosts.values() if v)}")
    return problems


def in_cluster_broker_vhosts(docs: list[dict]) -> dict[str, str | None]:
    """Per ConfigMap holding a RabbitMQ configuration file: the default_vhost it sets (None: not set)."""
    found: dict[str, str | None] = {}
    for doc in docs:
        if doc["kind"] != "ConfigMap":
            continue
        for key, value in (doc.get("data") or {}).items():
            if RABBITMQ_CONF_KEY.search(key) and "listeners.tcp" in value:
                match = DEFAULT_VHOST.search(value)
                found[doc["metadata"]["name"]] = match.group(1) if match else None
    return found
