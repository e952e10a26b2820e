"""Settings.from_env: defaults, and a bad value stops start-up naming the variable and its form."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.config import ConfigError, Settings, exit_on_config_error


def test_defaults_from_an_empty_environment():
    settings = Settings.from_env({})

    assert settings == Settings(
        database_url="", amqp_uri="", grpc_port=50051, metrics_port=9090, http_port=8080, data_dir="var",
        log_level="INFO", log_format="json", auth_mode="off", jwt_secret="", jwt_public_key="",
        jwt_audience="supervision-cloud", jwt_issuer="", max_concurrent_rpcs=200, grpc_workers=8,
        drain_grace_seconds=20.0, relay_poll_seconds=1.0, sweep_interval_seconds=60.0, demo_data=True,
        working_calendar_file="",
    )


def test_values_from_the_environment_are_parsed():
    settings = Settings.from_env({
        "DATABASE_URL": "postgresql://supervision@db/cloud", "AMQP_URI": "amqps://u:p@mq:5671/",
        "GRPC_PORT": "0", "METRICS_PORT": "65535", "HTTP_PORT": "8081", "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": "text", "AUTH_MODE": "jwt", "JWT_SECRET": "s" * 32, "JWT_ISSUER": "idp",
        "MAX_CONCURRENT_RPCS": "7", "GRPC_WORKERS": "3", "DRAIN_GRACE_SECONDS": "0.5",
        "RELAY_POLL_SECONDS": "2.5", "SWEEP_INTERVAL_SECONDS": "10", "DEMO_DATA": "Off",
    })

    assert settings.database_url == "postgresql://supervision@db/cloud"
    assert settings.amqp_uri == "amqps://u:p@mq:5671/"
    assert (settings.grpc_port, settings.metrics_port, settings.http_port) == (0, 65535, 8081)
    assert (settings.log_level, settings.log_format, settings.auth_mode) == ("DEBUG", "text", "jwt")
    assert (settings.jwt_secret, settings.jwt_issuer) == ("s" * 32, "idp")
    assert (settings.max_concurrent_rpcs, settings.grpc_workers) == (7, 3)
    assert (settings.drain_grace_seconds, settings.relay_poll_seconds, settings.sweep_interval_seconds) == (
        0.5, 2.5, 10.0)
    assert settings.demo_data is False


def test_reads_os_environ_when_no_mapping_is_given(monkeypatch):
    monkeypatch.setenv("GRPC_PORT", "6001")
    monkeypatch.setenv("DEMO_DATA", "no")

    settings = Settings.from_env()

    assert settings.grpc_port == 6001
    assert settings.demo_data is False


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", True), ("true", True), ("YES", True), (" on ", True),
    ("0", False), ("False", False), ("no", False), ("off", False),
])
def test_demo_data_booleans(raw, expected):
    assert Settings.from_env({"DEMO_DATA": raw}).demo_data is expected


@pytest.mark.parametrize(("name", "value", "form"), [
    ("GRPC_PORT", "abc", "a TCP port 0-65535"),
    ("GRPC_PORT", "70000", "a TCP port 0-65535"),
    ("GRPC_PORT", "-1", "a TCP port 0-65535"),
    ("METRICS_PORT", "9o90", "a TCP port 0-65535"),
    ("AUTH_MODE", "maybe", "off or jwt"),
    ("DATABASE_URL", "mysql://x", "sqlite:///path or postgresql+psycopg://user@host/db"),
    ("AMQP_URI", "http://x", "amqp://user:password@host:5672/"),
    ("DRAIN_GRACE_SECONDS", "0", "seconds > 0"),
    ("RELAY_POLL_SECONDS", "-1", "seconds > 0"),
    ("SWEEP_INTERVAL_SECONDS", "soon", "seconds > 0"),
    ("MAX_CONCURRENT_RPCS", "0", "a positive integer"),
    ("GRPC_WORKERS", "1.5", "a positive integer"),
    ("LOG_LEVEL", "info", "DEBUG, INFO, WARNING or ERROR"),
    ("LOG_FORMAT", "xml", "json or text"),
    ("DEMO_DATA", "perhaps", "true or false"),
])
def test_bad_value_raises_config_error_naming_variable_and_form(name, value, form):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({name: value})

    message = str(raised.value)
    assert f"{name}={value!r}" in message
    assert f"expected {form}" in message


def test_exit_on_config_error_prints_the_reason_and_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        exit_on_config_error(lambda: Settings.from_env({"GRPC_PORT": "x"}))
    assert exited.value.code == 2
    assert "GRPC_PORT='x'" in capsys.readouterr().err


@pytest.mark.parametrize("env", [
    {"AUTH_MODE": "jwt"},
    {"AUTH_MODE": "jwt", "JWT_SECRET": "", "JWT_PUBLIC_KEY": ""},
])
def test_jwt_mode_without_key_raises(env):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)

    message = str(raised.value)
    assert "AUTH_MODE=jwt" in message
    assert "JWT_SECRET" in message
    assert "JWT_PUBLIC_KEY" in message


@pytest.mark.parametrize("key", ["JWT_SECRET", "JWT_PUBLIC_KEY"])
def test_jwt_mode_with_either_key_is_accepted(key):
    settings = Settings.from_env({"AUTH_MODE": "jwt", key: "k" * 40})

    assert settings.auth_mode == "jwt"


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_seconds_are_refused(value):
    with pytest.raises(ConfigError):
        Settings.from_env({"RELAY_POLL_SECONDS": value})


def test_a_clock_file_must_hold_an_aware_instant(tmp_path):
    from services.common.clock import FileClock

    clock_file = tmp_path / "clock"
    with pytest.raises(ConfigError, match="CLOCK_FILE"):
        Settings.from_env({"CLOCK_FILE": str(clock_file)})  # missing
    clock_file.write_text("2026-08-03T10:00:00")
    with pytest.raises(ConfigError, match="CLOCK_FILE"):
        Settings.from_env({"CLOCK_FILE": str(clock_file)})  # no zone
    clock_file.write_text("2026-08-03T10:00:00+08:00")
    assert Settings.from_env({"CLOCK_FILE": str(clock_file)}).clock_file == str(clock_file)

    clock = FileClock(str(clock_file))
    assert (clock.today(), clock.now().hour) == (dt.date(2026, 8, 3), 2)
    FileClock(str(clock_file)).set(dt.datetime(2026, 10, 9, 1, tzinfo=dt.UTC))
    assert clock.today() == dt.date(2026, 10, 9)  # another process moved it


@pytest.mark.parametrize("secret", ["secret", "s" * 31, "密" * 10])  # 30 bytes in UTF-8
def test_a_short_jwt_secret_stops_start_up(secret, capsys):
    with pytest.raises(SystemExit) as exited:
        exit_on_config_error(lambda: Settings.from_env({"AUTH_MODE": "jwt", "JWT_SECRET": secret}))

    assert exited.value.code == 2
    message = capsys.readouterr().err
    assert "JWT_SECRET" in message and "at least 32 bytes" in message
    assert secret not in message  # the secret itself never reaches the log


def test_a_secret_of_32_bytes_is_accepted_and_an_unused_one_is_not_checked():
    assert Settings.from_env({"AUTH_MODE": "jwt", "JWT_SECRET": "s" * 32}).jwt_secret == "s" * 32
    assert Settings.from_env({"AUTH_MODE": "off", "JWT_SECRET": "short"}).auth_mode == "off"


def test_the_maximum_token_lifetime_defaults_to_twelve_hours_and_must_be_positive():
    assert Settings.from_env({}).jwt_max_lifetime_seconds == 12 * 3600
    assert Settings.from_env({"JWT_MAX_LIFETIME_SECONDS": "900"}).jwt_max_lifetime_seconds == 900
    assert Settings.from_env({}).jwt_service_max_lifetime_seconds == 30 * 86400
    for name in ("JWT_MAX_LIFETIME_SECONDS", "JWT_SERVICE_MAX_LIFETIME_SECONDS"):
        for bad in ("0", "-5", "12h", ""):
            with pytest.raises(ConfigError, match=name):
                Settings.from_env({name: bad})
