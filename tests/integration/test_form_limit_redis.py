"""The public form's limit shared through the local Redis by two gateway replicas: one client and
the district are limited across both."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from services.gateway.http_api.security import FormLimiter
from tests.support import REDIS_URL, redis_key_prefix


def fallbacks() -> float:
    return REGISTRY.get_sample_value("supervision_gateway_form_limit_fallbacks_total") or 0.0


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the local Redis, removed afterwards."""
    with redis_key_prefix() as prefix:
        yield prefix


def test_replicas_sharing_redis_enforce_one_limit(redis_prefix):
    replicas = [FormLimiter(per_minute=1, burst=3, district_per_minute=5, redis_url=REDIS_URL, prefix=redis_prefix)
                for _ in range(2)]
    before = fallbacks()
    one_client = [replicas[n % 2].allow("203.0.113.7") == 0 for n in range(5)]
    assert one_client == [True, True, True, False, False]
    many_clients = [replicas[n % 2].allow(f"198.51.100.{n}") == 0 for n in range(4)]
    assert many_clients == [True, True, False, False]  # the district's five are used up
    assert fallbacks() == before
    for replica in replicas:
        replica.close()
