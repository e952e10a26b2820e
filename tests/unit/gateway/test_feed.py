"""The live feed's table: every notable event is one of its publisher's messages, and each line
reads only fields that message has (the lines themselves are checked against the publishers' own
events in tests/contracts/test_gateway_consumes.py)."""

from __future__ import annotations

import pytest

from services.common.sources import SOURCES
from services.gateway.domain.feed import NOTABLE


@pytest.mark.parametrize(("source", "message_class"), list(NOTABLE), ids=lambda v: getattr(v, "__name__", v))
def test_a_notable_event_is_a_message_of_its_publisher_and_its_line_reads_its_fields(source, message_class):
    assert source in SOURCES
    assert message_class.DESCRIPTOR.full_name.startswith(f"supervision.{source}.v1.")
    notable = NOTABLE[(source, message_class)]
    assert notable.text is not None or notable.probe
    if notable.text is not None:
        # An unset message: a field the line reads that the message lacks raises here.
        assert isinstance(notable.text(message_class()), str)
    assert notable.probe in ("", *SOURCES)
