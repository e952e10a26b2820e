"""JSON logs with the request id and trace id of the call that wrote them, and the process's own
start-up of observability (logs, then traces: services.common.tracing)."""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import sys
import time
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from services.common import tracing
from services.common.context import request_id_var

log = logging.getLogger(__name__)


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object a line: time, level, logger, message, request_id, trace_id, the record's
    `extra=` fields as top-level keys, and the exception's traceback."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            # taskName: a record attribute from Python 3.12 on, not a field of ours.
            reserved_attrs=[*RESERVED_ATTRS, "taskName"],
            # Chinese stays readable; a value JSON cannot hold (a datetime, a UUID) is its str().
            json_ensure_ascii=False, json_default=str)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        """The library's fields after the time; the call's ids from the context."""
        log_data["time"] = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)
        request_id = request_id_var.get()
        if request_id:
            log_data["request_id"] = request_id
        trace_id = tracing.current_trace_id()
        if trace_id:
            log_data["trace_id"] = trace_id


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Sends the process's logs to stderr (JSON or text), exports traces when OTEL_EXPORTER_OTLP_ENDPOINT
    is set, and logs one line when the process ends."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Chatty libraries stay at WARNING unless something goes wrong there.
    for name in ("kombu", "amqp", "nameko", "alembic", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    tracing.configure()
    _log_at_exit()


_started = time.monotonic()
_exit_logged = False


def _log_at_exit() -> None:
    global _exit_logged
    if not _exit_logged:
        _exit_logged = True
        # Registered after logging's own handler flush, so it runs before it (atexit is last in, first out).
        atexit.register(_process_exiting)


def _process_exiting() -> None:
    # Every way a process ends normally passes here (a stop signal handled, the end of main, a
    # SystemExit): the last line of its log says it ended, and how long it ran.
    log.info("process exiting", extra={"program": tracing.process_name(), "pid": os.getpid(),
                                       "uptime_s": round(time.monotonic() - _started, 3)})
