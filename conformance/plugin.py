"""The pytest plugin: options always; everything else only in a conformance run, so that other projects see nothing.

A run is a conformance run when it collects the suite's tests or is given a suite option (see
`conformance.run.activation`). The fixtures, hypothesis, gRPC and the reports are imported then, not before.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance import options
from conformance.run import activation

if TYPE_CHECKING:
    from conformance.run.state import RunState

ACTIVE = pytest.StashKey[bool]()
COVERAGE = pytest.StashKey[Any]()  # what the running test judged (an item's own, on any worker)
KEPT_BY_PROFILE = pytest.StashKey[int]()  # tests left once the run's families and profiles chose theirs
# The fixtures each family's tests use, loaded only when the run certifies that family (gRPC only for CRI).
FIXTURE_MODULES = {
    "": ("conformance.run.fixtures",),
    "glance": ("conformance.glance.fixtures", "conformance.glance.v1_fixtures", "conformance.glance.write_fixtures",
               "conformance.glance.v2_list_fixtures"),
    "cri": ("conformance.cri.fixtures", "conformance.cri.lifecycle_fixtures"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the suite's command-line and ini options (declared once, in `conformance.options`)."""
    options.register(parser)


def _active(config: pytest.Config) -> bool:
    return config.stash.get(ACTIVE, False)


def _state(config: pytest.Config) -> RunState:
    from conformance.run.state import state_of

    return state_of(config)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _distributed(config: pytest.Config) -> bool:
    """Whether pytest-xdist runs the tests in worker processes (on the controller or a worker)."""
    return _is_worker(config) or bool(getattr(config.option, "numprocesses", None)) or (
        getattr(config.option, "dist", "no") != "no")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """In a conformance run: build the RunState, load the fixtures, point the HTML and JUnit reports at the folder."""
    if not activation.requested(config):
        return
    config.stash[ACTIVE] = True
    from conformance import catalog, hypothesis_profiles, schemas
    from conformance.evidence import Censor, ExchangeLog
    from conformance.options import ConfigError
    from conformance.run import signals
    from conformance.run.baseline import load_baseline
    from conformance.run.ledger import Ledger
    from conformance.run.selection import register_markers
    from conformance.run.state import STATE_KEY, RunState
    from conformance.run.verdict import certified
    from conformance.run.waivers import load_waivers
    from conformance.targets.limits import release_large_buffers

    release_large_buffers()
    register_markers(config)
    hypothesis_profiles.register_profiles()
    hypothesis_profiles.keep_storage_out_of_the_working_folder()
    _check_rootdir(config)
    _refuse_cache_options(config)
    try:
        target_config = options.from_pytest(config)
        catalog.requirements()
        schemas.registry()
    except (ConfigError, catalog.CatalogError) as exc:
        raise pytest.UsageError(str(exc)) from None
    if not config.option.help and not _is_worker(config):
        from conformance.report import writing

        try:
            writing.check_folder(target_config.report_dir)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.pluginmanager.register(writing, "image_conformance_report_writing")
    if target_config.allow_writes and _distributed(config):
        # every worker would write, and sweep, fixture images of its own: one run, one set of images
        raise pytest.UsageError("--allow-writes cannot be combined with pytest-xdist (-n/--dist); run it serially")
    hypothesis = hypothesis_profiles.choose(config)
    try:
        waivers = load_waivers(target_config.waivers, set(catalog.requirements())) if target_config.waivers else []
        baseline = load_baseline(target_config.baseline) if target_config.baseline else None
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    state = RunState(
        config=target_config,
        log=ExchangeLog(Censor(target_config.secrets()).install()),
        hypothesis=hypothesis,
        waivers=waivers,
        baseline=baseline,
    )
    state.requirements, state.not_judged = certified(target_config)
    config.stash[STATE_KEY] = state
    for family in ("", *target_config.families):
        for name in FIXTURE_MODULES[family]:
            config.pluginmanager.register(importlib.import_module(name), f"image_conformance:{name}")
    if not _is_worker(config):  # an xdist worker's reports are folded in by its controller
        config.pluginmanager.register(Ledger(state), "image_conformance_ledger")
    signals.install(config, state)
    report_dir = target_config.report_dir
    if config.option.collectonly:
        return  # nothing is judged: no report is written
    if getattr(config.option, "htmlpath", "missing") is None:
        config.option.htmlpath = str(report_dir / "report.html")
        config.option.self_contained_html = True
    if getattr(config.option, "xmlpath", "missing") is None:
        config.option.xmlpath = str(report_dir / "junit.xml")
    if config.pluginmanager.hasplugin("html"):
        from conformance.report import html

        config.pluginmanager.register(html, "image_conformance_html")
    if target_config.record and not _is_worker(config):
        from conformance.record import hooks as record_hooks

        try:
            record_hooks.prepare(config, target_config)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None


def _check_rootdir(config: pytest.Config) -> None:
    """pytest picks its rootdir before it knows our options, so `--report-dir DIR` can hide the suite's settings."""
    from conformance import REPO_ROOT

    invoked = Path(config.invocation_params.dir).resolve()
    if config.inipath is None and (invoked == REPO_ROOT or REPO_ROOT in invoked.parents):
        raise pytest.UsageError(
            f"pytest took an option's path for a test path (rootdir {config.rootpath}) and lost the suite's settings; "
            "write path options with '=', e.g. --report-dir=DIR"
        )


CACHE_OPTIONS = {"lf": "--lf", "failedfirst": "--ff", "newfirst": "--nf", "stepwise": "--sw",
                 "stepwise_skip": "--sw-skip"}


def _refuse_cache_options(config: pytest.Config) -> None:
    """--lf, --ff, --nf and --sw read pytest's cache, which a conformance run turns off: refused, not ignored."""
    given = [flag for dest, flag in CACHE_OPTIONS.items() if getattr(config.option, dest, False)]
    if given:
        raise pytest.UsageError(
            f"{given[0]} needs pytest's cache, which the suite turns off (-p no:cacheprovider) so that every run "
            "judges the target afresh; choose tests with -k, -m or a test id (results.json lists the failed ones)"
        )


def requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    """The requirement ids a test names with @pytest.mark.requirement."""
    return tuple(rid for mark in item.iter_markers("requirement") for rid in mark.args)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `schema_field` with the fields of the active profile's schema for the test's operation."""
    if not _active(metafunc.config) or "schema_field" not in metafunc.fixturenames:
        return
    from conformance import FAMILY_OF_OPERATION, catalog, schemas
    from conformance.options import DEFAULT_PROFILES

    state = _state(metafunc.config)
    (operation,) = metafunc.definition.get_closest_marker("schema_fields").args  # type: ignore[union-attr]
    family = FAMILY_OF_OPERATION[operation]
    profile = catalog.profiles()[state.config.profiles.get(family, DEFAULT_PROFILES[family])]
    fields = [spec.name for spec in schemas.field_specs(profile.schemas[operation])]
    metafunc.parametrize("schema_field", fields, ids=fields)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In a conformance run, leave unimported the test folders of a family the run does not certify."""
    family = activation.family_of_folder(collection_path) if _active(config) else None
    if family is None or family in _state(config).config.families:
        return None
    # a folder named on the command line is collected (and its tests deselected) as asked
    return None if collection_path in activation.argument_paths(config) else True


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests of the families and profiles under test; label each with its requirements and markers.

    It runs before -k, -m and --deselect filter the items, so that the markers it adds can be selected.
    """
    if not _active(config):
        return
    from conformance import catalog
    from conformance.run.selection import label

    state = _state(config)
    known = catalog.requirements()
    selected = {req.id: req for req in state.requirements}  # each with the tier its profile gives it
    keep, drop = [], []
    for item in items:
        ids = requirement_ids(item)
        unknown = [rid for rid in ids if rid not in known]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid} names unknown requirement(s) {', '.join(unknown)}")
        if ids and not any(rid in selected for rid in ids):
            drop.append(item)
            continue
        for rid in ids:
            item.user_properties.append(("requirement", rid))
            if rid in selected:
                item.user_properties.append(("tier", f"{rid}={selected[rid].tier}"))
        for operation in sorted({known[rid].operation for rid in ids}):
            item.user_properties.append(("operation", operation))
        label(item, [selected[rid] for rid in ids if rid in selected])
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    config.stash[KEPT_BY_PROFILE] = len(keep)


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_selection(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """After every filter: which requirements the run selected, and whether it is a subset of the suite."""
    if not _active(config):
        return
    from conformance.run.selection import select

    state = _state(config)
    kept = config.stash.get(KEPT_BY_PROFILE, len(items))
    narrowed = activation.narrowed(config, state.config.families)
    state.selection = select(state.requirements, items, kept - len(items), narrowed)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say what is certified, against which profile, with which hypothesis seed."""
    if not _active(config):
        return []
    state = _state(config)
    target = state.config.shown_target
    profiles = ", ".join(f"{family}: {name}" for family, name in state.config.profiles.items())
    info = state.hypothesis
    seed = "derandomized" if info.derandomized else f"seed {info.seed} (repeat with --hypothesis-seed={info.seed})"
    from conformance.evidence import inert

    return [inert(f"conformance target: {target} · profiles: {profiles}"),
            f"hypothesis: profile {info.profile}, {seed}"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Judge one phase where it ran; its outcome, message, coverage and exchanges travel on the report."""
    report = yield
    ids = requirement_ids(item) if _active(item.config) else ()
    if ids:
        from conformance.run import phase

        coverage = item.stash.get(COVERAGE, None) if call.when == "call" else None
        phase.record(_state(item.config), item, report, call, ids, coverage)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Let the test's checks count what they judge and what they cannot into the test's coverage."""
    if not _active(item.config) or not requirement_ids(item):
        return (yield)
    from conformance.checks import Coverage, recording

    with recording(item.stash.setdefault(COVERAGE, Coverage())):
        return (yield)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Stop the run once the overall --budget is used up; what did not run is recorded as `error`."""
    if not _active(item.config) or not requirement_ids(item):
        return
    state = _state(item.config)
    if state.stopped is None and state.limits.used_up():
        state.stopped = state.limits.spent()
        item.session.shouldstop = state.stopped
    if state.stopped is not None:
        pytest.skip(f"not run: {state.stopped}")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before the first test: keep the garbage collector off what the run holds for its whole length."""
    if _active(session.config):
        # The modules, schemas, catalogue and collected items live until the end; each full collection would walk
        # them again (hypothesis runs one when it registers its PRNG, pytest several as the run ends).
        gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Decide the verdict, write results.json, and make the exit status follow the verdict."""
    if not _active(session.config) or _is_worker(session.config):
        return
    from conformance.report import junit, results
    from conformance.run import verdict

    state = _state(session.config)
    if not state.requirements or session.config.option.collectonly:
        return
    stop = session.shouldfail or session.shouldstop  # -x or --maxfail: why pytest stopped before the last test
    verdict.decide(state, cut_short=stop if isinstance(stop, str) else None)
    results.write(state)
    junit.record_verdict(session.config, state)
    session.exitstatus = verdict.exit_status(state, session.exitstatus)


@pytest.hookimpl(trylast=True, specname="pytest_sessionfinish")
def pytest_sessionfinish_export(session: pytest.Session, exitstatus: int) -> None:
    """An xdist worker hands what it learnt about the session to its controller (after fixture teardown)."""
    if not _active(session.config) or not _is_worker(session.config):
        return
    from conformance.run.ledger import EXPORT, export

    session.config.workeroutput[EXPORT] = export(_state(session.config))  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """The tracebacks of advisory failures; one line with the verdict and the reports written; one line per failed
    requirement."""
    if not _active(config):
        return
    from conformance.report import console

    state = _state(config)
    if state.document is not None:
        console.advisory_failures(terminalreporter)
        console.write_summary(terminalreporter, state, console.written_reports(config, state))
