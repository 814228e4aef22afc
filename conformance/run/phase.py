"""One phase of one test, where it ran: its exchanges, its judgement and a censored report, carried as plain data
on the TestReport so that the ledger folds it in (in a serial run, or on the xdist controller)."""

from __future__ import annotations

import pytest

from conformance.checks import Coverage, evidence_of
from conformance.evidence import Censor, Exchange, inert, is_inert
from conformance.run import verdict
from conformance.run.ledger import PAYLOAD, payload
from conformance.run.outcomes import Outcome
from conformance.run.problems import MAX_PROBLEM_CHARS, first_problem, headline, problems_of
from conformance.run.state import RunState
from conformance.targets.errors import TargetError, TargetUnreachable


def record(state: RunState, item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None],
           ids: tuple[str, ...], coverage: Coverage | None) -> None:
    """Judge one phase of a test naming `ids` and put its outcome, message, coverage and exchanges on `report`."""
    unwrapped = transport_error(call.excinfo.value) if call.excinfo is not None else None
    if unwrapped is not None and unwrapped is not call.excinfo.value:  # type: ignore[union-attr]
        call.excinfo = pytest.ExceptionInfo.from_exception(unwrapped)  # judged as it reads outside hypothesis
    exchanges = state.log.drain()
    shown = evidence_of(call.excinfo.value if call.excinfo is not None else None)
    exchanges += [exchange for exchange in shown if exchange not in exchanges]
    report.conformance_exchanges = [exchange.to_dict() for exchange in exchanges]  # type: ignore[attr-defined]
    report.conformance_requirements = ids  # type: ignore[attr-defined]
    outcome, message = verdict.judge_phase(state, item, report, call, coverage)
    if report.failed and getattr(getattr(item, "obj", None), "hypothesis", None) is not None:
        # hypothesis names the seed of a failure only when it chose the seed itself; the suite always chooses it
        report.sections.append(("hypothesis", state.hypothesis.repeat()))
    problem, count = "", 0
    if outcome in (Outcome.FAILED, Outcome.WAIVED) and call.excinfo is not None:
        problem, count = _problems(report, call.excinfo.value, exchanges, state.log.censor) or (message, 1)
        _failure_first(state, report, outcome, headline(ids, problem, count))
    if call.excinfo is not None and call.excinfo.errisinstance(TargetError):
        report.longrepr = message  # one line: a transport problem needs no traceback
    if call.excinfo is not None and call.excinfo.errisinstance(TargetUnreachable):
        state.stopped = message
        item.session.shouldstop = inert(message)  # pytest prints it
    _safe_report(report, state.log.censor)
    setattr(report, PAYLOAD, payload(outcome, message, coverage, state.stopped, problem, count))


def _problems(report: pytest.TestReport, error: BaseException, exchanges: list[Exchange],
              censor: Censor) -> tuple[str, int] | None:
    """Put the failure's first problems on `report`, each with the index of its exchange among `exchanges`; the
    first problem and the count (None when the failure names none)."""
    title, found, count = problems_of(error)
    texts = [inert(censor.text(text))[:MAX_PROBLEM_CHARS] for text, _ in found]
    report.conformance_problems = [  # type: ignore[attr-defined]
        {"text": text, "exchange": exchanges.index(source) if source is not None and source in exchanges else None}
        for text, (_, source) in zip(texts, found, strict=True)
    ]
    report.conformance_problems_title = inert(censor.text(title))  # type: ignore[attr-defined]
    report.conformance_problem_count = count  # type: ignore[attr-defined]
    return (first_problem(report.conformance_problems_title, texts[0]), count) if texts else None


def _failure_first(state: RunState, report: pytest.TestReport, outcome: Outcome, line: str) -> None:
    """The failure's first problem becomes its one-line message (junit.xml's, the short summary's); an advisory
    failure is reported as an expected failure, so that junit.xml shows it without failing a CI job."""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        crash.message = line
    if outcome == Outcome.WAIVED:
        report.wasxfail = f"{report.wasxfail}; the failure: {line}"  # type: ignore[attr-defined]
    elif verdict.advisory_only(state, tuple(getattr(report, "conformance_requirements", ()))):
        report.outcome = "skipped"
        report.wasxfail = f"advisory, a warning the verdict does not count: {line}"  # type: ignore[attr-defined]
        report.conformance_advisory = True  # type: ignore[attr-defined]


def transport_error(error: BaseException) -> TargetError | None:
    """The transport error `error` is, or the first one inside it when hypothesis wrapped it in an exception group
    (FlakyFailure, or several failures at once); None when there is none."""
    if isinstance(error, TargetError):
        return error
    for inner in getattr(error, "exceptions", None) or ():
        found = transport_error(inner)
        if found is not None:
            return found
    return None


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
