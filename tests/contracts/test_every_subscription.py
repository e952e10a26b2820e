"""Every subscription of every service had an event applied by a contract test in this session: a
consumer nobody tests with its publisher's own event fails here, by name."""

from __future__ import annotations

import importlib

import pytest

from services.common import registry
from services.common.db import Store
from tests.conftest import make_settings
from tests.contracts.conftest import APPLIED_SUBSCRIPTIONS, COVERAGE_TEST, HERE


def subscriptions(tmp_path) -> set[tuple[str, str]]:
    found = set()
    for name in registry.names():
        store = Store(f"sqlite:///{tmp_path / (name + '.db')}")
        runtime = importlib.import_module(f"services.{name}.service").build(make_settings(), store)
        found |= {(name, subscription.name) for subscription in runtime.subscriptions}
        store.dispose()
    return found


def test_every_subscription_is_exercised_by_a_contract_test(request, tmp_path):
    ran = {item.path.name for item in request.session.items}
    contract_files = {path.name for path in HERE.glob("test_*.py")} - {COVERAGE_TEST}
    if not contract_files <= ran:
        pytest.skip("only part of tests/contracts ran: coverage is judged on the whole directory")

    missing = sorted(subscriptions(tmp_path) - APPLIED_SUBSCRIPTIONS)

    assert not missing, f"subscriptions no contract test exercised: {missing}"
