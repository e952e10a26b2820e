"""services.common.registry: the one list of services, and what it says about each."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from services.common import registry

ROOT = Path(__file__).resolve().parents[3]


def test_the_services_in_start_order_with_their_monolithic_ports():
    assert [(s.name, s.monolith_port) for s in registry.SERVICES] == [
        ("command_center", 50051), ("mobile_enforcement", 50052), ("complaints", 50053), ("emergency", 50054),
        ("facilities", 50055), ("assessment", 50056), ("gateway", 50057)]
    assert registry.names() == [s.name for s in registry.SERVICES]


def test_the_indicator_sources_are_every_service_but_the_gateway():
    assert [s.name for s in registry.sources()] == registry.names()[:-1]


def test_an_unknown_service_is_named_with_the_known_ones():
    with pytest.raises(KeyError, match="unknown service 'nope'; known: command_center, mobile_enforcement"):
        registry.spec("nope")


@pytest.mark.parametrize("name", registry.names())
def test_each_entry_names_the_service_s_own_package(name):
    entry = registry.spec(name)
    service = importlib.import_module(f"{entry.package}.service")
    assert name == service.NAME
    assert registry.builder(name) is service.build
    # The worker module is imported only in an eventlet-patched process: its file is enough here.
    worker = ROOT / Path(*entry.worker_module.split(".")).with_suffix(".py")
    assert worker.is_file() == entry.has_worker
