"""Fixtures of the assessment API tests: the service hosted behind a real gRPC server on a clock
set to support.TODAY, asking no other service for live values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.assessment.support import TODAY, AssessmentClient
from tests.conftest import make_settings
from tests.support import Clock, host


@pytest.fixture
def client(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AssessmentClient]:
    """assessment on each store (SQLite and PostgreSQL), with no indicator sources configured."""
    monkeypatch.setenv("INDICATOR_SOURCES", "")
    running = host("assessment", store_url, make_settings(), Clock(TODAY))
    yield AssessmentClient(running)
    running.close()
