"""The first start's parts: loading progress as the gateway reads it, and stop signals that either
wait or interrupt the resumable demo loading."""

from __future__ import annotations

import os
import signal

import pytest

from services.common.demo import DemoOutcome
from services.common.startup import StartupProgress, StopRequested, StopSignals, progress_line
from services.monolith import demo_outcome

STEPS = ["command_center", "mobile_enforcement", "complaints", "emergency", "facilities", "assessment"]


def test_progress_says_the_step_being_loaded_then_ready():
    lines: list[str] = []
    progress = StartupProgress(STEPS, report=lines.append)
    told: list[str] = []
    progress.on_ready(lambda: told.append("ready"))
    assert not progress.is_ready()
    progress.begin("complaints")
    state = progress.state().as_json()
    assert state["status"] == "loading"
    assert (state["step"], state["done"], state["total"]) == ("complaints", 2, 6)
    assert "正在载入演示数据" in state["message"] and "2/6" in state["message"]
    assert lines == ["演示数据 demo district 3/6: complaints…"]
    assert told == []
    progress.finish()
    assert progress.is_ready() and progress.wait_ready(0)
    assert progress.state().as_json()["status"] == "ready"
    assert told == ["ready"]
    progress.finish()  # a second finish tells nobody again
    assert told == ["ready"]
    late: list[str] = []
    progress.on_ready(lambda: late.append("ready"))
    assert late == ["ready"]


def test_no_steps_is_ready_from_the_start():
    progress = StartupProgress(())
    assert progress.is_ready()
    assert progress.state().status == "ready"


def test_an_unknown_step_is_refused_and_changes_nothing():
    progress = StartupProgress(STEPS)
    progress.begin("mobile_enforcement")
    with pytest.raises(ValueError, match="unknown loading step 'nonsense'"):
        progress.begin("nonsense")
    assert progress.state().step == "mobile_enforcement"
    assert progress.state().done == 1


def test_progress_line_counts_from_one():
    assert progress_line("assessment", 6, 6) == "演示数据 demo district 6/6: assessment…"


@pytest.fixture
def restore_handlers():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_signal_interrupts_the_resumable_loading_once(restore_handlers):
    signals = StopSignals().install()
    with pytest.raises(StopRequested) as stopped, signals.interruptible():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10_000_000):  # the handler runs between bytecodes of this loop
            pass
        pytest.fail("the signal did not interrupt the loading")
    assert stopped.value.exit_status == 0
    # A second signal during the clean stop is noted, never raised again.
    os.kill(os.getpid(), signal.SIGINT)
    signals.checkpoint()
    assert signals.wait() == signal.SIGTERM
    assert signals.exit_status == 0


def test_outside_the_loading_a_signal_is_noted_for_the_next_checkpoint(restore_handlers):
    signals = StopSignals().install()
    os.kill(os.getpid(), signal.SIGINT)  # e.g. during migrations: they finish first
    with pytest.raises(StopRequested) as stopped:
        signals.checkpoint()
    assert stopped.value.exit_status == 130
    assert signals.exit_status == 130


def test_without_a_signal_nothing_is_interrupted(restore_handlers):
    signals = StopSignals().install()
    with signals.interruptible():
        signals.checkpoint()
    assert signals.received is None
    assert signals.exit_status == 0


def test_a_loader_answer_is_read_whatever_its_shape():
    outcome = DemoOutcome(loaded=True, complete=True, skipped=("office X: no officers",))
    assert demo_outcome(outcome) is outcome
    assert demo_outcome(False) == DemoOutcome(loaded=False, complete=False)
    assert demo_outcome(None) == DemoOutcome(loaded=False, complete=False)


def test_a_signal_landing_in_a_finalizer_still_interrupts_the_loading(restore_handlers):
    """Python prints and drops an exception raised in __del__ (a PDF library's font cache collected
    mid-loading): the stop must not be lost there, but interrupt the loading once the finalizer returns."""
    signals = StopSignals().install()

    class Collected:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1_000_000):  # the handler runs here, inside the finalizer
                pass

    with pytest.raises(StopRequested), signals.interruptible():
        Collected()
        for _ in range(50_000_000):  # the loading goes on after the finalizer
            pass
        pytest.fail("the signal that arrived in a finalizer was lost")
    assert signals.wait() == signal.SIGTERM
