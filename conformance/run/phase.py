"""One phase of one test, where it ran: its exchanges, its judgement and a censored report, carried as plain data
on the TestReport so that the ledger folds it in (in a serial run, or on the xdist controller)."""

from __future__ import annotations

import pytest

from conformance.checks import Coverage, evidence_of
from conformance.evidence import Censor, inert, is_inert
from conformance.run import verdict
from conformance.run.ledger import PAYLOAD, payload
from conformance.run.state import RunState
from conformance.targets.errors import TargetError, TargetUnreachable


def record(state: RunState, item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None],
           ids: tuple[str, ...], coverage: Coverage | None) -> None:
    """Judge one phase of a test naming `ids` and put its outcome, message, coverage and exchanges on `report`."""
    exchanges = state.log.drain()
    shown = evidence_of(call.excinfo.value if call.excinfo is not None else None)
    exchanges += [exchange for exchange in shown if exchange not in exchanges]
    report.conformance_exchanges = [exchange.to_dict() for exchange in exchanges]  # type: ignore[attr-defined]
    report.conformance_requirements = ids  # type: ignore[attr-defined]
    outcome, message = verdict.judge_phase(state, item, report, call, coverage)
    if report.failed and getattr(getattr(item, "obj", None), "hypothesis", None) is not None:
        # hypothesis names the seed of a failure only when it chose the seed itself; the suite always chooses it
        report.sections.append(("hypothesis", state.hypothesis.repeat()))
    if call.excinfo is not None and call.excinfo.errisinstance(TargetError):
        report.longrepr = message  # one line: a transport problem needs no traceback
    if call.excinfo is not None and call.excinfo.errisinstance(TargetUnreachable):
        state.stopped = message
        item.session.shouldstop = inert(message)  # pytest prints it
    _safe_report(report, state.log.censor)
    setattr(report, PAYLOAD, payload(outcome, message, coverage, state.stopped))


def _safe_report(report: pytest.TestReport, censor: Censor) -> None:
    """No secret may reach the terminal, junit.xml or report.html, nor a control character the terminal."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        report.longrepr = (*longrepr[:2], inert(censor.text(longrepr[2])))
    elif longrepr is not None:
        text = str(longrepr)
        if censor.leaks(text) or not is_inert(text):
            report.longrepr = inert(censor.text(text))
    report.sections = [(title, inert(censor.text(content))) for title, content in report.sections]
