"""The command line: every bad flag is refused before anything starts, with a message that says
what to write instead, and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simulator.cli import MAX_CONCURRENCY, parse_args


@pytest.mark.parametrize(("argv", "message"), [
    (["--speed", "0"], "between 1 and 1000"),
    (["--speed", "1001"], "between 1 and 1000"),
    (["--speed", "fast"], "not a number"),
    (["--rate", "-5"], "--rate: -5 is out of range"),
    (["--rate", "nan"], "out of range"),
    (["--mix", "day"], "--mix needs --rate"),
    (["--rate", "10", "--mix", "complaint.craete=1"], "did you mean complaint.create"),
    (["--rate", "10", "--speed", "100"], "a load (--rate) has no clock"),
    (["--rate", "10", "--skip-nights"], "a load (--rate) has no clock"),
    (["--constant"], "--constant needs --rate"),
    (["--concurrency", str(MAX_CONCURRENCY + 1)], "between 1 and 190"),
    (["--duration", "0"], "at least 0.1"),
    (["--start", "25:00"], "HH:MM"),
    (["--port", "complaints=http"], "the port must be a number"),
    (["--port", "nowhere=5000"], "SERVICE one of command_center"),
    (["--center", "temp", "--port", "complaints=5000"], "name an external center"),
    (["--no-demo"], "apply to a center the simulator starts"),
    (["--center", "cloud"], "invalid choice"),
])
def test_bad_flags_are_refused_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_load_defaults_to_a_minute_of_the_days_mix():
    options = parse_args(["--rate", "25", "--seed", "3"])
    assert options.run.rate == 25 and options.run.duration == 60
    assert options.run.mix["complaint.create"] > options.run.mix["case.close"] > 0
    assert options.run.seed == 3 and options.center == "external"


def test_a_day_runs_until_stopped_unless_given_a_duration():
    options = parse_args(["--speed", "500", "--start", "08:30", "--skip-nights"])
    assert options.run.rate is None and options.run.duration is None
    assert options.run.speed == 500 and options.run.start == 8.5 * 3600 and options.run.skip_nights


def test_an_external_center_is_addressed_by_the_monoliths_ports_unless_told():
    options = parse_args(["--port", "mobile_enforcement=6000", "--http", "http://127.0.0.1:9000/"])
    assert options.addresses.grpc["command_center"] == "127.0.0.1:50051"
    assert options.addresses.grpc["mobile_enforcement"] == "127.0.0.1:6000"
    assert options.addresses.http == "http://127.0.0.1:9000"


def test_help_and_the_list_of_actions_run_as_a_program():
    shown = subprocess.run([sys.executable, "-m", "simulator", "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "--rate" in shown.stdout and "exit status" in shown.stdout
    listed = subprocess.run([sys.executable, "-m", "simulator", "--list-actions"], capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0 and "rapid_test.record" in listed.stdout and "presets" in listed.stdout
