"""The end of a run: aggregate outcomes, decide the verdict, write results.json."""

from __future__ import annotations

import hashlib
import subprocess
from collections import Counter
from functools import cache
from typing import Any

from conformance import REPO_ROOT, SCHEMAS_DIR, __version__
from conformance.catalog import Requirement, Tier
from conformance.report.results import requirement_entry, write_json
from conformance.report.writing import failure_line
from conformance.run.baseline import changes
from conformance.run.outcomes import Outcome, TestOutcome, Verdict, aggregate, requirement_is_met, verdict
from conformance.run.state import RunState, now_utc

SUITE_NAME = "image-api-conformance"
RESULTS_FORMAT = 1


def conclude(state: RunState) -> None:
    """Fill in the results and verdict of `state` and write results.json."""
    selection = state.selection
    run = [req for req in state.requirements if selection is None or not selection.subset
           or req.id in selection.run_ids]
    state.results = aggregate(run, ordered_tests(state), state.caps)
    if state.stopped:
        for result in state.results:
            if result.outcome == Outcome.SKIPPED:
                result.outcome, result.message = Outcome.ERROR, state.stopped
    for result in state.results:
        waiver = state.active_waiver(result.requirement.id)
        if waiver and result.outcome == Outcome.WAIVED:
            result.waiver = waiver.to_dict()
    state.verdict = verdict(state.results, expired_waivers=bool(expired_waivers(state)),
                            subset=selection is not None and selection.subset)
    state.document = document(state)
    path = state.config.report_dir / "results.json"
    try:
        write_json(path, state.document)
    except OSError as exc:
        state.unwritten.append(failure_line(f"results.json ({path})", exc))


def ordered_tests(state: RunState) -> list[TestOutcome]:
    """The tests in collection order, however xdist workers interleaved their reports."""
    order = {nodeid: n for n, nodeid in enumerate(state.selection.order if state.selection else ())}
    return sorted(state.tests.values(), key=lambda test: order.get(test.nodeid, len(order)))


def not_run(state: RunState) -> list[Requirement]:
    """The requirements a subset of the suite did not run (none for a whole run)."""
    if state.selection is None or not state.selection.subset:
        return []
    return [req for req in state.requirements if req.id not in state.selection.run_ids]


def fails(state: RunState) -> bool:
    """Whether the run exits 1: a failed verdict, or a subset in which a selected requirement is not met."""
    if state.verdict == Verdict.INCOMPLETE:
        return bool(state.document and (state.document["not_met"] or state.document["waivers"]["expired"]))
    return state.verdict != Verdict.PASS


def expired_waivers(state: RunState) -> list[dict[str, str]]:
    """Waivers past their date: each fails the run until it is renewed or removed."""
    return [w.to_dict() for w in state.waivers if w.expired(state.today)]


def document(state: RunState) -> dict[str, Any]:
    """results.json as a dict."""
    config = state.config
    families = list(config.families)
    outcomes = {r.requirement.id: r.outcome for r in state.results}
    waived = {r.requirement.id for r in state.results if r.outcome == Outcome.WAIVED}
    doc: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "suite": {"name": SUITE_NAME, "version": __version__, "commit": suite_commit()},
        "target": {
            "url": config.shown_target,
            "family": families[0] if len(families) == 1 else "+".join(families),
            "embedded": config.embedded,
            "endpoints": state.targets.to_dict(),
        },
        "targets": {family: config.targets.get(family, "embedded reference target") for family in families},
        "profile": ", ".join(config.profiles[f] for f in families),
        "profiles": dict(config.profiles),
        "verdict": state.verdict,
        "started_at": state.started_at,
        "finished_at": now_utc(),
        "stopped_early": state.stopped,
        "hypothesis": state.hypothesis.to_dict(),
        "options": {"timeout": config.timeout, "image_ids": list(config.image_ids), "cri_version": config.cri_version,
                    "reference_faults": list(config.reference_faults), "max_images": config.max_images,
                    "max_pages": config.max_pages},
        "catalogue_files": catalogue_hashes(),
        "counts": dict(Counter(outcomes.values())),
        "passed_with_parts_not_judged": [r.requirement.id for r in state.results if r.partial],
        "warnings": [
            {"id": r.requirement.id, "outcome": r.outcome, "message": r.message}
            for r in state.results
            if r.requirement.tier == Tier.ADVISORY and r.outcome in (Outcome.FAILED, Outcome.ERROR)
        ],
        "not_met": [r.requirement.id for r in state.results if not requirement_is_met(r)],
        "not_judged": [
            {"id": req.id, "operation": req.operation, "tier": req.tier, "reason": reason, "text": req.text}
            for req, reason in state.not_judged
        ],
        "waivers": {
            "applied": [w.to_dict() for w in state.waivers if w.requirement in waived],
            "unused": [
                w.to_dict() for w in state.waivers if w.requirement not in waived and not w.expired(state.today)
            ],
            "expired": expired_waivers(state),
        },
        "requirements": [requirement_entry(result) for result in state.results],
        "discovery": state.discovery,
    }
    left_out = not_run(state)
    if state.selection is not None and state.selection.subset:
        doc["subset"] = {"reasons": list(state.selection.reasons)}
        doc["not_run"] = [
            {"id": req.id, "operation": req.operation, "tier": req.tier, "text": req.text} for req in left_out
        ]
    if state.baseline is not None and config.baseline is not None:
        unrun = {req.id for req in left_out}  # a subset leaves them out; they were not removed
        baseline = {rid: outcome for rid, outcome in state.baseline.items() if rid not in unrun}
        doc["changes_since_baseline"] = changes(baseline, outcomes, str(config.baseline))
    return doc


@cache
def suite_commit() -> str | None:
    """The git commit of the suite's checkout, when it is one."""
    if not (REPO_ROOT / ".git").exists():
        return None
    try:
        completed = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None


def catalogue_hashes() -> dict[str, str]:
    """sha256 of every schema, profile and requirement file the run read."""
    return {
        path.relative_to(SCHEMAS_DIR).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(SCHEMAS_DIR.rglob("*"))
        if path.is_file() and path.suffix in (".json", ".yaml")
    }


def summary_line(state: RunState) -> str:
    """`conformance verdict: PASS (40 passed, 2 not-offered) · reports in reports/`."""
    counts = Counter(result.outcome for result in state.results)
    parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    extra = ""
    if state.document and state.document["waivers"]["expired"]:
        extra = f" · {len(state.document['waivers']['expired'])} expired waiver(s)"
    partial = sum(1 for result in state.results if result.partial)
    if partial:
        parts += f"; {partial} passed with parts not judged"
    if state.not_judged:
        extra += f" · {len(state.not_judged)} not judged"
    if state.selection is not None and state.selection.subset:
        extra += f" · {len(not_run(state))} not run (a subset: {'; '.join(state.selection.reasons)})"
    if state.stopped:
        extra += f" · stopped: {state.stopped}"
    if state.hypothesis.seed is not None:
        extra += f" · hypothesis seed {state.hypothesis.seed}"
    return f"conformance verdict: {str(state.verdict).upper()} ({parts}){extra} · reports in {state.config.report_dir}"
