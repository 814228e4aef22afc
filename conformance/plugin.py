"""The pytest plugin: options, markers, outcome bookkeeping and reports. Thin by design."""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path

import pytest

from conformance import FAMILY_OF_OPERATION, REPO_ROOT, catalog, hypothesis_profiles, options, schemas
from conformance.checks import evidence_of, recording
from conformance.cri.fixtures import *  # noqa: F403
from conformance.evidence import Censor, ExchangeLog
from conformance.glance import walks
from conformance.glance.fixtures import *  # noqa: F403
from conformance.glance.v1_fixtures import *  # noqa: F403
from conformance.glance.write_fixtures import *  # noqa: F403
from conformance.options import DEFAULT_PROFILES, ConfigError
from conformance.report import finish
from conformance.run import bounds as run_bounds
from conformance.run.baseline import load_baseline

# Fixtures live in their own module; importing them here makes pytest find them through the plugin.
from conformance.run.fixtures import *  # noqa: F403
from conformance.run.outcomes import Outcome, TestOutcome, Verdict, classify
from conformance.run.state import STATE_KEY, RunState, state_of
from conformance.run.waivers import load_waivers
from conformance.targets.errors import TargetError, TargetUnreachable


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the suite's command-line and ini options (declared once, in `conformance.options`)."""
    options.register(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Build the validated TargetConfig and point the HTML and JUnit reports at the report folder."""
    config.addinivalue_line("markers", "requirement(*ids): the catalogue requirement(s) this test checks")
    config.addinivalue_line("markers", "schema_fields(operation): parametrize `schema_field` from the profile's schema")
    hypothesis_profiles.register_profiles()
    _check_rootdir(config)
    try:
        target_config = options.from_pytest(config)
        catalog.requirements()
        schemas.registry()
    except (ConfigError, catalog.CatalogError) as exc:
        raise pytest.UsageError(str(exc)) from None
    hypothesis = hypothesis_profiles.choose(config)
    walks.set_page_cap(target_config.max_pages)
    try:
        waivers = load_waivers(target_config.waivers, set(catalog.requirements())) if target_config.waivers else []
        baseline = load_baseline(target_config.baseline) if target_config.baseline else None
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STATE_KEY] = RunState(
        config=target_config,
        log=ExchangeLog(Censor(target_config.secrets())),
        hypothesis=hypothesis,
        waivers=waivers,
        baseline=baseline,
    )
    run_bounds.install(config, config.stash[STATE_KEY])
    report_dir = target_config.report_dir
    if getattr(config.option, "htmlpath", "missing") is None:
        config.option.htmlpath = str(report_dir / "report.html")
        config.option.self_contained_html = True
    if getattr(config.option, "xmlpath", "missing") is None:
        config.option.xmlpath = str(report_dir / "junit.xml")
    if config.pluginmanager.hasplugin("html"):
        from conformance.report import html

        config.pluginmanager.register(html, "image_conformance_html")


def _check_rootdir(config: pytest.Config) -> None:
    """pytest picks its rootdir before it knows our options, so `--report-dir DIR` can hide the suite's settings."""
    invoked = Path(config.invocation_params.dir).resolve()
    if config.inipath is None and (invoked == REPO_ROOT or REPO_ROOT in invoked.parents):
        raise pytest.UsageError(
            f"pytest took an option's path for a test path (rootdir {config.rootpath}) and lost the suite's settings; "
            "write path options with '=', e.g. --report-dir=DIR"
        )


def requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    """The requirement ids a test names with @pytest.mark.requirement."""
    return tuple(rid for mark in item.iter_markers("requirement") for rid in mark.args)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `schema_field` with the fields of the active profile's schema for the test's operation."""
    if "schema_field" not in metafunc.fixturenames:
        return
    state = state_of(metafunc.config)
    (operation,) = metafunc.definition.get_closest_marker("schema_fields").args  # type: ignore[union-attr]
    family = FAMILY_OF_OPERATION[operation]
    profile = catalog.profiles()[state.config.profiles.get(family, DEFAULT_PROFILES[family])]
    fields = [spec.name for spec in schemas.field_specs(profile.schemas[operation])]
    metafunc.parametrize("schema_field", fields, ids=fields)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests of the families and profiles under test; label each with its requirements."""
    state = state_of(config)
    known = catalog.requirements()
    active = {family: catalog.profiles()[name] for family, name in state.config.profiles.items()}
    state.requirements = [
        req.under(active[req.family]) for req in known.values()
        if req.family in active and req.applies_to(active[req.family])
    ]
    # What the run lacks the means to judge is listed with the reason, neither certified nor run.
    state.not_judged = [(req, reason) for req in state.requirements if (reason := state.config.cannot_judge(req))]
    unjudged = {req.id for req, _ in state.not_judged}
    state.requirements = [req for req in state.requirements if req.id not in unjudged]
    selected = {req.id: req for req in state.requirements}  # each with the tier its profile gives it
    selected_ids = set(selected)
    keep, drop = [], []
    for item in items:
        ids = requirement_ids(item)
        unknown = [rid for rid in ids if rid not in known]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid} names unknown requirement(s) {', '.join(unknown)}")
        if ids and not any(rid in selected_ids for rid in ids):
            drop.append(item)
            continue
        for rid in ids:
            item.user_properties.append(("requirement", rid))
            if rid in selected:
                item.user_properties.append(("tier", f"{rid}={selected[rid].tier}"))
        for operation in sorted({known[rid].operation for rid in ids}):
            item.user_properties.append(("operation", operation))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    # A run certifies the operations it has tests for: `pytest tests/glance_v2` is a verdict on that operation only.
    collected = {known[rid].operation for item in keep for rid in requirement_ids(item)}
    state.requirements = [req for req in state.requirements if req.operation in collected]
    state.not_judged = [(req, reason) for req, reason in state.not_judged if req.operation in collected]


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say what is certified, against which profile, with which hypothesis seed."""
    if STATE_KEY not in config.stash:
        return []
    state = state_of(config)
    target = state.config.target or "embedded reference targets"
    profiles = ", ".join(f"{family}: {name}" for family, name in state.config.profiles.items())
    info = state.hypothesis
    seed = "derandomized" if info.derandomized else f"seed {info.seed} (repeat with --hypothesis-seed={info.seed})"
    return [f"conformance target: {target} · profiles: {profiles}", f"hypothesis: profile {info.profile}, {seed}"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the exchanges of this phase and a failure's evidence to its report; fold its outcome into the run."""
    report = yield
    ids = requirement_ids(item)
    if STATE_KEY not in item.config.stash or not ids:
        return report
    state = state_of(item.config)
    exchanges = state.log.drain()
    shown = evidence_of(call.excinfo.value if call.excinfo is not None else None)
    exchanges += [exchange for exchange in shown if exchange not in exchanges]
    report.conformance_exchanges = [exchange.to_dict() for exchange in exchanges]  # type: ignore[attr-defined]
    report.conformance_requirements = ids  # type: ignore[attr-defined]
    outcome, message = classify(report, call)
    test = state.tests.setdefault(item.nodeid, TestOutcome(item.nodeid, ids))
    if report.when == "call" and outcome == Outcome.PASSED and not test.coverage.judged:
        # A test that judged nothing did not pass: it is skipped, with what kept it from judging.
        message = f"nothing judged: {test.coverage.reasons() or 'no case to judge'}"
        outcome, report.outcome = Outcome.SKIPPED, "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {message}")
    censor = state.log.censor
    message = censor.text(message)
    if censor.secrets:
        _censor_report(report, censor)
    if outcome == Outcome.FAILED:
        waivers = [state.active_waiver(rid) for rid in ids]
        if all(waivers):
            reasons = "; ".join(f"{w.requirement} until {w.expires}: {w.reason}" for w in waivers if w)
            outcome, message = Outcome.WAIVED, f"waived ({reasons}); the failure: {message}"
            report.outcome = "skipped"
            report.wasxfail = f"waived: {reasons}"  # type: ignore[attr-defined]
    if report.failed and getattr(getattr(item, "obj", None), "hypothesis", None) is not None:
        # hypothesis names the seed of a failure only when it chose the seed itself; the suite always chooses it
        report.sections.append(("hypothesis", state.hypothesis.repeat()))
    test.update(outcome, message)
    if call.excinfo is not None and call.excinfo.errisinstance(TargetError):
        report.longrepr = message  # one line: a transport problem needs no traceback
    if call.excinfo is not None and call.excinfo.errisinstance(TargetUnreachable):
        state.stopped = message
        item.session.shouldstop = message
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Let the test's checks count what they judge and what they cannot into the test's coverage."""
    if STATE_KEY not in item.config.stash or not requirement_ids(item):
        return (yield)
    test = state_of(item.config).tests.setdefault(item.nodeid, TestOutcome(item.nodeid, requirement_ids(item)))
    with recording(test.coverage):
        return (yield)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Stop the run once the overall --budget is used up; what did not run is recorded as `error`."""
    if STATE_KEY not in item.config.stash or not requirement_ids(item):
        return
    state = state_of(item.config)
    used = time.monotonic() - state.clock_start
    if used > state.config.budget and state.stopped is None:
        state.stopped = f"the run's budget of {state.config.budget:g}s was used up after {used:.0f}s"
        item.session.shouldstop = state.stopped
    if state.stopped is not None:
        pytest.skip(f"not run: {state.stopped}")


def _censor_report(report: pytest.TestReport, censor: Censor) -> None:
    """No secret may reach the terminal, junit.xml or report.html through a traceback or captured output."""
    if report.longrepr is not None and any(secret in str(report.longrepr) for secret in censor.secrets):
        report.longrepr = censor.text(str(report.longrepr))
    report.sections = [(title, censor.text(content)) for title, content in report.sections]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Decide the verdict, write results.json, and make the exit status follow the verdict."""
    if STATE_KEY not in session.config.stash:
        return
    state = state_of(session.config)
    if not state.requirements or session.config.option.collectonly:
        return
    finish.conclude(state)
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = pytest.ExitCode.OK if state.verdict == Verdict.PASS else pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """One line with the verdict and where the reports are."""
    if STATE_KEY not in config.stash:
        return
    state = state_of(config)
    if state.document is None:
        return
    passed = state.verdict == Verdict.PASS
    terminalreporter.write_sep("=", finish.summary_line(state), bold=True, red=not passed, green=passed)
