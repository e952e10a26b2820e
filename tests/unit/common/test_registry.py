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


def test_the_house_rules_cover_every_service_of_the_registry():
    """make lint's tools list the services too (pyproject.toml): a service added to the registry and
    not to them would escape the independence contract, the domain contract and the strict types."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["type"] + ":" + str(c.get("source_modules")): c for c in config["tool"]["importlinter"]["contracts"]}
    independent = set(contracts["independence:None"]["modules"])
    common_forbidden = set(contracts["forbidden:['services.common']"]["forbidden_modules"])
    domain_forbidden = set(contracts["forbidden:['services.*.domain']"]["forbidden_modules"])
    strict = set(config["tool"]["mypy"]["files"])
    for entry in registry.SERVICES:
        assert entry.package in independent, entry.name
        assert entry.package in common_forbidden, entry.name
        assert f"{entry.package}.api" in domain_forbidden, entry.name
        assert f"{entry.package.replace('.', '/')}/domain" in strict, entry.name
