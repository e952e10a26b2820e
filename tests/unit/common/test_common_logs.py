"""JsonFormatter: one JSON object a line, with request id, trace id and extra fields."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator

import pytest

from services.common import tracing
from services.common.context import request_id_var
from services.common.logs import JsonFormatter

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.common.logs")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers[:] = []
    logger.propagate = True


def _entries(stream: io.StringIO) -> list[dict]:
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines]


def test_entry_is_one_json_object_with_level_logger_and_formatted_message(capture):
    logger, stream = capture

    logger.warning("shop %s has %d open cases", "黄浦菜场", 3)

    [entry] = _entries(stream)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "tests.common.logs"
    assert entry["message"] == "shop 黄浦菜场 has 3 open cases"
    assert "黄浦菜场" in stream.getvalue()  # not escaped to \\uXXXX
    assert "request_id" not in entry
    assert "trace_id" not in entry
    time = dt.datetime.fromisoformat(entry["time"])
    assert time.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - time).total_seconds()) < 5


def test_multiline_message_stays_on_one_line(capture):
    logger, stream = capture

    logger.info("first line\nsecond line")

    assert stream.getvalue().count("\n") == 1
    assert _entries(stream)[0]["message"] == "first line\nsecond line"


def test_request_id_and_trace_id_come_from_the_context(capture):
    logger, stream = capture
    token = request_id_var.set("req-42")
    try:
        # The span of a call whose caller sent TRACEPARENT: the call's span joins that trace.
        with tracing.span("call", tracing.SERVER, tracing.remote_parent(TRACEPARENT)):
            logger.info("handled")
    finally:
        request_id_var.reset(token)

    [entry] = _entries(stream)
    assert entry["request_id"] == "req-42"
    assert entry["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_extra_fields_are_top_level_keys_and_unserialisable_values_become_strings(capture):
    logger, stream = capture
    when = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

    logger.error("event refused", extra={"service": "inspection", "event_id": "e-1", "attempt": 3, "at": when})

    [entry] = _entries(stream)
    assert entry["service"] == "inspection"
    assert entry["event_id"] == "e-1"
    assert entry["attempt"] == 3
    assert entry["at"] == str(when)
    # Standard LogRecord attributes are not dumped as fields.
    for noise in ("args", "msg", "levelno", "pathname", "lineno", "thread", "created"):
        assert noise not in entry


def test_exception_is_included(capture):
    logger, stream = capture

    try:
        raise ValueError("broken calendar")
    except ValueError:
        logger.exception("timer failed")

    [entry] = _entries(stream)
    assert entry["level"] == "ERROR"
    assert "Traceback" in entry["exception"]
    assert "ValueError: broken calendar" in entry["exception"]
