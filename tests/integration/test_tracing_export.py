"""Export of spans over OTLP/HTTP, only when OTEL_EXPORTER_OTLP_ENDPOINT says where: a child
process configured the way every entry point is (logs.configure) sends its spans to a real HTTP
receiver run by the test, which decodes them with the OTLP protobuf definitions."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from services.common import tracing

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
    import json, sys
    from services.common import logs, tracing
    logs.configure("INFO", "json")
    with tracing.span("inspect the market", tracing.INTERNAL, attributes={"office": "MH01"}):
        trace_id = tracing.current_trace_id()
    print(json.dumps({"trace_id": trace_id, "sdk_loaded": "opentelemetry.sdk.trace" in sys.modules}), flush=True)
"""


class Receiver(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP trace receiver: keeps every request it is sent."""

    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _child(**env: str) -> tuple[dict, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD)], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def _spans(received) -> list[tuple[str, str, str]]:
    """(service.name, span name, trace id) of every span the receiver got."""
    found = []
    for path, content_type, body in received:
        assert path == "/v1/traces"
        assert content_type == "application/x-protobuf"
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = next(a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name")
            found += [(service, span.name, span.trace_id.hex()) for scope in resource_spans.scope_spans
                      for span in scope.spans]
    return found


def test_spans_are_exported_over_otlp_http_when_an_endpoint_is_set(receiver):
    answer, _ = _child(OTEL_EXPORTER_OTLP_ENDPOINT=receiver)

    assert answer["sdk_loaded"] is True
    assert _spans(Receiver.received) == [("supervision-python", "inspect the market", answer["trace_id"])]


def test_otel_service_name_names_the_process(receiver):
    answer, _ = _child(OTEL_EXPORTER_OTLP_ENDPOINT=receiver, OTEL_SERVICE_NAME="complaints-api")

    assert _spans(Receiver.received) == [("complaints-api", "inspect the market", answer["trace_id"])]


def test_without_an_endpoint_nothing_is_exported_and_the_sdk_is_not_loaded(receiver):
    answer, _ = _child()
    blank, _ = _child(OTEL_EXPORTER_OTLP_ENDPOINT="  ")

    assert answer["sdk_loaded"] is False and blank["sdk_loaded"] is False
    assert len(answer["trace_id"]) == 32  # logs and events still name a trace
    assert Receiver.received == []


def test_an_unsupported_protocol_is_said_and_http_used(receiver):
    _, stderr = _child(OTEL_EXPORTER_OTLP_ENDPOINT=receiver, OTEL_EXPORTER_OTLP_PROTOCOL="grpc")

    warnings = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(w["level"] == "WARNING" and "'grpc' is not supported" in w["message"] for w in warnings)
    assert [name for _, name, _ in _spans(Receiver.received)] == ["inspect the market"]


def test_exporting_reads_the_standard_variables():
    assert not tracing.exporting({})
    assert not tracing.exporting({"OTEL_EXPORTER_OTLP_ENDPOINT": ""})
    assert tracing.exporting({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing.exporting({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"})


def test_spans_of_a_process_without_an_exporter_record_nothing():
    with tracing.span("work") as span:
        assert not span.is_recording()
        assert span.get_span_context().is_valid
