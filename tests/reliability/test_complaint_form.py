"""The public complaint form across real processes: two gateway replicas behind one (simulated)
Ingress, sharing the form's limit through Redis and the form tokens through COMPLAINT_FORM_SECRET,
in front of one complaints process on PostgreSQL. Attacks: a limit multiplied by the replicas, two
citizens choosing one request id, a token replayed with another form, a body nested too deep; and
Redis going away, which must cost the limit's sharing, never the form."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.reliability import stats
from tests.reliability.cluster import migrate, query, wait_until
from tests.reliability.processes import indicator_sources
from tests.support import REDIS_URL, free_port, redis_key_prefix

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(300)]
SECRET = "complaint-form-test-secret-" + "x" * 16
FORM = {"kind": "complaint", "complainant": {"name": "欧阳娜娜", "phone": "13912345678"},
        "respondent": {"name": "某某超市", "address": "莘庄镇莘松路1号", "street": "莘庄镇"},
        "category": "食品安全", "description": "购买的牛奶已过保质期"}


def call(port: int, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                      headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=20) as reply:
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw.startswith(b"{") else {"raw": raw.decode("utf-8", "replace")}


def post(port: int, form: dict, client: str) -> tuple[int, dict]:
    return call(port, "POST", "/api/v1/complaints", json.dumps(form, ensure_ascii=False).encode(),
                {"X-Forwarded-For": client})


def token(port: int) -> str:
    status, body = call(port, "GET", "/api/v1/complaints/form-token")
    assert status == 200, body
    return body["token"]


@pytest.fixture(scope="module")
def redis_prefix():
    with redis_key_prefix() as prefix:
        yield prefix


class Replicas:
    """complaints and two gateways, as in production behind an Ingress at 127.0.0.1."""

    def __init__(self, cluster, databases, redis_prefix: str):
        self.cluster = cluster
        self.complaints_url, gateway_url = databases.create("complaints"), databases.create("gateway")
        with ThreadPoolExecutor(2) as pool:  # each takes seconds: a process importing a service
            list(pool.map(migrate, ["complaints", "gateway"], [self.complaints_url, gateway_url]))
        complaints_port = free_port()
        self.complaints = cluster.serve("complaints", self.complaints_url, grpc_port=complaints_port, wait=False)
        self.env = {**indicator_sources({"complaints": complaints_port}),
                    "COMPLAINT_FORM_REDIS_URL": REDIS_URL, "COMPLAINT_FORM_REDIS_PREFIX": redis_prefix,
                    "COMPLAINT_FORM_SECRET": SECRET, "COMPLAINT_FORM_TRUSTED_PROXIES": "127.0.0.1/32",
                    "COMPLAINT_FORM_BURST": "3", "COMPLAINT_FORM_RATE_PER_MINUTE": "1",
                    "COMPLAINT_FORM_DISTRICT_PER_MINUTE": "600"}
        self.gateway_url = gateway_url
        self.ports = self.start_gateways(2, **self.env)
        self.complaints.wait_serving()

    def start_gateways(self, count: int, **env: str) -> list[int]:
        ports = [free_port() for _ in range(count)]
        started = [self.cluster.serve("gateway", self.gateway_url, HTTP_PORT=str(port), wait=False, **env)
                   for port in ports]
        for process, port in zip(started, ports, strict=True):
            process.wait_serving()
            wait_until(lambda port=port: call(port, "GET", "/healthz")[0] == 200, 60, "a gateway to serve HTTP")
        return ports

    def stored(self) -> dict[str, tuple[str, str]]:
        return {row[0]: (row[1], row[2]) for row in
                query(self.complaints_url, "SELECT id, respondent_name, description FROM complaints")}


@pytest.fixture(scope="module")
def replicas(postgres_admin_url, amqp_uri, redis_prefix, tmp_path_factory):
    from tests.reliability.cluster import Broker, Databases
    from tests.reliability.processes import Cluster

    databases = Databases(postgres_admin_url)
    with Broker(amqp_uri).vhost() as vhost:
        cluster = Cluster(tmp_path_factory.mktemp("complaint-form"), vhost)
        try:
            yield Replicas(cluster, databases, redis_prefix)
        finally:
            cluster.close()
            databases.drop_all()


def test_citizens_on_different_replicas_choosing_one_id_each_keep_their_own(replicas):
    one, two = replicas.ports
    first = {**FORM, "respondent": {**FORM["respondent"], "name": "甲超市"}, "description": "甲超市出售过期牛奶"}
    second = {**FORM, "respondent": {**FORM["respondent"], "name": "乙饭店"}, "description": "乙饭店后厨有老鼠"}
    receipts = []
    for port, form, client in ((one, first, "198.51.100.1"), (two, second, "198.51.100.2")):
        status, body = post(port, {**form, "request_id": "shared-id-1"}, client)
        if status == 400:  # as the page is told: fetch a token (from any replica) and send again
            assert "form-token" in json.dumps(body, ensure_ascii=False)
            status, body = post(port, {**form, "request_id": token(one)}, client)
        assert status == 201, body
        receipts.append(body)
    assert receipts[0]["id"] != receipts[1]["id"], "the second citizen got the first citizen's complaint"
    kept = replicas.stored()
    assert kept[receipts[0]["id"]] == ("甲超市", "甲超市出售过期牛奶")
    assert kept[receipts[1]["id"]] == ("乙饭店", "乙饭店后厨有老鼠")


def test_a_token_retried_on_another_replica_is_the_same_complaint_and_another_form_is_a_409(replicas):
    one, two = replicas.ports
    issued = token(two)
    form = {**FORM, "description": "重复提交的同一份投诉", "request_id": issued}
    first = post(one, form, "198.51.100.3")
    again = post(two, form, "198.51.100.4")
    assert first[0] == again[0] == 201 and first[1] == again[1], (first, again)
    before = replicas.stored()
    changed = post(one, {**form, "description": "借用他人令牌的另一份投诉"}, "198.51.100.5")
    assert changed[0] == 409 and "表单令牌" in changed[1]["error"]["message"], changed
    assert replicas.stored() == before


def test_a_body_nested_beyond_the_parser_is_a_400(replicas):
    raw = b"[" * 8000 + b"]" * 8000
    status, body = call(replicas.ports[0], "POST", "/api/v1/complaints", raw, {"X-Forwarded-For": "198.51.100.6"})
    assert status == 400 and body["error"]["message"] == "表单不是有效的 JSON", (status, body)
    assert all(p.alive for p in replicas.cluster.processes)


def test_two_replicas_sharing_redis_enforce_one_limit(replicas):
    one, two = replicas.ports
    refused = {**FORM, "kind": "praise"}  # complaints is never reached: nothing stored
    answers = [post((one, two)[n % 2], refused, "203.0.113.7")[0] for n in range(6)]
    stats.count("complaint form: submissions alternating between two replicas", len(answers))
    assert answers == [400, 400, 400, 429, 429, 429], "each replica kept a limit of its own"
    # Another citizen behind the same Ingress is not held back by the first.
    assert post(two, refused, "203.0.113.8")[0] == 400


def test_redis_being_unreachable_keeps_the_form_open_with_a_limit_per_replica(replicas):
    [port] = replicas.start_gateways(1, **{**replicas.env, "COMPLAINT_FORM_REDIS_URL": "redis://127.0.0.1:1/0"})
    answers = [post(port, {**FORM, "kind": "praise"}, "203.0.113.9")[0] for _ in range(4)]
    assert answers == [400, 400, 400, 429]
    status, body = call(port, "POST", "/api/v1/complaints", json.dumps(
        {**FORM, "request_id": token(port)}, ensure_ascii=False).encode(), {"X-Forwarded-For": "203.0.113.10"})
    assert status == 201, body
