"""The citizen's status lookup and the dashboard's complaint categories through the gateway's real
HTTP server (AUTH_MODE=jwt, complaints behind it): state and dates only, the same 404 for every miss,
lookups limited per client in buckets of their own, a number locked after too many misses from any
addresses (in memory here, and on the real Redis the replicas share), and the categories scoped to
the caller."""

from __future__ import annotations

import math
import threading
import time
import urllib.parse
import uuid

import pytest
from prometheus_client import REGISTRY

from services.common.auth import issue_service_token, issue_token
from services.common.config import ConfigError
from services.gateway.config import GatewayConfig
from services.gateway.http_api.complaint_status import (
    NO_MATCH,
    NUMBER_LOCKED,
    LookupLockoutSettings,
    StatusLookup,
    number_lockout,
)
from services.gateway.http_api.security import FormLimiter
from tests.api.gateway.support import District
from tests.conftest import make_settings
from tests.support import REDIS_URL, redis_key_prefix

SECRET = "gateway-status-test-secret-of-32-bytes"
SYSTEM = [("authorization", f"Bearer {issue_service_token(SECRET, subject='test')}")]
LEADER = issue_token(SECRET, subject="leader", roles=["bureau_leader"])
OFFICER_MH01 = issue_token(SECRET, subject="officer-mh01", roles=["officer"], office_id="MH01")
NAME, PHONE = "欧阳娜娜", "13912345678"
FORM = {"kind": "complaint", "complainant": {"name": NAME, "phone": PHONE},
        "respondent": {"name": "某某超市", "address": "莘庄镇莘松路1号", "street": "莘庄镇"},
        "category": "食品安全", "description": "购买的牛奶已过保质期"}
BURST = 6
MAX_MISSES, WINDOW_SECONDS = 4, 900


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    base = tmp_path_factory.mktemp("complaint-status")
    # 127.0.0.1 is a trusted proxy: a test is many citizens by their X-Forwarded-For.
    running = District(base, f"sqlite:///{base / 'gateway.db'}",
                       make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET), services=("command_center", "complaints"),
                       gateway_env={"COMPLAINT_FORM_BURST": str(BURST), "COMPLAINT_FORM_RATE_PER_MINUTE": "1",
                                    "COMPLAINT_FORM_TRUSTED_PROXIES": "127.0.0.1/32",
                                    "COMPLAINT_FORM_DISTRICT_PER_MINUTE": "600",
                                    "COMPLAINT_STATUS_MAX_MISSES": str(MAX_MISSES),
                                    "COMPLAINT_STATUS_MISS_WINDOW_SECONDS": str(WINDOW_SECONDS)})
    running.add_offices(("MH01", "MH02"), metadata=SYSTEM)
    yield running
    running.close()


def status_path(number: str, digits: str) -> str:
    return f"/api/v1/public/complaints/{urllib.parse.quote(number)}/status?phone_last4={digits}"


def test_the_status_shows_state_and_dates_and_every_miss_the_same_404_until_the_client_is_limited(district):
    created = district.request("POST", "/api/v1/complaints", FORM)
    assert created.status == 201, created.body
    number = created.body["id"]

    found = district.get(status_path(number, PHONE[-4:]))
    assert found.status == 200 and found.headers["cache-control"] == "no-store"
    assert (found.body["number"], found.body["state"], found.body["state_name"]) == (number, "RECEIVED", "已登记")
    [clock] = found.body["deadlines"]
    assert (clock["kind"], clock["status"], clock["due_date"]) == ("ACCEPTANCE", "RUNNING",
                                                                   created.body["acceptance_due"])
    assert clock["provisional_rule"] is True  # Order 121's figures are marked unconfirmed
    assert NAME not in str(found.body) and PHONE not in str(found.body) and "MH01" not in str(found.body)

    misses = [district.get(status_path(number, "0000")), district.get(status_path("20260101-000000000-abcdef",
                                                                                  PHONE[-4:]))]
    assert [(m.status, m.body["error"]["message"]) for m in misses] == [(404, NO_MATCH)] * 2
    bad = district.get(status_path(number, "12"))
    assert bad.status == 400 and {d["field"] for d in bad.body["error"]["details"]} == {"phone_last4"}

    # Four lookups so far; the burst allows BURST, then the client waits. The form keeps its own budget.
    statuses = [district.get(status_path(number, PHONE[-4:])).status for _ in range(BURST - 4 + 1)]
    assert statuses == [200] * (BURST - 4) + [429]
    limited = district.get(status_path(number, PHONE[-4:]))
    assert limited.status == 429 and limited.body["error"]["message"] == "查询过于频繁，请稍后再试"
    assert int(limited.headers["retry-after"]) >= 1
    assert district.request("POST", "/api/v1/complaints", {**FORM, "description": "另一件"}).status == 201


def test_the_categories_are_counted_within_the_callers_scope(district):
    district.request("POST", "/api/v1/complaints", {**FORM, "category": "价格"})
    district.settle()
    counts = district.get("/api/v1/complaint-categories", token=LEADER)
    assert counts.status == 200, counts.body
    district_counts = {row["code"]: row["count"] for row in counts.body["district"]}
    assert district_counts["S08"] >= 1 and district_counts["G01"] >= 1
    assert counts.body["tree_id"] == "cn12315-2026"
    other = district.get("/api/v1/complaint-categories?office_id=MH02", token=OFFICER_MH01)
    assert other.status == 403
    own = district.get("/api/v1/complaint-categories", token=OFFICER_MH01)
    assert own.status == 200 and {row["office_id"] for row in own.body["by_office"]} == {"MH01"}
    bad = district.get("/api/v1/complaint-categories?from=2026-13-01", token=LEADER)
    assert bad.status == 400 and bad.body["error"]["details"][0]["field"] == "from"
    assert district.get("/api/v1/complaint-categories").status == 401


class MovingClock:
    """Wall-clock seconds the test moves (the lockout's injectable clock)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))  # whole seconds: moving it adds exactly

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(district) -> MovingClock:
    """The running gateway's per-number lockout, on a clock of the test's."""
    [lookup] = {route.handler.__self__ for route in district.gateway.http.app.router.routes()  # GET and HEAD
                if isinstance(getattr(route.handler, "__self__", None), StatusLookup)}
    moving = MovingClock()
    lookup.lockout.clock = moving
    return moving


ADDRESSES = (f"203.0.113.{n}" for n in range(1, 255))  # a fresh citizen for every lookup


def lookup_from_anywhere(district, number: str, digits: str):
    return district.get(status_path(number, digits), headers={"X-Forwarded-For": next(ADDRESSES)})


def file_complaint(district) -> str:
    created = district.request("POST", "/api/v1/complaints", {**FORM, "description": uuid.uuid4().hex},
                               headers={"X-Forwarded-For": next(ADDRESSES)})
    assert created.status == 201, created.body
    return created.body["id"]


def wrong_digits(n: int) -> str:
    digits = f"{n:04d}"
    return digits if digits != PHONE[-4:] else "9999"


def test_misses_from_many_addresses_lock_the_number_for_everyone_until_its_window_ends(district, clock):
    number = file_complaint(district)
    misses = [lookup_from_anywhere(district, number, wrong_digits(n)) for n in range(MAX_MISSES)]
    assert [(m.status, m.body["error"]["message"]) for m in misses] == [(404, NO_MATCH)] * MAX_MISSES

    for digits in (PHONE[-4:], wrong_digits(MAX_MISSES)):  # the right digits too, from a new address
        locked = lookup_from_anywhere(district, number, digits)
        assert (locked.status, locked.headers["retry-after"]) == (429, str(math.ceil(WINDOW_SECONDS)))
        assert locked.body["error"]["message"].startswith(NUMBER_LOCKED)
        assert f"请{math.ceil(WINDOW_SECONDS / 60)}分钟后再试" in locked.body["error"]["message"]
    clock.now += WINDOW_SECONDS - 1
    still = lookup_from_anywhere(district, number, PHONE[-4:])
    assert (still.status, still.headers["retry-after"]) == (429, "1")
    clock.now += 1
    opened = lookup_from_anywhere(district, number, PHONE[-4:])
    assert (opened.status, opened.body["number"]) == (200, number)


def test_the_right_digits_neither_count_nor_reset_and_an_unknown_number_locks_alike(district, clock):
    number = file_complaint(district)
    for n in range(MAX_MISSES - 1):
        assert lookup_from_anywhere(district, number, wrong_digits(n)).status == 404
    assert [lookup_from_anywhere(district, number, PHONE[-4:]).status for _ in range(3)] == [200] * 3
    assert lookup_from_anywhere(district, number, wrong_digits(MAX_MISSES)).status == 404  # the last allowed
    known_locked = lookup_from_anywhere(district, number, PHONE[-4:])
    assert known_locked.status == 429

    unknown = f"20991231-000000000-{uuid.uuid4().hex[:6]}"
    for n in range(MAX_MISSES):
        assert lookup_from_anywhere(district, unknown, wrong_digits(n)).status == 404
    unknown_locked = lookup_from_anywhere(district, unknown, PHONE[-4:])
    assert (unknown_locked.status, unknown_locked.body) == (429, known_locked.body)
    assert unknown_locked.headers["retry-after"] == known_locked.headers["retry-after"]


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the local Redis, removed afterwards."""
    with redis_key_prefix() as prefix:
        yield prefix


def test_replicas_sharing_redis_count_the_misses_of_a_number_together(redis_prefix):
    moving, settings = MovingClock(), LookupLockoutSettings(max_misses=3, window_seconds=60)
    limiters = [FormLimiter(per_minute=1, burst=1, district_per_minute=1, redis_url=REDIS_URL, prefix=redis_prefix)
                for _ in range(2)]
    replicas = [number_lockout(limiter, settings) for limiter in limiters]
    for replica in replicas:
        replica.clock = moving
    number = "20261207-120000000-a1b2c3"

    assert [replicas[n % 2].reserve(number) for n in range(3)] == [0.0] * 3  # three misses, either replica
    assert [replica.reserve(number) for replica in replicas] == [pytest.approx(60.0, abs=1e-3)] * 2
    moving.now += 45
    assert replicas[1].reserve(number) == pytest.approx(15.0, abs=1e-3)
    moving.now += 16
    assert replicas[0].reserve(number) == 0.0  # a new window: a lookup with the right digits, given back
    replicas[0].give_back(number)
    assert [replicas[n % 2].reserve(number) for n in range(4)] == [0.0, 0.0, 0.0, pytest.approx(60.0, abs=1e-3)]

    other = "20261207-120000001-d4e5f6"  # many lookups at once: only the allowed number pass
    answers: list[float] = []
    threads = [threading.Thread(target=lambda r=replicas[n % 2]: answers.append(r.reserve(other))) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers)[:4] == [0.0, 0.0, 0.0, pytest.approx(60.0, abs=1e-3)]
    for limiter in limiters:
        limiter.close()


def test_without_redis_each_gateway_still_locks_a_number_and_counts_the_fallback():
    limiter = FormLimiter(per_minute=1, burst=1, district_per_minute=1, redis_url="redis://127.0.0.1:1/0")
    lockout = number_lockout(limiter, LookupLockoutSettings(max_misses=2, window_seconds=30))
    before = REGISTRY.get_sample_value("supervision_gateway_form_limit_fallbacks_total") or 0.0
    assert [lockout.reserve("20261207-x") == 0 for _ in range(3)] == [True, True, False]
    assert REGISTRY.get_sample_value("supervision_gateway_form_limit_fallbacks_total") == before + 1
    limiter.close()


def test_the_lockout_settings_are_read_and_checked_at_start():
    config = GatewayConfig.from_env({"COMPLAINT_STATUS_MAX_MISSES": "7",
                                     "COMPLAINT_STATUS_MISS_WINDOW_SECONDS": "3600"})
    assert (config.status_max_misses, config.status_miss_window_seconds) == (7, 3600.0)
    for name, value in (("COMPLAINT_STATUS_MAX_MISSES", "0"), ("COMPLAINT_STATUS_MAX_MISSES", "ten"),
                        ("COMPLAINT_STATUS_MISS_WINDOW_SECONDS", "-5")):
        with pytest.raises(ConfigError, match=name):
            GatewayConfig.from_env({name: value})
