"""INDICATOR_SOURCES and its timeout, checked when the service starts."""

from __future__ import annotations

import pytest

from services.assessment.sources import parse_sources, parse_timeout
from services.common.config import ConfigError


def test_unset_means_every_other_service_at_its_monolithic_port():
    assert parse_sources(None) == {"command_center": "localhost:50051", "mobile_enforcement": "localhost:50052",
                                   "complaints": "localhost:50053", "emergency": "localhost:50054",
                                   "facilities": "localhost:50055"}


def test_listed_sources_are_exactly_the_ones_called_and_assessment_is_never_called():
    assert parse_sources(" command_center = cc.svc:50051, assessment=localhost:50056,,") == {
        "command_center": "cc.svc:50051"}
    assert parse_sources("") == {}


@pytest.mark.parametrize(("raw", "words"), [
    ("registry=localhost:1", "unknown source 'registry'"),
    ("command_center=localhost", "not host:port"),
    ("command_center=:50051", "not host:port"),
    ("command_center=localhost:99999", "not host:port"),
    ("command_center", "has no '='"),
    ("complaints=a:1,complaints=b:2", "listed twice"),
])
def test_a_bad_value_stops_the_service_naming_the_variable(raw, words):
    with pytest.raises(ConfigError, match="INDICATOR_SOURCES") as raised:
        parse_sources(raw)
    assert words in str(raised.value)


def test_timeout():
    assert parse_timeout(None) == 3.0 and parse_timeout("0.5") == 0.5
    for raw in ("0", "-1", "soon", "nan", "inf"):
        with pytest.raises(ConfigError, match="INDICATOR_SOURCE_TIMEOUT_SECONDS"):
            parse_timeout(raw)
