"""INDICATOR_SOURCES as assessment reads it (the value's form is tested with
services/common/sources.py), and its timeout."""

from __future__ import annotations

import pytest

from services.assessment.sources import parse_timeout, remote_sources
from services.common.config import ConfigError


def test_unset_means_every_other_service_at_its_monolithic_port():
    assert remote_sources(None) == {"command_center": "localhost:50051", "mobile_enforcement": "localhost:50052",
                                   "complaints": "localhost:50053", "emergency": "localhost:50054",
                                   "facilities": "localhost:50055"}


def test_listed_sources_are_exactly_the_ones_called_and_assessment_is_never_called():
    assert remote_sources(" command_center = cc.svc:50051, assessment=localhost:50056,,") == {
        "command_center": "cc.svc:50051"}
    assert remote_sources("") == {}


def test_timeout():
    assert parse_timeout(None) == 3.0 and parse_timeout("0.5") == 0.5
    for raw in ("0", "-1", "soon", "nan", "inf"):
        with pytest.raises(ConfigError, match="INDICATOR_SOURCE_TIMEOUT_SECONDS"):
            parse_timeout(raw)
