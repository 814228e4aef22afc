"""The console: one line with the verdict and the reports written, one line per failed requirement with its first
problem, and the reports that could not be written."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conformance.catalog import Tier
from conformance.evidence import inert
from conformance.run import verdict
from conformance.run.outcomes import Outcome, RequirementResult, Verdict
from conformance.run.problems import headline
from conformance.run.state import RunState

MAX_LINE = 400  # characters of one failed requirement's line


def write_summary(terminal: pytest.TerminalReporter, state: RunState, written: list[str]) -> None:
    """The verdict line (green for pass, red when the run fails, yellow otherwise), one line per failed requirement,
    then one line per unwritten report."""
    passed = state.verdict == Verdict.PASS
    failed = verdict.fails(state)
    terminal.write_sep("=", inert(summary_line(state, written)), bold=True, red=failed, green=passed,
                       yellow=not passed and not failed)
    for result in state.results:
        if result.outcome in (Outcome.FAILED, Outcome.ERROR):
            advisory = result.requirement.tier == Tier.ADVISORY
            terminal.write_line(inert(failure_line(result))[:MAX_LINE], red=not advisory, yellow=advisory)
    for line in state.unwritten:
        terminal.write_line(inert(f"ERROR: {line}"), red=True, bold=True)


def written_reports(config: pytest.Config, state: RunState) -> list[str]:
    """The reports this run wrote, where it wrote them (`--html=X` and `--junitxml=X` honoured)."""
    reports = (("report.html", getattr(config.option, "htmlpath", None)),
               ("junit.xml", getattr(config.option, "xmlpath", None)),
               ("results.json", state.config.report_dir / "results.json"))
    return [str(path) for name, path in reports
            if path and Path(path).is_file() and not any(line.startswith(name) for line in state.unwritten)]


def failure_line(result: RequirementResult) -> str:
    """`FAILED GLANCE-V2-SHOW-SCHEMA (required): b570…: min_ram: '1024' is not of type 'integer' (and 36 more)`."""
    req = result.requirement
    tier = f"{req.tier}, a warning" if req.tier == Tier.ADVISORY else str(req.tier)
    problem = result.first_problem or result.message
    return f"{str(result.outcome).upper()} {headline((f'{req.id} ({tier})',), problem, result.problems)}"


def advisory_failures(terminal: pytest.TerminalReporter) -> None:
    """The tracebacks of advisory failures, which junit.xml and pytest count as expected failures."""
    shown = [rep for rep in terminal.getreports("xfailed") if getattr(rep, "conformance_advisory", False)]
    if not shown or terminal.config.option.tbstyle == "no":
        return
    terminal.write_sep("=", "ADVISORY FAILURES (warnings: the verdict does not count them)")
    for rep in shown:
        terminal.write_sep("_", rep.head_line or rep.nodeid, yellow=True)
        for line in rep.longreprtext.splitlines():
            terminal.write_line(line)
        for title, content in rep.sections:
            terminal.write_sep("-", title)
            terminal.write_line(content)


def summary_line(state: RunState, written: list[str]) -> str:
    """`conformance verdict: PASS (40 passed, 2 not-offered) · reports: reports/report.html, …`."""
    counts = Counter(result.outcome for result in state.results)
    parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    extra = ""
    expired = verdict.expired_waivers(state)
    if expired:
        extra = f" · {len(expired)} expired waiver(s)"
    partial = sum(1 for result in state.results if result.partial)
    if partial:
        parts += f"; {partial} passed with parts not judged"
    if state.not_judged:
        reasons = "; ".join(dict.fromkeys(reason for _, reason in state.not_judged))
        extra += f" · {len(state.not_judged)} not judged ({reasons})"
    if state.selection is not None and state.selection.subset:
        extra += f" · {len(verdict.not_run(state))} not run (a subset: {'; '.join(state.selection.reasons)})"
    elif state.not_reached:
        extra += f" · {len(state.not_reached)} not run (not reached)"
    if state.stopped or state.cut_short:
        extra += f" · stopped: {state.stopped or state.cut_short}"
    if state.hypothesis.seed is not None:
        extra += f" · hypothesis seed {state.hypothesis.seed}"
    return f"conformance verdict: {str(state.verdict).upper()} ({parts}){extra} · reports: {', '.join(written)}"
