"""The district live score's cache of the sources' answers: reused within the TTL, asked again per
office once the store says an office changed, and the applied versions the worker stores."""

from __future__ import annotations

import pytest

from services.assessment.domain.history import Value
from services.assessment.domain.live_values import LiveValuesCache, advance_mark, mark_key, read_marks
from services.assessment.domain.scorecards import Fetched, SourceStatus
from services.assessment.models import AppliedVersion

CC = "command_center"


class Sources:
    """Answers like IndicatorSources.fetch from a dict the test changes, and records what was asked."""

    def __init__(self):
        self.numerators = {"MH01": 1.0, "MH02": 2.0}
        self.asked: list[list[str] | None] = []
        self.down = False

    def fetch(self, office_ids: list[str] | None) -> Fetched:
        self.asked.append(office_ids)
        if self.down:
            return Fetched({}, [SourceStatus(CC, False, "UNAVAILABLE: down")])
        offices = office_ids if office_ids is not None else list(self.numerators)
        values = {office: {f"{CC}.x": Value(self.numerators[office], 4.0, None)}
                  for office in offices if office in self.numerators}
        return Fetched(values, [SourceStatus(CC, True)])


class Marks:
    def __init__(self):
        self.versions: dict[tuple[str, str], int] = {(CC, "MH01"): 1, (CC, "MH02"): 1}
        self.read: list[tuple[str, ...]] = []

    def __call__(self, sources):
        self.read.append(tuple(sources))
        return dict(self.versions)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def parts():
    clock = Clock()
    return LiveValuesCache(5.0, [CC], clock), Sources(), Marks(), clock


def numerator(fetched: Fetched, office: str) -> float:
    return fetched.values[office][f"{CC}.x"].numerator


def test_repeated_district_requests_within_the_ttl_ask_the_sources_once(parts):
    cache, sources, marks, clock = parts
    for _ in range(10):
        fetched = cache.district(sources.fetch, marks)
        clock.now += 0.4
        assert numerator(fetched, "MH02") == 2.0
    assert sources.asked == [None]
    assert marks.read == [(CC,)] * 10  # the stored versions are read on every request


def test_after_the_ttl_a_whole_round_is_asked(parts):
    cache, sources, marks, clock = parts
    cache.district(sources.fetch, marks)
    sources.numerators["MH01"] = 3.0  # no event seen: served as it was until the TTL ends
    clock.now += 4.9
    assert numerator(cache.district(sources.fetch, marks), "MH01") == 1.0
    clock.now += 0.1
    assert numerator(cache.district(sources.fetch, marks), "MH01") == 3.0
    assert sources.asked == [None, None]


def test_an_office_whose_event_was_applied_is_asked_again_alone(parts):
    cache, sources, marks, _ = parts
    cache.district(sources.fetch, marks)
    sources.numerators["MH01"] = 3.0
    marks.versions[(CC, "MH01")] = 2  # the worker applied IndicatorsChanged version 2 of MH01
    fetched = cache.district(sources.fetch, marks)
    assert numerator(fetched, "MH01") == 3.0 and numerator(fetched, "MH02") == 2.0
    assert cache.district(sources.fetch, marks).values == fetched.values
    assert sources.asked == [None, ["MH01"]]


def test_a_new_office_is_asked_for_when_its_first_event_is_applied(parts):
    cache, sources, marks, _ = parts
    cache.district(sources.fetch, marks)
    sources.numerators["MH03"] = 1.0
    marks.versions[(CC, "MH03")] = 1
    assert numerator(cache.district(sources.fetch, marks), "MH03") == 1.0
    assert sources.asked == [None, ["MH03"]]


def test_a_round_a_source_missed_is_kept_until_the_ttl(parts):
    cache, sources, marks, clock = parts
    sources.down = True
    assert cache.district(sources.fetch, marks).statuses[0].available is False
    sources.down = False
    # Reported unavailable until the next round: an outage does not make every request wait.
    assert cache.district(sources.fetch, marks).statuses[0].available is False
    clock.now += 5
    recovered = cache.district(sources.fetch, marks)
    assert recovered.statuses[0].available and numerator(recovered, "MH01") == 1.0
    assert sources.asked == [None, None]


def test_a_changed_office_a_source_missed_stays_missing_until_the_ttl(parts):
    cache, sources, marks, clock = parts
    cache.district(sources.fetch, marks)
    marks.versions[(CC, "MH01")] = 2
    sources.down = True
    missed = cache.district(sources.fetch, marks)
    assert "MH01" not in missed.values and numerator(missed, "MH02") == 2.0  # missing, as without a cache
    assert not missed.statuses[0].available
    sources.down, sources.numerators["MH01"] = False, 3.0
    assert cache.district(sources.fetch, marks) == missed
    clock.now += 5
    assert numerator(cache.district(sources.fetch, marks), "MH01") == 3.0
    assert sources.asked == [None, ["MH01"], None]


def test_a_ttl_of_zero_asks_every_time(parts):
    _, sources, marks, clock = parts
    cache = LiveValuesCache(0, [CC], clock)
    for _ in range(3):
        cache.district(sources.fetch, marks)
    assert sources.asked == [None, None, None] and marks.read == []


def test_the_stored_version_only_moves_forward_and_is_read_per_source(store):
    with store.transaction() as session:
        advance_mark(session, CC, "MH01", 3)
        advance_mark(session, CC, "MH01", 2)  # an older event arriving late
        advance_mark(session, "complaints", "MH01", 7)
        session.add(AppliedVersion(aggregate="command_center/office/MH01", version=9))  # not indicators
    with store.transaction() as session:
        advance_mark(session, CC, "MH02", 1)
        advance_mark(session, CC, "MH01", 4)
    with store.read() as session:
        assert session.get(AppliedVersion, mark_key(CC, "MH01")).version == 4
        assert read_marks(session, [CC]) == {(CC, "MH01"): 4, (CC, "MH02"): 1}
        assert read_marks(session, [CC, "complaints"])[("complaints", "MH01")] == 7
        assert read_marks(session, []) == {}


def test_the_ttl_is_a_setting():
    from services.common.config import ConfigError, Settings

    assert Settings.from_env({}).live_score_cache_seconds == 5.0
    assert Settings.from_env({"LIVE_SCORE_CACHE_SECONDS": "0"}).live_score_cache_seconds == 0.0
    for raw in ("-1", "soon", "inf"):
        with pytest.raises(ConfigError, match="LIVE_SCORE_CACHE_SECONDS"):
            Settings.from_env({"LIVE_SCORE_CACHE_SECONDS": raw})
