"""`make k8s-check`'s broker namespace rules on small manifests: an EVENT_NAMESPACE the services
refuse, an in-cluster broker on the shared default vhost, a secret script pointing elsewhere."""

from __future__ import annotations

import pytest

from tools.k8s.namespaces import check_broker_namespaces


def config_map(name: str, data: dict) -> dict:
    return {"kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def broker(vhost_line: str) -> dict:
    return config_map("rabbitmq-config-abc", {"20-supervision.conf": f"listeners.tcp.default = 5672\n{vhost_line}\n"})


def script(tmp_path, uri: str):
    (tmp_path / "create-secrets.sh").write_text(f'create supervision-amqp --from-literal=AMQP_URI="{uri}"\n')
    return tmp_path


def test_a_broker_with_its_own_vhost_and_a_matching_script_passes(tmp_path):
    overlay = script(tmp_path, "amqp://$(value u):$(value p)@rabbitmq:5672/supervision_dev")
    assert check_broker_namespaces("dev", [broker("default_vhost = supervision_dev")], overlay) == []


@pytest.mark.parametrize("line", ["", "default_vhost = /"])
def test_an_in_cluster_broker_on_the_default_vhost_is_refused(tmp_path, line):
    problems = check_broker_namespaces("dev", [broker(line)], tmp_path)
    assert len(problems) == 1 and "shared default vhost" in problems[0]


def test_a_script_writing_another_vhost_is_refused(tmp_path):
    overlay = script(tmp_path, "amqp://u:p@rabbitmq:5672/")
    problems = check_broker_namespaces("dev", [broker("default_vhost = supervision_dev")], overlay)
    assert len(problems) == 1 and "vhost '/'" in problems[0]


@pytest.mark.parametrize("namespace", ["has space", "-leading", "x" * 33])
def test_an_event_namespace_the_services_refuse_is_reported(tmp_path, namespace):
    problems = check_broker_namespaces("prod", [config_map("supervision-config-x", {"EVENT_NAMESPACE": namespace})],
                                       tmp_path)
    assert len(problems) == 1 and "EVENT_NAMESPACE" in problems[0]


def test_the_rendered_overlays_pass(rendered_overlays):
    from tools.k8s_check import OVERLAYS

    for overlay, docs in rendered_overlays.items():
        assert check_broker_namespaces(overlay, docs, OVERLAYS / overlay) == []
