"""What the simulated people write is valid by the services' own checks (run for real here), and
the rapid-test catalogue the simulator carries matches the bureau's data the service reads."""

from __future__ import annotations

import random

import pytest

from services.common.credit_code import validate_uscc
from services.complaints.domain.personal_data import id_number_problem, phone_problem
from services.facilities.domain.standards import Standards
from simulator import content
from simulator.clock import shanghai_today


def test_credit_codes_identity_numbers_and_phones_pass_the_services_checks():
    rng = random.Random(1)
    for _ in range(2000):
        assert validate_uscc(content.uscc(rng, rng.choice(["91", "92"]))) is None
        assert id_number_problem(content.id_number(rng)) is None
        assert phone_problem(content.mobile_number(rng)) is None


def test_amounts_are_decimals_of_yuan_with_two_places():
    rng = random.Random(2)
    for _ in range(1000):
        whole, _, cents = content.amount_yuan(rng).partition(".")
        assert whole.isdigit() and len(cents) == 2 and float(f"{whole}.{cents}") <= 200_000


def test_the_rapid_test_catalogue_is_the_bureaus():
    rules = Standards.load().rapid_tests.in_force(shanghai_today())
    mirrored = {(t.item, t.method): t for t in content.RAPID_TESTS}
    published = {(item.code, method.code): method for item in rules.items.values()
                 for method in item.methods.values()}
    assert set(mirrored) <= set(published)
    for key, test in mirrored.items():
        method = published[key]
        assert (test.minimum, test.maximum, test.threshold) == (method.minimum, method.maximum, method.threshold), key
        assert test.positive == method.positive.lower(), key


@pytest.mark.parametrize("test", content.RAPID_TESTS, ids=lambda t: t.item)
def test_readings_are_judged_as_the_simulator_means_them(test):
    rules = Standards.load().rapid_tests.in_force(shanghai_today())
    method = rules.items[test.item].methods[test.method]
    rng = random.Random(3)
    for positive in (True, False):
        for _ in range(500):
            value = content.reading(rng, test, positive)
            assert method.minimum <= value <= method.maximum
            assert method.is_positive(value) is positive
            assert content.is_positive(test, value) is positive
