"""`python -m services.monolith --grpc-port SERVICE=PORT`: what it accepts, what it refuses, and where
the moved services' indicator sources are then looked for."""

from __future__ import annotations

import pytest

from services import monolith
from services.common import registry
from services.common.sources import parse_sources


def test_ports_move_per_service_and_the_rest_keep_the_registry_s():
    assert monolith.grpc_ports([]) == {}
    assert monolith.grpc_ports(["--grpc-port", "complaints=21053", "--grpc-port", "gateway=21057"]) == {
        "complaints": 21053, "gateway": 21057}


@pytest.mark.parametrize("option", ["nobody=21000", "complaints", "complaints=", "complaints=port",
                                    "complaints=0", "complaints=65536", "complaints=-1"])
def test_a_bad_port_stops_with_usage_naming_the_form(option, capsys):
    with pytest.raises(SystemExit) as stopped:
        monolith.grpc_ports(["--grpc-port", option])
    assert stopped.value.code == 2
    assert "expected SERVICE=PORT" in capsys.readouterr().err


def test_the_moved_sources_are_asked_where_they_serve():
    sources = parse_sources(monolith.moved_sources({"complaints": 21053, "gateway": 21057}))
    assert sources["complaints"] == "localhost:21053"
    assert sources["command_center"] == f"localhost:{registry.spec('command_center').monolith_port}"
    assert set(sources) == {entry.name for entry in registry.sources()}  # the gateway is no source
