"""The run's bookkeeping, kept where the reports arrive: in a serial run, or on the xdist controller.

A test's phase is judged where it runs (its outcome, message and coverage travel on its TestReport as plain
data); the ledger folds the reports in. What xdist workers learn about the session (the endpoints, the caps,
the selection) reaches the controller through `workeroutput` when each worker finishes.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import Coverage
from conformance.run.activation import WORKER_FLAG
from conformance.run.outcomes import Outcome, TestOutcome
from conformance.run.selection import Selection
from conformance.run.state import RunState

PAYLOAD = "conformance_outcome"  # the TestReport attribute with one phase's outcome, message and coverage
EXPORT = "conformance"  # the workeroutput key with what a worker learnt about the session


def payload(outcome: Outcome, message: str, coverage: Coverage | None, stopped: str | None,
            problem: str = "", problems: int = 0) -> dict[str, Any]:
    """One phase's judgement as plain data, so that xdist carries it to the controller."""
    return {
        "outcome": outcome.value,
        "message": message,
        "problem": problem,
        "problems": problems,
        "judged": dict(coverage.judged) if coverage else {},
        "not_judged": dict(coverage.not_judged) if coverage else {},
        "stopped": stopped,
    }


class Ledger:
    """Folds test reports into the RunState (serial runs and the xdist controller; never an xdist worker)."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Fold one phase of one test into the run."""
        data = getattr(report, PAYLOAD, None)
        if not data:
            return
        ids = tuple(getattr(report, "conformance_requirements", ()))
        if report.when != "call":
            # fixtures' exchanges (discovery, session setup and cleanup): recorded even when the test passes
            self.state.discovery += [{"made_for": report.nodeid, "phase": report.when, **shown}
                                     for shown in getattr(report, "conformance_exchanges", ())]
        test = self.state.tests.setdefault(report.nodeid, TestOutcome(report.nodeid, ids))
        test.coverage.merge(Coverage(dict(data["judged"]), dict(data["not_judged"])))
        test.update(Outcome(data["outcome"]), data["message"], data["problem"], data["problems"])
        test.finished = test.finished or report.when == "teardown"
        if data.get("stopped") and self.state.stopped is None:
            self.state.stopped = data["stopped"]

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """An xdist worker of a conformance run is one too."""
        node.workerinput[WORKER_FLAG] = True

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """Take in what a finished xdist worker learnt about the session."""
        data = getattr(node, "workeroutput", {}).get(EXPORT)
        if data:
            merge(self.state, data)


def export(state: RunState) -> dict[str, Any]:
    """What an xdist worker learnt about the session, as plain data."""
    return {
        "targets": state.targets.to_dict(),
        "caps": dict(state.caps),
        "stopped": state.stopped,
        "selection": state.selection.to_dict() if state.selection else None,
    }


def merge(state: RunState, data: dict[str, Any]) -> None:
    """Add what one worker learnt; every worker collected the same tests, so the first selection stands."""
    state.targets.take(data["targets"])
    for kind, left_out in data["caps"].items():
        state.caps.setdefault(kind, left_out)
    if data["stopped"] and state.stopped is None:
        state.stopped = data["stopped"]
    if data["selection"] and state.selection is None:
        state.selection = Selection.from_dict(data["selection"])
