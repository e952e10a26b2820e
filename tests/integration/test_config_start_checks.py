"""Settings checked at start: a store URL that is not one, a DATA_DIR that cannot be made or written, a
PostgreSQL that cannot be reached. Each stops the process with exit status 2 and a line naming the
variable, without a traceback and without the password: on the functions, then through the real entry
points (`python -m services.monolith`, `python -m services.<service> serve`) as subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from services.common import registry
from services.common.config import ConfigError, data_dir_setting, monolith_database_url, service_database_url
from services.common.db import shown_url, unreachable_reason
from tests.conftest import AMQP_URI, make_settings

ROOT = Path(__file__).resolve().parents[2]
# Port 1 on the loopback: nothing listens there, so the connection is refused at once.
UNREACHABLE = "postgresql://supervisor:s3cret-pw@127.0.0.1:1/supervision"
# Variables of the developer's shell that would change which store a process opens.
STORE_VARIABLES = ("DATABASE_URL", "DATA_DIR", "TRAIL_KEYS", "TRAIL_ACTIVE_KEY_ID", "CLOCK_FILE",
                   "WORKING_CALENDAR_FILE")


# ---------------------------------------------------------------- the functions


def test_data_dir_is_made_when_missing(tmp_path):
    target = tmp_path / "a" / "b"
    assert data_dir_setting(make_settings(DATA_DIR=str(target))) == str(target)
    assert target.is_dir()


@pytest.mark.parametrize(("data_dir", "says"), [
    ("/proc/nope", "cannot be created"),   # under a file system nobody may create in
    ("/proc", "is not writable"),          # exists, but not even root may write there
    ("", "is empty"),
])
def test_a_data_dir_that_cannot_be_used_is_a_config_error_naming_it(data_dir, says):
    with pytest.raises(ConfigError) as raised:
        data_dir_setting(make_settings(DATA_DIR=data_dir))

    assert str(raised.value).startswith("configuration error: DATA_DIR")
    assert says in str(raised.value)


def test_a_data_dir_that_is_a_file_is_a_config_error(tmp_path):
    (tmp_path / "plain").write_text("x")

    with pytest.raises(ConfigError, match="DATA_DIR"):
        data_dir_setting(make_settings(DATA_DIR=str(tmp_path / "plain")))


def test_without_a_url_the_store_is_a_sqlite_file_under_data_dir(tmp_path):
    settings = make_settings(DATA_DIR=str(tmp_path / "var"))

    assert service_database_url("complaints", settings) == f"sqlite:///{tmp_path / 'var' / 'complaints.db'}"
    assert monolith_database_url("complaints", settings, env={}) == f"sqlite:///{tmp_path / 'var' / 'complaints.db'}"


def test_the_monolith_reads_the_per_service_url_and_checks_its_form(tmp_path):
    settings = make_settings(DATA_DIR=str(tmp_path))
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"

    assert monolith_database_url("facilities", settings, env={"FACILITIES_DATABASE_URL": url}) == url
    with pytest.raises(ConfigError) as raised:
        monolith_database_url("facilities", settings, env={"FACILITIES_DATABASE_URL": "nonsense"})
    assert str(raised.value).startswith("configuration error: FACILITIES_DATABASE_URL='nonsense' is invalid")


def test_an_unreachable_postgresql_is_a_config_error_naming_the_variable_but_not_the_password(tmp_path):
    settings = make_settings(DATA_DIR=str(tmp_path))

    with pytest.raises(ConfigError) as raised:
        monolith_database_url("assessment", settings, env={"ASSESSMENT_DATABASE_URL": UNREACHABLE})

    message = str(raised.value)
    assert message.startswith("configuration error: ASSESSMENT_DATABASE_URL: the store of assessment")
    assert "s3cret-pw" not in message and "supervisor:***@127.0.0.1:1" in message
    assert "refused" in message.lower()


def test_a_missing_postgresql_database_is_named_with_the_variable(postgres_admin_url, tmp_path):
    settings = make_settings(DATA_DIR=str(tmp_path), DATABASE_URL=postgres_admin_url.rsplit("/", 1)[0] + "/no_such_db")

    with pytest.raises(ConfigError) as raised:
        service_database_url("emergency", settings)

    assert str(raised.value).startswith("configuration error: DATABASE_URL: the store of emergency")
    assert "no_such_db" in str(raised.value)


def test_a_reachable_postgresql_is_taken(postgres_database, tmp_path):
    settings = make_settings(DATA_DIR=str(tmp_path), DATABASE_URL=postgres_database)

    assert service_database_url("emergency", settings) == postgres_database


def test_a_sqlite_file_in_a_directory_one_may_not_write_is_refused(tmp_path):
    settings = make_settings(DATA_DIR=str(tmp_path), DATABASE_URL="sqlite:////proc/nope/service.db")

    with pytest.raises(ConfigError, match=r"^configuration error: DATABASE_URL: .*unable to open database file"):
        service_database_url("complaints", settings)


def test_shown_urls_never_carry_a_password():
    assert shown_url(UNREACHABLE) == "postgresql://supervisor:***@127.0.0.1:1/supervision"
    assert shown_url("nonsense") == "<not a database URL>"
    assert unreachable_reason(f"sqlite:///{ROOT / 'no' / 'such' / 'dir.db'}") is not None


# ---------------------------------------------------------------- the entry points


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items()
            if key not in STORE_VARIABLES and not key.endswith("_DATABASE_URL")}
    base.update({"DATA_DIR": str(tmp_path / "var"), "DEMO_DATA": "false", "LOG_FORMAT": "text",
                 "HTTP_PORT": "0", "METRICS_PORT": "0", "GRPC_PORT": "0", "AMQP_URI": AMQP_URI})
    base.update(env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120)


MONOLITH = ["-m", "services.monolith"]
SERVE = ["-m", "services.command_center", "serve"]


@pytest.mark.parametrize(("command", "env", "named"), [
    (MONOLITH, {"COMMAND_CENTER_DATABASE_URL": "nonsense"}, "COMMAND_CENTER_DATABASE_URL='nonsense' is invalid"),
    (MONOLITH, {"DATABASE_URL": "nonsense"}, "DATABASE_URL='nonsense' is invalid"),
    (MONOLITH, {"DATA_DIR": "/proc/nope"}, "DATA_DIR='/proc/nope' cannot be created"),
    (MONOLITH, {"DATA_DIR": "/proc"}, "DATA_DIR='/proc' is not writable"),
    (MONOLITH, {"COMMAND_CENTER_DATABASE_URL": UNREACHABLE}, "COMMAND_CENTER_DATABASE_URL: the store of"),
    (SERVE, {"DATABASE_URL": "nonsense"}, "DATABASE_URL='nonsense' is invalid"),
    (SERVE, {"DATA_DIR": "/proc/nope"}, "DATA_DIR='/proc/nope' cannot be created"),
    (SERVE, {"DATABASE_URL": UNREACHABLE}, "DATABASE_URL: the store of command_center"),
], ids=["monolith-service-url", "monolith-database-url", "monolith-data-dir", "monolith-data-dir-read-only",
        "monolith-unreachable", "serve-database-url", "serve-data-dir", "serve-unreachable"])
def test_a_bad_setting_stops_the_process_with_exit_2_naming_it(command, env, named, tmp_path):
    finished = run(command, tmp_path, **env)

    assert finished.returncode == 2, finished.stderr[-3000:]
    assert "configuration error: " + named in finished.stderr, finished.stderr[-3000:]
    assert "Traceback" not in finished.stderr, finished.stderr[-3000:]
    assert "s3cret-pw" not in finished.stderr + finished.stdout


def test_a_working_calendar_file_that_cannot_be_read_is_named(tmp_path):
    broken = tmp_path / "calendar.yaml"
    broken.write_text("years: {2027: {holidays: [2027-02-30]}}\n", encoding="utf-8")

    for path, says in ((tmp_path / "missing.yaml", "No such file"), (broken, "2027-02-30"), (tmp_path, "directory")):
        with pytest.raises(ConfigError) as raised:
            make_settings(WORKING_CALENDAR_FILE=str(path))
        assert str(raised.value).startswith(f"configuration error: WORKING_CALENDAR_FILE='{path}' is invalid")
        assert says in str(raised.value)


def test_a_working_calendar_file_that_cannot_be_read_stops_serve_with_exit_2(tmp_path):
    finished = run(SERVE, tmp_path, WORKING_CALENDAR_FILE=str(tmp_path / "missing.yaml"))

    assert finished.returncode == 2, finished.stderr[-3000:]
    assert "configuration error: WORKING_CALENDAR_FILE=" in finished.stderr
    assert "Traceback" not in finished.stderr, finished.stderr[-3000:]


def test_a_metrics_port_in_use_stops_the_monolith_with_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = run(MONOLITH, tmp_path, METRICS_PORT=str(port))

    assert finished.returncode == 2, finished.stderr[-3000:]
    assert f"configuration error: METRICS_PORT={port} cannot be listened on" in finished.stderr
    assert "Traceback" not in finished.stderr, finished.stderr[-3000:]


def test_a_taken_http_port_is_a_config_error_and_what_started_is_stopped(tmp_path, monkeypatch):
    """In process, with free gRPC ports (the monolith's fixed ones may be in use on a shared machine)."""
    from services import monolith

    stopped: list[str] = []
    original = monolith.stop_hosted

    def recording_stop(hosted):  # the real stop, noting what it stopped
        stopped.extend(service.runtime.name for service in hosted)
        original(hosted)

    monkeypatch.setattr(monolith, "stop_hosted", recording_stop)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {name: 0 for name in registry.names()} | {"gateway_http": port}
        with pytest.raises(ConfigError) as raised:
            monolith.start(make_settings(DATA_DIR=str(tmp_path)), host="127.0.0.1", ports=ports, seed_demo=False,
                           report=lambda line: None)

    assert str(raised.value).startswith(f"configuration error: HTTP_PORT={port} cannot be listened on")
    # Every service started before the gateway is stopped again, so the process can end.
    assert stopped == [name for name in registry.names() if name != "gateway"]


def test_a_taken_grpc_port_of_the_monolith_is_a_config_error_naming_the_service(tmp_path, monkeypatch):
    """A center already running holds the monolith's fixed ports: exit 2 naming the port and the
    service, what started stopped, instead of grpcio's traceback."""
    from services import monolith

    stopped: list[str] = []
    original = monolith.stop_hosted
    monkeypatch.setattr(monolith, "stop_hosted", lambda hosted: (stopped.extend(s.runtime.name for s in hosted),
                                                                original(hosted)))
    with socket.socket(socket.AF_INET6) as taken:
        taken.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        taken.bind(("::", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {name: 0 for name in registry.names()} | {"emergency": port, "gateway_http": 0}
        with pytest.raises(ConfigError) as raised:
            monolith.start(make_settings(DATA_DIR=str(tmp_path)), ports=ports, seed_demo=False,
                           report=lambda line: None)

    assert str(raised.value).startswith(f"configuration error: the gRPC port {port} of emergency")
    assert stopped == ["command_center", "mobile_enforcement", "complaints"]


def test_a_grpc_port_in_use_stops_serve_with_exit_2(tmp_path):
    assert run(["-m", "services.command_center", "migrate"], tmp_path).returncode == 0
    with socket.socket(socket.AF_INET6) as taken:
        # Both stacks, as the server binds [::]: the port is then taken for IPv4 and IPv6 alike.
        taken.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        taken.bind(("::", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = run(SERVE, tmp_path, GRPC_PORT=str(port))

    assert finished.returncode == 2, finished.stderr[-3000:]
    assert f"configuration error: GRPC_PORT={port} cannot be listened on" in finished.stderr
    assert "Traceback" not in finished.stderr, finished.stderr[-3000:]


def test_a_trail_key_file_that_cannot_be_created_names_data_dir():
    """facilities and mobile_enforcement keep their trail key file in DATA_DIR when TRAIL_KEYS is unset,
    whatever their store: a DATA_DIR that cannot hold it is named, not a traceback."""
    from services.common.hash_chain import TrailKeys

    with pytest.raises(ConfigError) as raised:
        TrailKeys.from_settings(make_settings(DATA_DIR="/proc/nope"))

    assert str(raised.value).startswith("configuration error: DATA_DIR: cannot create the trail key file")
