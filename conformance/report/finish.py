"""The end of a run: aggregate outcomes, decide the verdict, write results.json."""

from __future__ import annotations

from collections import Counter
from typing import Any

from conformance import __version__
from conformance.outcomes import aggregate, verdict
from conformance.report.results import requirement_entry, write_json
from conformance.session import RunState, now_utc

SUITE_NAME = "image-api-conformance"


def conclude(state: RunState) -> None:
    """Fill in the results and verdict of `state` and write results.json."""
    state.results = aggregate(state.requirements, list(state.tests.values()))
    if state.unreachable:
        for result in state.results:
            if not result.tests:
                result.outcome, result.message = "error", state.unreachable
    state.verdict = verdict(state.results)
    state.document = document(state)
    write_json(state.config.report_dir / "results.json", state.document)


def document(state: RunState) -> dict[str, Any]:
    """results.json as a dict."""
    config = state.config
    families = list(config.families)
    return {
        "suite": {"name": SUITE_NAME, "version": __version__},
        "target": {
            "url": config.target or ", ".join(state.targets.get(f, {}).get("url", "embedded") for f in families),
            "family": families[0] if len(families) == 1 else "+".join(families),
            "embedded": config.embedded,
            "endpoints": state.targets,
        },
        "profile": ", ".join(config.profiles[f] for f in families),
        "profiles": dict(config.profiles),
        "verdict": state.verdict,
        "started_at": state.started_at,
        "finished_at": now_utc(),
        "hypothesis": state.hypothesis,
        "stopped_early": state.unreachable,
        "counts": dict(Counter(result.outcome for result in state.results)),
        "requirements": [requirement_entry(result) for result in state.results],
    }


def summary_line(state: RunState) -> str:
    """`conformance verdict: PASS (40 passed, 2 not-offered) · reports in reports/`."""
    counts = Counter(result.outcome for result in state.results)
    parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    return f"conformance verdict: {str(state.verdict).upper()} ({parts}) · reports in {state.config.report_dir}"
