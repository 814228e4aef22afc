"""The judgement of a run, in one place: which requirements the run's profiles certify (with their tiers) and which
it cannot judge; the outcome of each test phase (nothing judged, waived); the outcome of each requirement; the
verdict; and the exit status that follows it. The plugin only calls in here, and the reports only show the result."""

from __future__ import annotations

import sys

import pytest

from conformance import catalog
from conformance.catalog import Requirement, Tier
from conformance.checks import Coverage
from conformance.evidence import clip
from conformance.options import TargetConfig
from conformance.run.outcomes import PRECEDENCE, NotOffered, Outcome, RequirementResult, TestOutcome, Verdict
from conformance.run.state import RunState
from conformance.targets.errors import TargetError

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup


def certified(config: TargetConfig) -> tuple[list[Requirement], list[tuple[Requirement, str]]]:
    """The requirements the run's families and profiles certify (each with its profile's tier), and those it lacks
    the means to judge, with the reason; the second are listed, neither certified nor run."""
    active = {family: catalog.profiles()[name] for family, name in config.profiles.items()}
    applicable = [
        req.under(active[req.family]) for req in catalog.requirements().values()
        if req.family in active and req.applies_to(active[req.family])
    ]
    not_judged = [(req, reason) for req in applicable if (reason := config.cannot_judge(req))]
    unjudged = {req.id for req, _ in not_judged}
    return [req for req in applicable if req.id not in unjudged], not_judged


def judge_phase(state: RunState, item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None],
                coverage: Coverage | None) -> tuple[Outcome, str]:
    """(outcome, message) of one phase of a test; a test that judged nothing, or a waived failure, is made a skip."""
    outcome, message = classify(report, call)
    if report.when == "call" and outcome == Outcome.PASSED and not (coverage and coverage.judged):
        # A test that judged nothing did not pass: it is skipped, with what kept it from judging.
        message = f"nothing judged: {(coverage and coverage.reasons()) or 'no case to judge'}"
        outcome, report.outcome = Outcome.SKIPPED, "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {message}")
    message = state.log.censor.text(message)
    if outcome == Outcome.FAILED:
        ids = tuple(getattr(report, "conformance_requirements", ()))
        waivers = [state.active_waiver(rid) for rid in ids]
        if all(waivers):
            reasons = "; ".join(f"{w.requirement} until {w.expires}: {w.reason}" for w in waivers if w)
            outcome, message = Outcome.WAIVED, f"waived ({reasons}); the failure: {message}"
            report.outcome = "skipped"
            report.wasxfail = f"waived: {reasons}"  # type: ignore[attr-defined]
    return outcome, message


def classify(report: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[Outcome, str]:
    """(outcome, one-line message) of one phase of a test, as pytest reported it."""
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
        if result.outcome in (Outcome.FAILED, Outcome.WAIVED):
            result.first_problem = worst.problem
            result.problems = sum(t.problems for t in outcomes if t.outcome == result.outcome)
        if result.outcome == Outcome.PASSED and not result.coverage.judged:
            reasons = result.coverage.reasons() or "no case to judge"
            result.outcome, result.message = Outcome.SKIPPED, f"nothing judged: {reasons}"
    return list(results.values())


def decide(state: RunState, cut_short: str | None = None) -> None:
    """Fill in the result of every requirement the run certified, the verdict and why it is not pass.

    `cut_short` is why pytest stopped before the last selected test (-x, --maxfail), when it did.
    """
    selection = state.selection
    run = [req for req in state.requirements if selection is None or not selection.subset
           or req.id in selection.run_ids]
    tests = ordered_tests(state)
    unfinished = _unfinished(state)
    if (unfinished or state.interrupted) and not state.stopped:  # a signal may come before the first test
        # Cut short by its user (a signal, -x, --maxfail): what the run did not reach is not run, not the target's.
        state.cut_short = state.interrupted or cut_short or f"{len(unfinished)} selected test(s) did not finish"
        state.cut_by_maxfail = not state.interrupted and cut_short is not None
        tests = [test for test in tests if test.nodeid not in unfinished]
        reached = {rid for test in tests for rid in test.requirement_ids}
        state.not_reached = [req for req in run if req.id not in reached]
        run = [req for req in run if req.id in reached]
    state.results = aggregate(run, tests, state.caps)
    for result in state.results:
        if state.stopped and result.outcome == Outcome.SKIPPED:
            result.outcome, result.message = Outcome.ERROR, state.stopped
        left = sum(nodeid in unfinished for nodeid in _planned(state, result.requirement.id))
        if left:
            result.coverage.leave(f"{left} of its tests not run: {state.cut_short or state.stopped}")
        waiver = state.active_waiver(result.requirement.id)
        if waiver and result.outcome == Outcome.WAIVED:
            result.waiver = waiver.to_dict()
    state.verdict, state.verdict_reasons = verdict(state)


def _planned(state: RunState, requirement_id: str) -> list[str]:
    return state.selection.planned.get(requirement_id, []) if state.selection else []


def _unfinished(state: RunState) -> set[str]:
    """The selected tests the run did not finish (never started, or stopped in the middle)."""
    if state.selection is None:
        return set()
    planned = {nodeid for nodeids in state.selection.planned.values() for nodeid in nodeids}
    return {nodeid for nodeid in planned if not ((test := state.tests.get(nodeid)) and test.finished)}


def ordered_tests(state: RunState) -> list[TestOutcome]:
    """The tests in collection order, however xdist workers interleaved their reports."""
    order = {nodeid: n for n, nodeid in enumerate(state.selection.order if state.selection else ())}
    return sorted(state.tests.values(), key=lambda test: order.get(test.nodeid, len(order)))


def advisory_only(state: RunState, ids: tuple[str, ...]) -> bool:
    """Whether every requirement of `ids` is advisory under the run's profiles (its failure is a warning)."""
    tiers = {req.id: req.tier for req in state.requirements}
    return bool(ids) and all(tiers.get(rid) == Tier.ADVISORY for rid in ids)


def requirement_is_met(result: RequirementResult) -> bool:
    """Whether this requirement lets the verdict be pass."""
    tier = result.requirement.tier
    if tier == Tier.ADVISORY:
        return True
    if result.outcome in (Outcome.PASSED, Outcome.WAIVED):
        return True
    return tier == Tier.DEPRECATED and result.outcome == Outcome.NOT_OFFERED


def verdict(state: RunState) -> tuple[Verdict, list[str]]:
    """The verdict of a decided run, and why it is not pass (one line each), as README defines it."""
    subset = state.selection.reasons if state.selection is not None and state.selection.subset else ()
    return rule(
        state.results, stopped=state.stopped, subset=tuple(subset), cut_short=state.cut_short,
        not_reached=len(state.not_reached),
        expired=tuple((w["requirement"], w["expires"]) for w in expired_waivers(state)),
        unjudged=tuple((req.id, str(req.tier), reason) for req, reason in unjudged_blocking(state)),
    )


def rule(results: list[RequirementResult], *, stopped: str | None = None, subset: tuple[str, ...] = (),
         cut_short: str | None = None, not_reached: int = 0, expired: tuple[tuple[str, str], ...] = (),
         unjudged: tuple[tuple[str, str, str], ...] = ()) -> tuple[Verdict, list[str]]:
    """The verdict rule itself, on the facts a run records (results.json holds each of them), and its reasons.

    `error` when the target or the budget stopped the run (never `fail`); `incomplete` for a subset or a run cut
    short, whatever it found; otherwise `fail` when a required or deprecated requirement is not met or a waiver
    expired; `incomplete` when one the profile requires could not be judged (the reason names the option that
    would judge it); `pass` otherwise. `expired` holds (requirement, date); `unjudged` (requirement, tier, why).
    """
    if stopped:
        return Verdict.ERROR, [f"the run stopped early: {stopped}"]
    reasons = []
    if subset:
        reasons.append(f"a subset of the suite ran: {'; '.join(subset)}")
    if cut_short:
        reasons.append(f"the run was cut short ({cut_short}): {not_reached} requirement(s) not reached")
    if reasons:
        return Verdict.INCOMPLETE, reasons
    failing = [f"{r.requirement.id} not met" for r in results if not requirement_is_met(r)]
    lapsed = [f"the waiver of {requirement} expired on {expires}" for requirement, expires in expired]
    if lapsed or failing or not results:
        return Verdict.FAIL, [*failing, *lapsed] or ["no requirement was judged"]
    if unjudged:
        return Verdict.INCOMPLETE, [f"{rid} ({tier}) not judged: {reason}" for rid, tier, reason in unjudged]
    return Verdict.PASS, []


def unjudged_blocking(state: RunState) -> list[tuple[Requirement, str]]:
    """The requirements the run could not judge that a pass needs: required and deprecated ones, but not those
    its owner left out by not opting in (the CRI lifecycle's writes without --allow-writes)."""
    return [(req, reason) for req, reason in state.not_judged if blocks_pass(req.tier, req.opt_in)]


def blocks_pass(tier: Tier | str, opt_in: bool) -> bool:
    """Whether a requirement of `tier` the run did not judge keeps the verdict from pass (`opt_in`: it needs
    something the run's owner opts into, and did not)."""
    return tier != Tier.ADVISORY and not opt_in


def not_met(state: RunState) -> list[str]:
    """The ids of the requirements the run judged that keep its verdict from being pass."""
    return [r.requirement.id for r in state.results if not requirement_is_met(r)]


def not_run(state: RunState) -> list[Requirement]:
    """The requirements certified but not run: those a subset left out, and those a run cut short did not reach."""
    left_out = []
    if state.selection is not None and state.selection.subset:
        left_out = [req for req in state.requirements if req.id not in state.selection.run_ids]
    return left_out + state.not_reached


def expired_waivers(state: RunState) -> list[dict[str, str]]:
    """Waivers past their date: each fails the run until it is renewed or removed."""
    return [w.to_dict() for w in state.waivers if w.expired(state.today)]


def fails(state: RunState) -> bool:
    """Whether the run exits 1: a failed verdict; or an incomplete one with a judged requirement not met, a waiver
    expired, or (in a whole run) a requirement the profile needs not judged."""
    if state.verdict == Verdict.FAIL:
        return True
    if state.verdict != Verdict.INCOMPLETE:
        return False
    narrowed = state.cut_short or (state.selection is not None and state.selection.subset)
    return bool(not_met(state) or expired_waivers(state) or (not narrowed and unjudged_blocking(state)))


def exit_status(state: RunState, status: int | pytest.ExitCode) -> int | pytest.ExitCode:
    """The exit status of a decided run: 2 when it stopped early or a signal ended it, otherwise the verdict's."""
    if state.verdict == Verdict.ERROR or state.interrupted or state.unwritten:
        return pytest.ExitCode.INTERRUPTED  # 2: the run's record is incomplete
    if status in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or state.cut_by_maxfail:
        # pytest-xdist ends a run that -x or --maxfail cut short as interrupted; a serial run as failed
        return pytest.ExitCode.TESTS_FAILED if fails(state) else pytest.ExitCode.OK
    return status


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return clip(text.splitlines()[0], 500)
