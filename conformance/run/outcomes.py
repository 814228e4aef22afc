"""Outcomes: what each test says about its requirements, and the verdict they add up to."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import pytest

from conformance._compat import StrEnum
from conformance.catalog import Requirement, Tier
from conformance.checks import Coverage
from conformance.targets.errors import TargetError

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup


class Outcome(StrEnum):
    """What the run concluded about a test or a requirement; only `failed` counts against the target."""

    PASSED = "passed"
    FAILED = "failed"  # the target broke the requirement
    WAIVED = "waived"  # it failed, under an unexpired waiver
    SKIPPED = "skipped"  # nothing to test
    NOT_OFFERED = "not-offered"  # the target does not offer the operation
    ERROR = "error"  # the suite or the connection broke


class Verdict(StrEnum):
    """The verdict of a run."""

    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"  # the run selected part of the suite: never a pass, whatever it found


# When one requirement has tests with different outcomes, the first of these wins.
PRECEDENCE = (Outcome.FAILED, Outcome.ERROR, Outcome.WAIVED, Outcome.PASSED, Outcome.NOT_OFFERED, Outcome.SKIPPED)
# Folding the phases (setup, call, teardown) of one test: a skip in setup is not undone by a clean teardown.
PHASE_PRECEDENCE = (
    Outcome.FAILED, Outcome.ERROR, Outcome.WAIVED, Outcome.NOT_OFFERED, Outcome.SKIPPED, Outcome.PASSED,
)


# pytest exports its skip exception only as `pytest.skip.Exception`, which type checkers cannot take as a base.
class NotOffered(pytest.skip.Exception):  # type: ignore[name-defined]
    """The target does not offer the operation at all (a deprecated API it has dropped)."""


def not_offered(reason: str) -> None:
    """Stop the running test: the operation is not offered by the target."""
    __tracebackhide__ = True
    raise NotOffered(f"not offered: {reason}", allow_module_level=False)


@dataclass
class TestOutcome:
    """The outcome of one test, over all its phases."""

    nodeid: str
    requirement_ids: tuple[str, ...]
    outcome: Outcome | None = None
    message: str = ""
    coverage: Coverage = field(default_factory=Coverage)  # what the test judged and what it could not

    def update(self, outcome: Outcome, message: str) -> None:
        """Fold the outcome of one phase in: the more serious one stays."""
        if self.outcome is None or PHASE_PRECEDENCE.index(outcome) < PHASE_PRECEDENCE.index(self.outcome):
            self.outcome, self.message = outcome, message


def classify(report: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[Outcome, str]:
    """(outcome, one-line message) of one phase of a test."""
    excinfo = call.excinfo
    if report.passed:
        return Outcome.PASSED, ""
    if report.skipped:
        if excinfo is not None and excinfo.errisinstance(NotOffered):
            return Outcome.NOT_OFFERED, str(excinfo.value)
        return Outcome.SKIPPED, _skip_reason(report)
    if excinfo is None:
        return Outcome.ERROR, "the test failed without an exception"
    message = _first_line(excinfo.value)
    if excinfo.errisinstance(TargetError):
        return Outcome.ERROR, message
    if report.when == "call" and excinfo.errisinstance(AssertionError):
        return Outcome.FAILED, message
    group = excinfo.value
    if isinstance(group, BaseExceptionGroup) and all(  # hypothesis reports several distinct failures this way
        isinstance(e, AssertionError) for e in group.exceptions
    ):
        return Outcome.FAILED, message
    return Outcome.ERROR, f"{excinfo.typename}: {message}"


@dataclass
class RequirementResult:
    """What the run concluded about one requirement."""

    requirement: Requirement
    outcome: Outcome = Outcome.SKIPPED
    tests: list[str] = field(default_factory=list)
    message: str = ""  # the first failure's message (or why it was skipped)
    waiver: dict[str, str] | None = None
    coverage: Coverage = field(default_factory=Coverage)  # over all its tests

    @property
    def partial(self) -> bool:
        """Passed, with parts of the requirement not judged."""
        return self.outcome == Outcome.PASSED and bool(self.coverage.not_judged)


def aggregate(requirements: list[Requirement], tests: list[TestOutcome],
              caps: dict[str, str] | None = None) -> list[RequirementResult]:
    """One result per requirement from the outcomes and coverage of the tests that name it.

    `caps` maps a kind of case to what a cap of the run left out of it; a requirement that judged that kind lists it.
    """
    results = {req.id: RequirementResult(req) for req in requirements}
    seen: dict[str, list[TestOutcome]] = {req.id: [] for req in requirements}
    for test in tests:
        for rid in test.requirement_ids:
            if rid in seen:
                seen[rid].append(test)
    for rid, outcomes in seen.items():
        result = results[rid]
        result.tests = [t.nodeid for t in outcomes]
        for test in outcomes:
            result.coverage.merge(test.coverage)
            if test.outcome == Outcome.SKIPPED and test.message and not test.coverage.not_judged:
                result.coverage.leave(test.message)  # a skipped case says why in its skip reason
        for left_out in dict.fromkeys(left for kind, left in (caps or {}).items() if kind in result.coverage.judged):
            result.coverage.leave(left_out)
        if not outcomes:
            result.outcome, result.message = Outcome.SKIPPED, "no test of this requirement ran"
            continue
        worst = min(outcomes, key=lambda t: PRECEDENCE.index(t.outcome or Outcome.SKIPPED))
        result.outcome, result.message = worst.outcome or Outcome.SKIPPED, worst.message
        if result.outcome == Outcome.PASSED and not result.coverage.judged:
            reasons = result.coverage.reasons() or "no case to judge"
            result.outcome, result.message = Outcome.SKIPPED, f"nothing judged: {reasons}"
    return list(results.values())


def requirement_is_met(result: RequirementResult) -> bool:
    """Whether this requirement lets the verdict be pass."""
    tier = result.requirement.tier
    if tier == Tier.ADVISORY:
        return True
    if result.outcome in (Outcome.PASSED, Outcome.WAIVED):
        return True
    return tier == Tier.DEPRECATED and result.outcome == Outcome.NOT_OFFERED


def verdict(results: list[RequirementResult], *, expired_waivers: bool = False, subset: bool = False) -> Verdict:
    """`pass` iff every required requirement passed or was waived (deprecated ones may be not offered).

    A subset of the suite is `incomplete`, whatever its requirements did.
    """
    if subset:
        return Verdict.INCOMPLETE
    if expired_waivers or not results:
        return Verdict.FAIL
    return Verdict.PASS if all(requirement_is_met(r) for r in results) else Verdict.FAIL


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]
