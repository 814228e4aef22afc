"""How a run ends well in this process: SIGTERM/SIGINT end it with its reports written, so does a test still running
once the budget is used up, and failures of hypothesis examples keep no answer alive."""

from __future__ import annotations

import functools
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import pytest

from conformance import TESTS_DIR
from conformance.run.state import RunState
from conformance.targets.errors import TargetError

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Seconds past the budget a test may still run before it is ended: the transport cuts its calls at the budget (a
# worker waits one second more), so only work on what the target sent is still running by then.
BUDGET_GRACE = 3.0


def install(config: pytest.Config, state: RunState) -> None:
    """Make SIGTERM and SIGINT end the run like Ctrl-C does (pytest then still finishes the session, so all three
    reports are written), and hypothesis failures release their answers; undone when the run ends."""
    config.pluginmanager.register(_ReleasingFailures(), "conformance_releasing_failures")
    config.pluginmanager.register(_ShowableInterrupts(), "conformance_showable_interrupts")
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread (an in-process run elsewhere)

    def stop(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if state.interrupted is None:
            state.interrupted = f"the run was ended by {name} after {time.monotonic() - state.clock_start:.0f}s"
        if signum == signal.SIGTERM:
            # a second SIGTERM must not cut the writing of the reports short (SIGKILL still ends the process)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(state.interrupted)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    config.add_cleanup(restore)
    _end_at_the_budget(config, state)


def _end_at_the_budget(config: pytest.Config, state: RunState) -> None:
    """End the run like a signal does when a test is still running BUDGET_GRACE seconds past the budget: the
    transport cuts every call at the budget, but work on what the target sent (a published schema of thousands of
    clauses applied to each image) is not a call. Outside a test the alarm does nothing: no test starts once the
    budget is used up, and pytest may already be ending the run (an interrupt there would lose the reports)."""
    alarm = _Alarm(state)
    alarm.previous = signal.signal(signal.SIGALRM, alarm.ring)
    signal.setitimer(signal.ITIMER_REAL, max(state.limits.left(), 0.0) + BUDGET_GRACE)
    config.pluginmanager.register(alarm, "conformance_budget_alarm")
    config.add_cleanup(alarm.off)


class _Alarm:
    """The budget's alarm: it ends the test it rings in; turned off before the reports are written."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.previous: Any = signal.SIG_DFL
        self.on = True
        self.in_test = False

    def ring(self, signum: int, frame: FrameType | None) -> None:
        """End the test that is running, when one is."""
        if not self.in_test:
            return
        if self.state.stopped is None:
            self.state.stopped = f"{self.state.limits.spent()} (a test still running was ended)"
        raise KeyboardInterrupt(self.state.stopped)

    def off(self) -> None:
        """Cancel the alarm and put back the handler it replaced."""
        if self.on:
            self.on = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self) -> Any:
        self.in_test = True
        try:
            return (yield)
        finally:
            self.in_test = False

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self) -> Any:
        self.off()
        return (yield)


class _ShowableInterrupts:
    """An interrupt raised by a signal handler may land on an instruction that has no line (the cleanup of a `with`
    or `finally`); its traceback entry then has no line number, and pytest, showing the interrupt, fails on it and
    ends the run with a traceback and exit code 1 instead of its summary and 2."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        without_lineless_entries(excinfo.value)


def without_lineless_entries(exc: BaseException, depth: int = 0) -> None:
    """Drop from `exc`'s traceback (and those of the exceptions it was raised from) every entry with no line number."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_lineno is None:
        tb = tb.tb_next
    exc.with_traceback(tb)
    while tb is not None and tb.tb_next is not None:
        if tb.tb_next.tb_lineno is None:
            tb.tb_next = tb.tb_next.tb_next
        else:
            tb = tb.tb_next
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None and depth < 10:
            without_lineless_entries(linked, depth + 1)


class _ReleasingFailures:
    """Hypothesis keeps the exception of every failing example it tries (to shrink and to tell failures apart); the
    exception's frames would keep each example's answer, up to the body cap, alive until the test ends."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            hypothesis = getattr(getattr(item, "obj", None), "hypothesis", None)
            inner = getattr(hypothesis, "inner_test", None)
            if hypothesis is not None and inner is not None and not getattr(inner, "_conformance_releasing", False):
                hypothesis.inner_test = releasing(inner)


def releasing(test: Callable[..., Any]) -> Callable[..., Any]:
    """`test`, its failures raised without the frames (and their locals) they were raised through."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        try:
            return test(*args, **kwargs)
        except (AssertionError, TargetError) as exc:  # the target's doing: the message says it all
            raise released(exc)  # noqa: B904 -- the same exception, its chain kept

    run._conformance_releasing = True  # type: ignore[attr-defined]
    return run


def released(exc: BaseException, depth: int = 0) -> BaseException:
    """`exc` with the locals of the frames it was raised through cleared (and those of the exceptions it was raised
    from); the frames of the conformance tests themselves keep their place, so that pytest shows the failing line."""
    tests = []
    tb = exc.__traceback__
    while tb is not None:
        if _is_test_code(tb.tb_frame.f_code.co_filename):
            tests.append((tb.tb_frame, tb.tb_lasti, tb.tb_lineno))
        tb = tb.tb_next
    if exc.__traceback__ is not None:
        traceback.clear_frames(exc.__traceback__)  # the executing frames (this call's callers) are left alone
    kept = None
    for frame, lasti, lineno in reversed(tests):
        kept = TracebackType(kept, frame, lasti, lineno)
    exc.with_traceback(kept)
    if exc.__suppress_context__:
        exc.__context__ = None
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None and depth < 10:
            released(linked, depth + 1)
    return exc


@functools.cache
def _is_test_code(filename: str) -> bool:
    """Whether code of `filename` is one of the conformance tests (not the suite's library, nor hypothesis)."""
    return Path(filename).resolve().is_relative_to(TESTS_DIR)
