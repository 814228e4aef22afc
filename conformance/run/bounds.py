"""The bounds of one run in this process: the budget every call to a target obeys, and SIGTERM/SIGINT ending the
run with its reports written."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import pytest

from conformance.run.state import RunState
from conformance.targets import bounds

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install(config: pytest.Config, state: RunState) -> None:
    """Bound every call to a target by the run's budget and caps; make SIGTERM and SIGINT end the run like Ctrl-C
    does (pytest then still finishes the session, so all three reports are written); undone when the run ends."""
    bounds.configure(budget=state.config.budget, started=state.clock_start, json_values=state.config.max_json_values)
    config.add_cleanup(bounds.reset)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread (an in-process run elsewhere)

    def stop(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if state.stopped is None:
            state.stopped = f"the run was ended by {name} after {time.monotonic() - state.clock_start:.0f}s"
        if signum == signal.SIGTERM:
            # a second SIGTERM must not cut the writing of the reports short (SIGKILL still ends the process)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(state.stopped)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    config.add_cleanup(restore)
