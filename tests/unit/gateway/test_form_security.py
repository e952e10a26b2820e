"""The public form's defences in isolation: which address is the client, form tokens, the settings,
and what happens when the Redis the limit is shared through is gone (the shared limit itself, on a
real Redis: tests/integration/test_form_limit_redis.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from multidict import CIMultiDict
from prometheus_client import REGISTRY

from services.common.config import ConfigError
from services.common.errors import InvalidArgument
from services.gateway.config import GatewayConfig
from services.gateway.domain.complaint_form import FormTokens, forwarded_request_id
from services.gateway.http_api.security import FormLimiter, TokenBuckets, client_address

PROXIES = GatewayConfig.from_env({"COMPLAINT_FORM_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1/32"}).form_trusted_proxies


def request(remote: str, *forwarded: str):
    return SimpleNamespace(remote=remote, headers=CIMultiDict([("X-Forwarded-For", f) for f in forwarded]))


@pytest.mark.parametrize(("remote", "forwarded", "client"), [
    ("198.51.100.1", ["1.2.3.4"], "198.51.100.1"),  # not a proxy: its header is the client's own words
    ("10.1.2.3", ["1.2.3.4, 203.0.113.7"], "203.0.113.7"),  # the hop the Ingress added, not the client's
    ("10.1.2.3", ["1.2.3.4, 203.0.113.7, 10.9.9.9"], "203.0.113.7"),  # two proxies
    ("10.1.2.3", ["1.2.3.4", "203.0.113.7"], "203.0.113.7"),  # the header twice: one list
    ("10.1.2.3", [], "10.1.2.3"),  # nothing forwarded: the proxy itself
    ("10.1.2.3", ["10.0.0.5"], "10.0.0.5"),  # every hop trusted: the farthest
    ("10.1.2.3", ["203.0.113.7, garbage"], "10.1.2.3"),  # not an address: the proxy answers for it
    ("10.1.2.3", ["203.0.113.7:5123"], "203.0.113.7"),
    ("10.1.2.3", ["2001:db8:1:2:3:4:5:6"], "2001:db8:1:2::/64"),  # one subscriber's whole /64
    ("10.1.2.3", ["[2001:db8:1:2::9]:443"], "2001:db8:1:2::/64"),
    ("::ffff:10.1.2.3", ["203.0.113.7"], "203.0.113.7"),  # a v4 proxy seen through a v6 socket
])
def test_the_client_is_the_nearest_hop_no_trusted_proxy_vouches_for(remote, forwarded, client):
    assert client_address(request(remote, *forwarded), PROXIES) == client


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address(request("127.0.0.1", "203.0.113.7"), ()) == "127.0.0.1"


def test_a_form_token_is_good_for_its_lifetime_with_its_key_only():
    now = [1_800_000_000.0]
    tokens = FormTokens(b"k" * 32, clock=lambda: now[0])
    token = tokens.issue()["token"]
    assert len(token) <= 64
    tokens.check(token)
    with pytest.raises(InvalidArgument, match="表单令牌"):
        FormTokens(b"x" * 32, clock=lambda: now[0]).check(token)  # another key: another gateway's secret
    now[0] += 24 * 3600 + 1
    with pytest.raises(InvalidArgument, match="已过期"):
        tokens.check(token)
    assert forwarded_request_id(token) == forwarded_request_id(token) != forwarded_request_id(tokens.issue()["token"])


@pytest.mark.parametrize(("env", "name"), [
    ({"COMPLAINT_FORM_TRUST_FORWARDED": "true"}, "COMPLAINT_FORM_TRUSTED_PROXIES"),
    ({"COMPLAINT_FORM_TRUSTED_PROXIES": "10.0.0.0/33"}, "COMPLAINT_FORM_TRUSTED_PROXIES"),
    ({"COMPLAINT_FORM_DISTRICT_PER_MINUTE": "0"}, "COMPLAINT_FORM_DISTRICT_PER_MINUTE"),
    ({"COMPLAINT_FORM_REDIS_URL": "127.0.0.1:6379"}, "COMPLAINT_FORM_REDIS_URL"),
    ({"COMPLAINT_FORM_SECRET": "short"}, "COMPLAINT_FORM_SECRET"),
])
def test_a_bad_or_retired_setting_stops_the_gateway_naming_the_variable(env, name):
    with pytest.raises(ConfigError, match=name):
        GatewayConfig.from_env(env)


def test_buckets_are_taken_together_or_not_at_all():
    now = [0.0]
    buckets = TokenBuckets(clock=lambda: now[0])
    assert buckets.take([("client:a", 1.0, 1.0), ("district", 1.0, 2.0)]) == 0
    # a's bucket is empty: the district's token is not spent on a refused submission.
    assert buckets.take([("client:a", 1.0, 1.0), ("district", 1.0, 2.0)]) == pytest.approx(1.0)
    assert buckets.take([("client:b", 1.0, 1.0), ("district", 1.0, 2.0)]) == 0
    assert buckets.take([("client:c", 1.0, 1.0), ("district", 1.0, 2.0)]) == pytest.approx(1.0)


def fallbacks() -> float:
    return REGISTRY.get_sample_value("supervision_gateway_form_limit_fallbacks_total") or 0.0


def test_redis_being_unreachable_falls_back_to_this_process_limit():
    limiter = FormLimiter(per_minute=1, burst=2, district_per_minute=100, redis_url="redis://127.0.0.1:1/0")
    before = fallbacks()
    assert [limiter.allow("203.0.113.7") == 0 for _ in range(3)] == [True, True, False]
    assert fallbacks() == before + 1  # asked once; not again until REDIS_RETRY_SECONDS have passed
    limiter.close()
