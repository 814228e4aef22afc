"""Outcomes: the words of a judgement (a test's and a requirement's outcome, the verdict) and what they hold.

The judging itself is `conformance.run.verdict`'s."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from conformance._compat import StrEnum
from conformance.catalog import Requirement
from conformance.checks import Coverage


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

    PASS = "pass"  # every required requirement passed or was waived (deprecated ones may be not offered)
    FAIL = "fail"  # the target broke a required or deprecated requirement, or a waiver expired
    INCOMPLETE = "incomplete"  # part of the suite was judged (a subset, a run cut short, a requirement not judged)
    ERROR = "error"  # the run stopped early: the target stopped answering, or the budget was used up


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
    finished: bool = False  # its teardown was reported: the run did not stop in the middle of it
    problem: str = ""  # the first problem of a failure
    problems: int = 0  # how many problems the failure found

    def update(self, outcome: Outcome, message: str, problem: str = "", problems: int = 0) -> None:
        """Fold the outcome of one phase in: the more serious one stays."""
        if self.outcome is None or PHASE_PRECEDENCE.index(outcome) < PHASE_PRECEDENCE.index(self.outcome):
            self.outcome, self.message, self.problem, self.problems = outcome, message, problem, problems


@dataclass
class RequirementResult:
    """What the run concluded about one requirement."""

    requirement: Requirement
    outcome: Outcome = Outcome.SKIPPED
    tests: list[str] = field(default_factory=list)
    message: str = ""  # the first failure's message (or why it was skipped)
    first_problem: str = ""  # the first problem of the first failed test
    problems: int = 0  # the problems its failed tests found, in all
    waiver: dict[str, str] | None = None
    coverage: Coverage = field(default_factory=Coverage)  # over all its tests

    @property
    def partial(self) -> bool:
        """Passed, with parts of the requirement not judged."""
        return self.outcome == Outcome.PASSED and bool(self.coverage.not_judged)
