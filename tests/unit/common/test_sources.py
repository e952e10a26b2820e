"""INDICATOR_SOURCES: which services to ask for indicators, and where."""

from __future__ import annotations

import pytest

from services.common.config import ConfigError
from services.common.sources import SOURCES, parse_sources, sources_from_env


def test_unset_means_every_service_at_its_monolithic_port():
    sources = parse_sources(None)
    assert list(sources) == list(SOURCES) == ["command_center", "mobile_enforcement", "complaints", "emergency",
                                              "facilities", "assessment"]
    assert sources["command_center"] == "localhost:50051" and sources["assessment"] == "localhost:50056"


def test_a_set_value_lists_exactly_the_sources_in_catalogue_order():
    sources = parse_sources(" facilities=10.0.0.5:9000 , command_center=cc.svc.cluster.local:50051,"
                            "emergency=[::1]:50054,")
    assert sources == {"command_center": "cc.svc.cluster.local:50051", "emergency": "[::1]:50054",
                       "facilities": "10.0.0.5:9000"}
    assert list(sources) == ["command_center", "emergency", "facilities"]


def test_an_empty_value_means_no_sources():
    assert parse_sources("") == {}


def test_read_from_the_environment():
    assert sources_from_env({"INDICATOR_SOURCES": "complaints=gw:1"}) == {"complaints": "gw:1"}
    assert sources_from_env({}) == parse_sources(None)


@pytest.mark.parametrize(("raw", "why"), [
    ("gateway=localhost:50057", "unknown service 'gateway'"),
    ("command_center", "has no '='"),
    ("command_center=localhost", "is not host:port"),
    ("command_center=localhost:0", "is not host:port"),
    ("command_center=localhost:70000", "is not host:port"),
    ("command_center=:50051", "is not host:port"),
    ("command_center=bad host:50051", "is not host:port"),
    ("command_center=a:1,command_center=b:2", "listed twice"),
    ("command_center=dns:///:50051", "is not host:port"),
    ("command_center=dns://resolver/cc:50051", "is not host:port"),
    ("command_center=ipv4:cc.svc:50051", "is not host:port"),
    ("command_center=ipv4:10.0.0.1:50051,cc.svc:50051", "is not host:port"),
    ("command_center=ipv6:::1:50051", "is not host:port"),
    ("command_center=dns:///cc:50051,10.0.0.2:50051", "has no '='"),  # only an address list continues
])
def test_a_bad_value_names_the_variable_and_the_form(raw, why):
    with pytest.raises(ConfigError) as error:
        parse_sources(raw)
    message = str(error.value)
    assert "INDICATOR_SOURCES" in message and "expected name=host:port" in message and why in message


def test_a_headless_service_and_address_lists_are_targets_too():
    sources = parse_sources("command_center=dns:///command-center-api-headless:50051,"
                            "complaints=ipv4:10.0.0.1:50053, 10.0.0.2:50053,emergency=ipv6:[::1]:50054,[fd00::2]:50054,"
                            "facilities=ipv4:10.0.0.5:50055")
    assert sources == {"command_center": "dns:///command-center-api-headless:50051",
                       "complaints": "ipv4:10.0.0.1:50053,10.0.0.2:50053",
                       "emergency": "ipv6:[::1]:50054,[fd00::2]:50054", "facilities": "ipv4:10.0.0.5:50055"}

