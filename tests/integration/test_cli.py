"""The operator command line (`supervision …`), run as the installed entry point in subprocesses
against a monolith started here on free ports with AUTH_MODE=jwt, and against its stores."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.type import date_pb2

from services import monolith
from services.cli.connection import MONOLITH_PORTS
from services.common import registry
from services.common.auth import issue_token
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from supervision.facilities.v1 import facilities_pb2, facilities_pb2_grpc
from tests.conftest import make_settings
from tests.support import free_port

SECRET = "command-line-test-secret-of-32-bytes"
LEADER = issue_token(SECRET, subject="cli-leader", roles=["bureau_leader"])
OFFICER = issue_token(SECRET, subject="cli-officer", roles=["officer"], office_id="CLI1")
SCRIPT = Path(sys.executable).with_name("supervision")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


class Center:
    """A monolith on free ports and the environment the command line needs to reach it."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in registry.names()}
        self.hosted = monolith.start(make_settings(DATA_DIR=str(data_dir), AUTH_MODE="jwt", JWT_SECRET=SECRET),
                                     host="127.0.0.1", ports=self.ports, seed_demo=False)
        self.addresses = ",".join(f"{name}=127.0.0.1:{port}" for name, port in self.ports.items())

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SUPERVISION_") and not k.endswith("DATABASE_URL") and k != "TRAIL_KEYS"}
        env.update(SUPERVISION_ADDRESSES=self.addresses, SUPERVISION_TOKEN=LEADER, DATA_DIR=str(self.data_dir),
                   LOG_FORMAT="text")
        env.update(extra)
        return env

    def settle(self) -> None:
        for service in self.hosted:
            service.settle()

    def stop(self) -> None:
        for service in self.hosted:
            service.stop(0.5)
            service.runtime.store.dispose()


@pytest.fixture(scope="module")
def center(tmp_path_factory):
    running = Center(tmp_path_factory.mktemp("cli-center"))
    yield running
    running.stop()


def cli(center: Center, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """Runs the installed `supervision` script, outside the checkout, as an operator would."""
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: install the project's scripts (pip install -e .)"
    return subprocess.run([str(SCRIPT), *args], env=center.env(**env), cwd=cwd or center.data_dir,
                          capture_output=True, text=True, timeout=120, check=False)


def cli_json(center: Center, *args: str, **env: str):
    done = cli(center, *args, "--json", **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def previous_month() -> str:
    first = dt.datetime.now(SHANGHAI).date().replace(day=1)
    last = first - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def test_the_default_ports_are_the_monolith_s():
    actual = {entry.name: entry.monolith_port for entry in registry.SERVICES}
    assert actual == MONOLITH_PORTS


def test_help_is_in_chinese_and_english(center):
    for args in ([], ["offices"], ["tasks", "list"], ["demo", "load"], ["periods", "close"], ["trails", "check"]):
        done = cli(center, *args, "--help")
        assert done.returncode == 0, done.stderr
        assert "用法 usage:" in done.stdout and "显示本帮助并退出 · show this help and exit" in done.stdout
    tasks_help = cli(center, "tasks", "list", "--help").stdout
    assert "只看逾期的 · only overdue tasks" in tasks_help


def test_an_office_is_created_shown_and_listed(center):
    created = cli_json(center, "offices", "create", "--id", "CLI1", "--name", "命令行市场监督管理所",
                       "--district", "闵行区", "--street", "命令行镇", "--street", "测试街道",
                       "--request-id", "create-cli1")
    assert created["id"] == "CLI1" and created["streets"] == ["命令行镇", "测试街道"]
    shown = cli_json(center, "offices", "show", "CLI1")
    assert shown["name"] == "命令行市场监督管理所" and shown["version"] == created["version"]
    assert "CLI1" in {o["id"] for o in cli_json(center, "offices", "list", "--district", "闵行区")}
    assert cli_json(center, "offices", "list", "--street", "没有这个镇") == []
    table = cli(center, "offices", "list")
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()[:2]
    assert header.startswith("编号 id") and row.startswith("CLI1") and "命令行镇、测试街道" in row
    # Columns line up although the names are Chinese (two terminal columns each).
    from services.cli.output import display_width
    assert display_width(header[:header.index("辖区 district")]) == display_width(row[:row.index("闵行区")])


def test_a_retried_create_returns_the_first_result_and_a_reused_request_id_is_refused(center):
    args = ["offices", "create", "--id", "CLI2", "--name", "二所", "--district", "闵行区", "--street", "重试镇",
            "--request-id", "cli-retry-1"]
    first, again = cli_json(center, *args), cli_json(center, *args)
    assert first == again
    reused = cli(center, "offices", "create", "--id", "CLI3", "--name", "三所", "--district", "闵行区",
                 "--street", "别的镇", "--request-id", "cli-retry-1")
    assert reused.returncode == 1 and "ALREADY_EXISTS" in reused.stderr
    assert "CLI3" not in {o["id"] for o in cli_json(center, "offices", "list")}


def test_a_refused_create_shows_the_status_and_every_field_violation_and_changes_nothing(center):
    before = cli_json(center, "offices", "list")
    done = cli(center, "offices", "create", "--id", "bad id!", "--name", " ", "--district", "闵行区",
               "--street", "坏镇")
    assert done.returncode == 1 and done.stdout == ""
    assert "INVALID_ARGUMENT" in done.stderr and "office.id" in done.stderr
    as_json = cli(center, "offices", "create", "--id", "bad id!", "--name", " ", "--district", "闵行区",
                  "--street", "坏镇", "--json")
    error = json.loads(as_json.stderr)["error"]
    assert as_json.returncode == 1 and error["code"] == "INVALID_ARGUMENT"
    fields = {v["field"] for v in error["field_violations"]}
    assert {"office.id", "office.name"} <= fields, error
    assert cli_json(center, "offices", "list") == before


@pytest.mark.parametrize("args", [
    ["offices", "create", "--id", "X1", "--district", "闵行区", "--street", "镇"],  # no --name
    ["officers", "register", "--id", "o", "--name", "n", "--office", "CLI1", "--group", "nonsense"],
    ["officers", "register", "--id", "o", "--name", "n", "--office", "CLI1", "--group", "general",
     "--certificate-expires", "2026-13-01"],
    ["tasks", "list", "--state", "sleeping"],
    ["tasks", "list", "--overdue", "--not-overdue"],
    ["tasks", "list", "--limit", "0"],
    ["offices", "list", "--timeout", "0"],
    ["--address", "nonsense", "offices", "list"],
    ["--address", "unknown_service=127.0.0.1:1", "offices", "list"],
    ["no-such-command"],
    ["offices"],
    ["duties", "import", "/nonexistent/duties.csv"],
    ["periods", "close"],
])
def test_a_usage_error_exits_2_with_a_message(center, args):
    done = cli(center, *args)
    assert done.returncode == 2, (args, done.stdout, done.stderr)
    assert "usage" in done.stderr.lower() and "Traceback" not in done.stderr


def test_a_call_without_a_valid_token_or_beyond_the_role_is_refused(center):
    without = cli(center, "offices", "list", SUPERVISION_TOKEN="")
    assert without.returncode == 1 and "UNAUTHENTICATED" in without.stderr and "SUPERVISION_TOKEN" in without.stderr
    forged = cli(center, "offices", "list", "--token", "not-a-jwt")
    assert forged.returncode == 1 and "UNAUTHENTICATED" in forged.stderr
    denied = cli(center, "offices", "create", "--id", "CLI9", "--name", "九所", "--district", "闵行区",
                 "--street", "九镇", "--token", OFFICER)
    assert denied.returncode == 1 and "PERMISSION_DENIED" in denied.stderr


def test_an_unreachable_service_is_an_error_naming_the_address(center):
    port = free_port()
    done = cli(center, "--address", f"command_center=127.0.0.1:{port}", "--timeout", "3", "offices", "list")
    assert done.returncode == 1 and "UNAVAILABLE" in done.stderr and f"127.0.0.1:{port}" in done.stderr


def _register_officers(center: Center) -> None:
    if any(o["id"] == "CLI1-01" for o in cli_json(center, "officers", "list", "--office", "CLI1")):
        return
    next_year = (dt.date.today() + dt.timedelta(days=365)).isoformat()
    for seat, group in ((1, "supervision"), (2, "监管组")):
        registered = cli_json(center, "officers", "register", "--id", f"CLI1-0{seat}", "--name", f"执法员{seat}",
                              "--office", "CLI1", "--group", group, "--certificate-no", f"31000{seat}",
                              "--certificate-expires", next_year)
        assert registered["group"] == "GROUP_KIND_SUPERVISION" and registered["certificate_valid"] is True
    cli_json(center, "officers", "register", "--id", "CLI1-03", "--name", "无证人员", "--office", "CLI1",
             "--group", "general")


def test_officers_are_registered_and_listed_with_filters(center):
    cli_json(center, "offices", "create", "--id", "CLI1", "--name", "命令行市场监督管理所", "--district", "闵行区",
             "--street", "命令行镇", "--street", "测试街道", "--request-id", "create-cli1")
    _register_officers(center)
    assert [o["id"] for o in cli_json(center, "officers", "list", "--office", "CLI1")] == \
        ["CLI1-01", "CLI1-02", "CLI1-03"]
    assert [o["id"] for o in cli_json(center, "officers", "list", "--office", "CLI1", "--group", "general")] == \
        ["CLI1-03"]
    assert [o["id"] for o in cli_json(center, "officers", "list", "--office", "CLI1", "--uncertified")] == ["CLI1-03"]
    assert len(cli_json(center, "officers", "list", "--office", "CLI1", "--limit", "2")) == 2
    bad = cli(center, "officers", "register", "--id", "CLI1-09", "--name", "无所", "--office", "NOPE",
              "--group", "general")
    assert bad.returncode == 1 and ("NOT_FOUND" in bad.stderr or "INVALID_ARGUMENT" in bad.stderr), bad.stderr
    assert "CLI1-09" not in {o["id"] for o in cli_json(center, "officers", "list")}


DUTIES = """code,title,category,legal_basis,responsible_level,group
CLI-001,食品经营许可检查,食品安全,《食品安全法》,OFFICE,SUPERVISION
CLI-002,特种设备使用登记,特种设备,《特种设备安全法》,BUREAU,
"""


def test_a_duty_list_file_is_imported_and_a_bad_one_refused_whole(center, tmp_path):
    good = tmp_path / "duties.csv"
    good.write_text(DUTIES, encoding="utf-8")
    result = cli_json(center, "duties", "import", str(good), "--replace")
    assert result == {"imported_count": 2, "total_count": 2}
    listed = cli_json(center, "duties", "list", "--category", "食品安全")
    assert [(d["code"], d["group"]) for d in listed] == [("CLI-001", "GROUP_KIND_SUPERVISION")]
    bad = tmp_path / "bad.csv"
    bad.write_text(DUTIES.replace(",BUREAU,", ",SOMEWHERE,").replace("CLI-001", "CLI-003"),
                   encoding="utf-8")
    refused = cli(center, "duties", "import", str(bad), "--json")
    assert refused.returncode == 1
    violations = json.loads(refused.stderr)["error"]["field_violations"]
    assert violations and all(v["field"].startswith("rows[") for v in violations), violations
    assert sorted(d["code"] for d in cli_json(center, "duties", "list")) == ["CLI-001", "CLI-002"]
    unknown = tmp_path / "duties.txt"
    unknown.write_text(DUTIES, encoding="utf-8")
    assert cli(center, "duties", "import", str(unknown)).returncode == 2
    assert cli_json(center, "duties", "import", str(unknown), "--format", "csv")["total_count"] == 2


def test_tasks_are_listed_with_filters_and_a_bad_filter_is_the_service_s_error(center):
    cli_json(center, "offices", "create", "--id", "CLI1", "--name", "命令行市场监督管理所", "--district", "闵行区",
             "--street", "命令行镇", "--street", "测试街道", "--request-id", "create-cli1")
    due = dt.date.today() + dt.timedelta(days=10)
    due_date = date_pb2.Date(year=due.year, month=due.month, day=due.day)
    metadata = (("authorization", f"Bearer {LEADER}"),)
    with grpc.insecure_channel(f"127.0.0.1:{center.ports['command_center']}") as channel:
        stub = pb_grpc.TaskServiceStub(channel)
        created = [stub.CreateTask(pb.CreateTaskRequest(request_id=f"cli-task-{n}", task=pb.Task(
            office_id="CLI1", title=f"督办事项{n}", due_date=due_date)),
            metadata=metadata) for n in range(3)]
        stub.AcceptTask(pb.AcceptTaskRequest(id=created[0].id), metadata=metadata)
    listed = cli_json(center, "tasks", "list", "--office", "CLI1")
    assert sorted(t["id"] for t in listed) == sorted(t.id for t in created)
    accepted = cli_json(center, "tasks", "list", "--office", "CLI1", "--state", "accepted", "--not-overdue")
    assert [t["id"] for t in accepted] == [created[0].id]
    assert cli_json(center, "tasks", "list", "--office", "CLI1", "--overdue") == []
    assert cli_json(center, "tasks", "list", "--office", "CLI1", "--source", "bureau", "--limit", "2").__len__() == 2
    table = cli(center, "tasks", "list", "--office", "CLI1", "--state", "assigned")
    assert table.returncode == 0 and "督办事项" in table.stdout and "共 2 条" in table.stdout
    bad = cli(center, "tasks", "list", "--filter", "colour = red")
    assert bad.returncode == 1 and "INVALID_ARGUMENT" in bad.stderr and "filter" in bad.stderr


def test_a_period_is_closed_once(center):
    cli_json(center, "offices", "create", "--id", "CLI1", "--name", "命令行市场监督管理所", "--district", "闵行区",
             "--street", "命令行镇", "--street", "测试街道", "--request-id", "create-cli1")
    center.settle()  # assessment learns of the office from command_center's event
    period = previous_month()
    closed = cli_json(center, "periods", "close", period)
    assert closed["key"] == period and closed["office_count"] >= 1 and closed["kind"] == "PERIOD_KIND_MONTH"
    assert [p["key"] for p in cli_json(center, "periods", "list", "--kind", "month")] == [period]
    again = cli(center, "periods", "close", period)
    assert again.returncode == 1 and "ALREADY_EXISTS" in again.stderr
    malformed = cli(center, "periods", "close", "2026-13", "--json")
    assert malformed.returncode == 1
    assert json.loads(malformed.stderr)["error"]["code"] == "INVALID_ARGUMENT"
    next_year = str(dt.date.today().year + 1)
    early = cli(center, "periods", "close", next_year)
    assert early.returncode == 1 and "FAILED_PRECONDITION" in early.stderr and "period" in early.stderr
    assert [p["key"] for p in cli_json(center, "periods", "list")] == [period]


def test_a_custody_trail_is_verified_and_a_tampered_one_reported(center):
    cli_json(center, "offices", "create", "--id", "CLI1", "--name", "命令行市场监督管理所", "--district", "闵行区",
             "--street", "命令行镇", "--street", "测试街道", "--request-id", "create-cli1")
    _register_officers(center)
    center.settle()  # facilities learns of the office and its officers
    with grpc.insecure_channel(f"127.0.0.1:{center.ports['facilities']}") as channel:
        item = facilities_pb2_grpc.CustodyServiceStub(channel).CheckIn(facilities_pb2.CheckInRequest(
            request_id="cli-custody-1", office_id="CLI1", case_id="CASE-CLI-1", description="假冒白酒",
            quantity=12, unit="瓶", location="罚没物品库 A-1", signed_by=["CLI1-01", "CLI1-02"]),
            metadata=(("authorization", f"Bearer {LEADER}"),))
    intact = cli_json(center, "trails", "custody", item.id)
    assert intact["intact"] is True and intact["records_checked"] == 1
    checked = cli_json(center, "trails", "check", "--service", "facilities")
    assert [(c["chain_key"], c["intact"]) for c in checked] == [(item.id, True)]
    assert cli(center, "trails", "check").returncode == 0

    with sqlite3.connect(center.data_dir / "facilities.db") as db:
        db.execute("UPDATE custody_trail SET record = replace(record, '假冒白酒', '真白酒') WHERE chain_key = ?",
                   (item.id,))
    broken = cli(center, "trails", "custody", item.id)
    assert broken.returncode == 1 and "否 no" in broken.stdout
    listed = cli(center, "trails", "check")
    assert listed.returncode == 1 and item.id in listed.stdout and "1 broken" in listed.stdout
    assert cli(center, "trails", "check", "--chain", "no-such-chain").returncode == 1
    unknown = cli(center, "trails", "custody", "no-such-item")
    assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr
    malformed = cli(center, "trails", "audit", "nonsense", "--json")
    assert malformed.returncode == 1
    assert [v["field"] for v in json.loads(malformed.stderr)["error"]["field_violations"]] == ["subject"]
    no_audit = cli(center, "trails", "audit", "inspection/no-such-inspection")
    assert no_audit.returncode == 1 and "NOT_FOUND" in no_audit.stderr


def test_the_trails_check_never_creates_a_store(center, tmp_path):
    empty = tmp_path / "nothing-here"
    done = cli(center, "trails", "check", DATA_DIR=str(empty))
    assert done.returncode == 1 and "no store" in done.stderr
    assert not (empty / "facilities.db").exists()
    two_stores = cli(center, "trails", "check", DATABASE_URL=f"sqlite:///{tmp_path / 'one.db'}")
    assert two_stores.returncode == 2 and "DATABASE_URL" in two_stores.stderr
    nonsense = cli(center, "trails", "check", DATABASE_URL="nonsense")
    assert nonsense.returncode == 2 and "DATABASE_URL" in nonsense.stderr and "Traceback" not in nonsense.stderr


@pytest.mark.timeout(900)  # the whole demo district, loaded by a subprocess on a shared machine
def test_the_demo_district_is_loaded_into_stores_and_a_center_started_on_them_serves_it(tmp_path):
    data_dir = tmp_path / "district"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SUPERVISION_") and not k.endswith("DATABASE_URL") and k != "TRAIL_KEYS"}
    env.update(DATA_DIR=str(data_dir), LOG_FORMAT="text", LOG_LEVEL="WARNING")

    def load(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(SCRIPT), "demo", "load", *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=600, check=False)

    # Stopped (SIGTERM) while loading the second service: a clean stop, no traceback.
    stopped = subprocess.Popen([str(SCRIPT), "demo", "load"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    progress = []
    for line in stopped.stderr:
        progress.append(line)
        if "demo district 2/6" in line:
            stopped.send_signal(signal.SIGTERM)
            break
    _, rest = stopped.communicate(timeout=120)
    assert stopped.returncode == 130, "".join(progress) + rest
    assert "interrupted" in rest and "Traceback" not in "".join(progress) + rest

    first = load("--json")
    assert first.returncode == 0, first.stderr
    outcomes = json.loads(first.stdout)
    assert [o["service"] for o in outcomes] == [s for s in registry.names() if s != "gateway"]
    assert all(o["complete"] for o in outcomes), outcomes
    assert all(o["loaded"] for o in outcomes[1:]), outcomes  # the interrupted one and those after it
    assert "demo district 6/6: assessment" in first.stderr
    # Every event was delivered to its consumers while loading (the gateway's included), as a first start does.
    for name in registry.names():
        with sqlite3.connect(data_dir / f"{name}.db") as db:
            assert db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone() == (0,), name
    with sqlite3.connect(data_dir / "gateway.db") as db:
        assert db.execute("SELECT count(*) FROM inbox").fetchone()[0] > 0
    again = load()
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("否 no") >= 6  # nothing loaded twice

    center = Center.__new__(Center)
    center.data_dir = data_dir
    center.ports = {name: free_port() for name in registry.names()}
    center.hosted = monolith.start(make_settings(DATA_DIR=str(data_dir)), host="127.0.0.1", ports=center.ports,
                                   seed_demo=False)
    center.addresses = ",".join(f"{name}=127.0.0.1:{port}" for name, port in center.ports.items())
    try:
        offices = cli_json(center, "offices", "list", SUPERVISION_TOKEN="")
        assert len(offices) == 14
        assert cli_json(center, "tasks", "list", "--overdue", SUPERVISION_TOKEN=""), "the demo has overdue tasks"
        # The events reached the other services while loading: assessment closed the demo's periods
        # over every office.
        periods = cli_json(center, "periods", "list", SUPERVISION_TOKEN="")
        assert periods and all(p["office_count"] == 14 for p in periods)
    finally:
        center.stop()


def test_demo_load_refuses_a_store_it_cannot_tell_and_a_bad_setting(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env.update(DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'one.db'}")
    ambiguous = subprocess.run([str(SCRIPT), "demo", "load"], env=env, capture_output=True, text=True, timeout=60,
                               check=False)
    assert ambiguous.returncode == 2 and "--service" in ambiguous.stderr
    assert not (tmp_path / "one.db").exists()
    env["DATABASE_URL"] = "nonsense"
    bad = subprocess.run([str(SCRIPT), "demo", "load", "--service", "command_center"], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "DATABASE_URL" in bad.stderr and "Traceback" not in bad.stderr
    unknown = subprocess.run([str(SCRIPT), "demo", "load", "--service", "gateway"], env=env, capture_output=True,
                             text=True, timeout=60, check=False)
    assert unknown.returncode == 2


def test_the_script_runs_outside_the_checkout(center, tmp_path):
    done = subprocess.run([str(SCRIPT), "offices", "list", "--json"], env=center.env(), cwd="/",
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_what_a_demo_loader_skipped_is_printed():
    import io

    from services.cli.demo import outcome_fields, print_outcomes
    from services.cli.output import Output
    from services.cli.session import Session
    from services.common.demo import DemoOutcome

    outcome = DemoOutcome(loaded=True, complete=True, skipped=("office PBA1FA0 has no officers to assess",))
    loaded, complete, skipped = outcome_fields(outcome)
    rows = [{"service": "assessment", "loaded": loaded, "complete": complete, "skipped": list(skipped)}]
    text, as_json = io.StringIO(), io.StringIO()
    print_outcomes(Session(None, Output(out=text)), rows)
    print_outcomes(Session(None, Output(json=True, out=as_json)), rows)
    assert "assessment 跳过 skipped: office PBA1FA0 has no officers to assess" in text.getvalue()
    assert json.loads(as_json.getvalue())[0]["skipped"] == ["office PBA1FA0 has no officers to assess"]
    assert outcome_fields(False) == (False, None, ())


@pytest.mark.timeout(300)
def test_one_service_s_demo_goes_into_its_database_url_and_its_events_wait_for_the_center_s_relay(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL") and k != "TRAIL_KEYS"}
    store = tmp_path / "elsewhere" / "command_center.db"
    env.update(DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{store}", LOG_LEVEL="WARNING")
    done = subprocess.run([str(SCRIPT), "demo", "load", "--service", "command_center", "--json"], env=env,
                          capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stderr
    assert [(o["service"], o["loaded"], o["complete"]) for o in json.loads(done.stdout)] == \
        [("command_center", True, True)]
    assert not (tmp_path / "data" / "command_center.db").exists() and not (tmp_path / "data" / "gateway.db").exists()
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM offices").fetchone() == (14,)
        # Nobody consumed them here: the API process's relay publishes them to the running center.
        unsent, total = db.execute("SELECT count(*) FILTER (WHERE sent_at IS NULL), count(*) FROM outbox").fetchone()
        assert unsent == total > 0
