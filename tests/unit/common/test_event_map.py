"""docs/events.md (tools/event_map.py): every subscription of every service is in it, it is up to
date with the code, and the check `make lint` runs fails on a stale file."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

from services.common import registry
from services.common.db import Store
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[3]


def _load_tool():
    spec = importlib.util.spec_from_file_location("event_map", ROOT / "tools" / "event_map.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("event_map", module)
    spec.loader.exec_module(module)
    return module


event_map = _load_tool()


@pytest.fixture(scope="module")
def generated() -> str:
    return event_map.generate()


@pytest.fixture(scope="module")
def runtimes(tmp_path_factory) -> dict:
    """Every service's runtime, built here as the tests build them (not by the tool)."""
    built, stores = {}, []
    for name in registry.names():
        store = Store("sqlite:///" + str(tmp_path_factory.mktemp(name) / f"{name}.db"))
        stores.append(store)
        built[name] = importlib.import_module(f"services.{name}.service").build(make_settings(), store)
    yield built
    for store in stores:
        store.dispose()


def _sections(text: str) -> dict[str, str]:
    """Full event name -> its section of the map."""
    sections = {}
    for chunk in text.split("\n### ")[1:]:
        full_name = chunk.split("\n\n", 2)[1].split("`")[1]
        sections[full_name] = chunk
    return sections


def _rows(section: str) -> set[tuple[str, str, str, str]]:
    """(consumer, source, what it does, versioned) of each consumer row, one per source."""
    rows = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if len(cells) != 5 or cells[0] in {"Consumer", "---"} or line.startswith("|---"):
            continue
        consumer, sources, does, versioned, _handler = cells
        rows |= {(consumer, source, does, versioned) for source in sources.split(", ")}
    return rows


def test_the_map_lists_every_subscription_of_every_service_and_nothing_else(generated, runtimes):
    expected: dict[str, set] = {}
    edges: dict[tuple[str, str], set[str]] = {}
    for consumer, runtime in runtimes.items():
        for s in runtime.subscriptions:
            does, _ = event_map.handler_doc(s.handler)
            expected.setdefault(s.type_name, set()).add(
                (consumer, s.source, does or event_map.NO_DOCSTRING, "yes" if s.versioned else "no"))
            edges.setdefault((s.source, consumer), set()).add(s.event_type)
    assert expected, "no service declares a subscription"
    sections = _sections(generated)
    listed = {name: _rows(section) for name, section in sections.items() if _rows(section)}
    assert listed == expected
    for (source, consumer), names in edges.items():
        assert f'    {source} -->|"{", ".join(sorted(names))}"| {consumer}' in generated
    table = {line.split(" | ")[0].split("[")[1].split("]")[0]: line.split(" | ")[2]
             for line in generated.splitlines() if line.startswith("| [")}
    for full_name, rows in expected.items():
        assert table[full_name.rsplit(".", 1)[1]].rstrip(" |") == ", ".join(sorted({r[0] for r in rows}))


def test_events_are_the_recorded_messages_with_their_publishers(generated, runtimes):
    sections = _sections(generated)
    for helper in ("StatutoryClock", "EventEnvelope", "PeriodRanking", "GradingBasis"):
        assert not [name for name in sections if name.endswith(f".{helper}")]
    assert "`supervision.command_center.v1.OfficeRegistered`, published by command_center." in generated
    refreshers = sorted(name for name, runtime in runtimes.items() if runtime.indicators is not None)
    assert refreshers, "no service has an indicator refresher"
    assert (f"`supervision.common.v1.IndicatorsChanged`, published by {', '.join(refreshers)}."
            in sections["supervision.common.v1.IndicatorsChanged"])


def test_every_event_and_every_handler_is_described(generated):
    assert event_map.NO_COMMENT not in generated
    missing = [line for line in generated.splitlines() if event_map.NO_DOCSTRING in line]
    assert not missing, "handlers without a docstring:\n" + "\n".join(missing)


def test_generating_twice_gives_the_same_bytes(generated):
    assert event_map.generate() == generated


def test_docs_events_md_is_up_to_date(capsys):
    assert event_map.main(["--check"]) == 0, capsys.readouterr().err


def test_check_fails_on_a_stale_or_missing_file_and_passes_once_written(tmp_path, generated, monkeypatch, capsys):
    monkeypatch.setattr(event_map, "generate", lambda: generated)
    path = tmp_path / "events.md"
    assert event_map.main(["--check", "--output", str(path)]) == 1
    assert "is missing: run make events" in capsys.readouterr().err
    path.write_text(generated.replace("consumer", "konsumer", 1), encoding="utf-8")
    assert event_map.main(["--check", "--output", str(path)]) == 1
    assert f"{path} is stale: run make events" in capsys.readouterr().err
    assert event_map.main(["--output", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == generated
    assert event_map.main(["--check", "--output", str(path)]) == 0


def test_a_service_that_cannot_be_built_is_named(monkeypatch, capsys):
    def broken(services=None):
        return {}, ["complaints: its runtime could not be built: ImportError: boom"]

    monkeypatch.setattr(event_map, "build_runtimes", broken)
    assert event_map.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "cannot be generated" in err and "complaints: its runtime could not be built" in err


class _Handlers:
    def documented(self, session, event):
        """Keeps the office.

        More than the first paragraph."""

    def undocumented(self, session, event):
        pass

    def factory(self):
        """Records the evidence."""
        def record(session, event):
            pass

        return record

    def documented_factory(self):
        """Makes a handler."""
        def record(session, event):
            """Counts the event."""

        return record


def test_what_a_handler_does_is_its_docstring_or_its_factorys():
    handlers = _Handlers()
    assert event_map.handler_doc(handlers.documented)[0] == "Keeps the office."
    assert event_map.handler_doc(handlers.documented)[1].endswith("._Handlers.documented")
    assert event_map.handler_doc(handlers.undocumented)[0] == ""
    assert event_map.handler_doc(handlers.factory()) == (
        "Records the evidence.", f"{__name__}._Handlers.factory()")
    assert event_map.handler_doc(handlers.documented_factory())[0] == "Counts the event."


def test_a_subscription_in_the_pre_contract_form_is_reported():
    from types import SimpleNamespace

    from services.common.consumer import Subscription

    runtime = SimpleNamespace(subscriptions=[Subscription("command_center", "OfficeRegistered", print)],
                              indicators=None)
    with pytest.raises(event_map.MapError) as raised:
        event_map.collect({"complaints": runtime}, list(registry.names()))
    assert raised.value.problems == [
        "complaints: subscriptions in the pre-contract form (the message named by a string, not the "
        "publisher's message class): command_center 'OfficeRegistered'"]
