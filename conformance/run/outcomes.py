"""Outcomes: what each test says about its requirements, and the verdict they add up to."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import pytest
from _pytest.outcomes import Skipped

from conformance.catalog import Requirement
from conformance.targets.errors import TargetError

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

OUTCOMES = ("passed", "failed", "waived", "skipped", "not-offered", "error")
# When one requirement has tests with different outcomes, the first of these wins.
PRECEDENCE = ("failed", "error", "waived", "passed", "not-offered", "skipped")


class NotOffered(Skipped):
    """The target does not offer the operation at all (a deprecated API it has dropped)."""


def not_offered(reason: str) -> None:
    """Stop the running test: the operation is not offered by the target."""
    __tracebackhide__ = True
    raise NotOffered(f"not offered: {reason}", allow_module_level=False)


# Folding the phases (setup, call, teardown) of one test: a skip in setup is not undone by a clean teardown.
PHASE_PRECEDENCE = ("failed", "error", "waived", "not-offered", "skipped", "passed")


@dataclass
class TestOutcome:
    """The outcome of one test, over all its phases."""

    nodeid: str
    requirement_ids: tuple[str, ...]
    outcome: str | None = None
    message: str = ""

    def update(self, outcome: str, message: str) -> None:
        """Fold the outcome of one phase in: the more serious one stays."""
        if self.outcome is None or PHASE_PRECEDENCE.index(outcome) < PHASE_PRECEDENCE.index(self.outcome):
            self.outcome, self.message = outcome, message


def classify(report: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[str, str]:
    """(outcome, one-line message) of one phase of a test."""
    excinfo = call.excinfo
    if report.passed:
        return "passed", ""
    if report.skipped:
        if excinfo is not None and excinfo.errisinstance(NotOffered):
            return "not-offered", str(excinfo.value)
        return "skipped", _skip_reason(report)
    if excinfo is None:
        return "error", "the test failed without an exception"
    message = _first_line(excinfo.value)
    if excinfo.errisinstance(TargetError):
        return "error", message
    if report.when == "call" and excinfo.errisinstance(AssertionError):
        return "failed", message
    group = excinfo.value
    if isinstance(group, BaseExceptionGroup) and all(  # hypothesis reports several distinct failures this way
        isinstance(e, AssertionError) for e in group.exceptions
    ):
        return "failed", message
    return "error", f"{excinfo.typename}: {message}"


@dataclass
class RequirementResult:
    """What the run concluded about one requirement."""

    requirement: Requirement
    outcome: str = "skipped"
    tests: list[str] = field(default_factory=list)
    message: str = ""
    waiver: dict[str, str] | None = None


def aggregate(requirements: list[Requirement], tests: list[TestOutcome]) -> list[RequirementResult]:
    """One result per requirement from the outcomes of the tests that name it."""
    results = {req.id: RequirementResult(req) for req in requirements}
    seen: dict[str, list[TestOutcome]] = {req.id: [] for req in requirements}
    for test in tests:
        for rid in test.requirement_ids:
            if rid in seen:
                seen[rid].append(test)
    for rid, outcomes in seen.items():
        result = results[rid]
        result.tests = [t.nodeid for t in outcomes]
        if not outcomes:
            result.outcome, result.message = "skipped", "no test of this requirement ran"
            continue
        worst = min(outcomes, key=lambda t: PRECEDENCE.index(t.outcome or "skipped"))
        result.outcome, result.message = worst.outcome or "skipped", worst.message
    return list(results.values())


def requirement_is_met(result: RequirementResult) -> bool:
    """Whether this requirement lets the verdict be pass."""
    tier = result.requirement.tier
    if tier == "advisory":
        return True
    if result.outcome in ("passed", "waived"):
        return True
    return tier == "deprecated" and result.outcome == "not-offered"


def verdict(results: list[RequirementResult], *, expired_waivers: bool = False) -> str:
    """`pass` iff every required requirement passed or was waived (deprecated ones may be not offered)."""
    if expired_waivers or not results:
        return "fail"
    return "pass" if all(requirement_is_met(r) for r in results) else "fail"


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]
