"""How a run ends well in this process: SIGTERM/SIGINT end it with its reports written, and failures of hypothesis
examples keep no answer alive."""

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


def install(config: pytest.Config, state: RunState) -> None:
    """Make SIGTERM and SIGINT end the run like Ctrl-C does (pytest then still finishes the session, so all three
    reports are written), and hypothesis failures release their answers; undone when the run ends."""
    config.pluginmanager.register(_ReleasingFailures(), "conformance_releasing_failures")
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
