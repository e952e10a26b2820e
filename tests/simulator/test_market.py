"""The simulator on the whole market: its hand count of a plan's targets (checked against the
service's own quota), its CSV extracts with spoilt rows (checked against the service's own row
checks), and the hand checks counted in its stats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.mobile_enforcement.domain import draw
from services.mobile_enforcement.domain.entity_import import entity_input
from services.mobile_enforcement.domain.industry_codes import check_industry_code
from simulator.actions import CATALOGUE, day_counts
from simulator.actions.entities import HEADER, TRADES, digits, extract, new_business
from simulator.actions.spot_checks import expected
from simulator.context import CheckFailed, Ctx
from simulator.stats import Recorder, check_report
from simulator.world import District, Known
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

HALF_UP, CEIL = pb.ROUNDING_RULE_HALF_UP, pb.ROUNDING_RULE_CEIL
SERVICE_RULE = {HALF_UP: draw.HALF_UP, CEIL: draw.CEIL}


def _ctx(seed: int = 3, recorder: Recorder | None = None) -> Ctx:
    return Ctx(None, District(), random.Random(seed), lambda queue, work: None, Known(), run_id="t",
               recorder=recorder)


@pytest.mark.parametrize(("ratio", "population", "keys", "rounding", "share", "targets"), [
    (500, 46, 0, HALF_UP, "2.3", 2),  # 5 % of 46: 2.3 -> 2, not 8
    (500, 46, 0, CEIL, "2.3", 3),
    (500, 49, 0, HALF_UP, "2.45", 2),  # just below the half
    (500, 50, 0, HALF_UP, "2.5", 3),  # at the half
    (500, 51, 0, HALF_UP, "2.55", 3),  # just above
    (500, 40, 0, CEIL, "2", 2),  # a whole share is not rounded up
    (500, 41, 0, CEIL, "2.05", 3),
    (500, 46, 1, HALF_UP, "2.3", 2),  # the key object counted within the share
    (300, 46, 4, HALF_UP, "1.38", 4),  # key objects beyond the share: all drawn
    (1000, 4, 0, HALF_UP, "0.4", 0),  # a tiny scope may draw nothing under half up
    (1000, 0, 0, CEIL, "0", 0),
])
def test_the_hand_count_of_a_one_ratio_plan(ratio, population, keys, rounding, share, targets):
    want = expected(ratio, population, keys, rounding)
    assert want.exact_share == Decimal(share)
    assert want.targets == targets


@settings(max_examples=150, deadline=None)
@given(ratio=st.integers(1, 10_000), keys=st.integers(0, 30),
       tiers=st.lists(st.integers(0, 400), min_size=4, max_size=4), rounding=st.sampled_from([HALF_UP, CEIL]))
def test_the_hand_count_agrees_with_the_services_quota(ratio, keys, tiers, rounding):
    sizes = {draw.KEY: keys} | dict(zip(draw.GROUPS[1:], tiers, strict=True))
    quota = draw.plan_quota(sizes, {}, SERVICE_RULE[rounding], uniform_ratio=ratio)
    want = expected(ratio, sum(sizes.values()), keys, rounding)
    assert quota.total == want.targets
    assert Decimal(quota.exact_share) == want.exact_share


def _rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    assert tuple(reader.fieldnames or ()) == HEADER
    return [(line, row) for line, row in enumerate(reader, start=2)]


@pytest.mark.parametrize("seed", range(8))
def test_an_extracts_spoilt_rows_are_exactly_the_ones_the_service_refuses(seed):
    streets = ["莘庄镇", "七宝镇"]
    content, good, bad_lines = extract(_ctx(seed), streets)
    rows = _rows(content)
    assert bad_lines and len(good) + len(bad_lines) == len(rows)
    refused = set()
    for line, row in rows:
        data, _ = entity_input(row)
        # The service also refuses a street no office covers (the district's streets here).
        if data is None or row["street"] not in streets:
            refused.add(line)
        else:
            assert data.category == "" and data.industry_code
    assert refused == bad_lines
    assert [row["uscc"] for line, row in rows if line not in bad_lines] == [entity.uscc for entity in good]


def test_new_businesses_are_of_no_key_type_with_a_valid_industry_code():
    ctx = _ctx()
    day = dt.date(2026, 12, 7)
    for trade in TRADES:
        assert check_industry_code(trade.industry_code, day) == (trade.industry_code, "")
        # The section letter is the one the classification gives the division.
        assert check_industry_code(trade.section + trade.industry_code, day) == (trade.industry_code, "")
    for n in range(50):
        entity = new_business(ctx, "莘庄镇", with_section=n % 2 == 1)
        data, problems = entity_input({"uscc": entity.uscc, "name": entity.name, "category": "",
                                       "address": entity.address, "street": entity.street, "risk_level": "LOW",
                                       "key_supervision": "false", "industry_code": entity.industry_code})
        assert problems == [] and data is not None and data.category == ""
    assert digits("F5265") == "5265" == digits("5265")
    assert check_industry_code("F5265", day)[0] == digits("F5265")


def test_a_hand_check_is_counted_and_a_failing_one_is_the_actions_error():
    recorder = Recorder()
    ctx = _ctx(recorder=recorder)
    ctx.check("plan.verify", "plan.quota", True)
    with pytest.raises(CheckFailed, match=r"plan\.quota: 2\.3 -> 2, shown 3"):
        ctx.check("plan.verify", "plan.quota", False, "2.3 -> 2, shown 3")
    summary = recorder.summary(1.0)
    assert summary["checks"]["plan.quota"]["passed"] == 1
    assert summary["checks"]["plan.quota"]["failed"] == 1
    assert "plan.quota: 1 passed, 1 failed" in check_report(summary)
    assert "plan.verify: 2.3 -> 2, shown 3" in check_report(summary)


def test_the_day_carries_every_import_and_plan_to_its_follow_ups():
    counts = day_counts(CATALOGUE.values(), offices=14)
    assert counts["entity.import_valid"] == pytest.approx(counts["entity.import"])
    assert counts["plan.verify"] == pytest.approx(counts["plan.draw"] + counts["plan.draw_whole"])
    assert counts["entity.register"] == pytest.approx(14 * CATALOGUE["entity.register"].per_office_daily)
