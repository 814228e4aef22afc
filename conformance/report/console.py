"""The console: one line with the verdict and where the reports are, and the reports that could not be written."""

from __future__ import annotations

from collections import Counter

import pytest

from conformance.evidence import inert
from conformance.run import verdict
from conformance.run.outcomes import Verdict
from conformance.run.state import RunState


def write_summary(terminal: pytest.TerminalReporter, state: RunState) -> None:
    """The verdict line (green for pass, red when the run fails, yellow otherwise), then one line per unwritten
    report."""
    passed = state.verdict == Verdict.PASS
    failed = verdict.fails(state)
    terminal.write_sep("=", inert(summary_line(state)), bold=True, red=failed, green=passed,
                       yellow=not passed and not failed)
    for line in state.unwritten:
        terminal.write_line(inert(f"ERROR: {line}"), red=True, bold=True)


def summary_line(state: RunState) -> str:
    """`conformance verdict: PASS (40 passed, 2 not-offered) · reports in reports/`."""
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
    return f"conformance verdict: {str(state.verdict).upper()} ({parts}){extra} · reports in {state.config.report_dir}"
