"""results.json: the machine-readable certification record of one run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from conformance import REPO_ROOT, SCHEMAS_DIR, __version__
from conformance.catalog import Tier
from conformance.report.writing import failure_line
from conformance.run import verdict
from conformance.run.baseline import changes
from conformance.run.outcomes import Outcome, RequirementResult
from conformance.run.state import RunState, now_utc

SUITE_NAME = "image-api-conformance"
RESULTS_FORMAT = 1


def write(state: RunState) -> None:
    """Write results.json of a decided run (kept as `state.document`); a failure is one line in `state.unwritten`."""
    state.document = state.log.censor.data(document(state))  # censored whole, the target's own values included
    path = state.config.report_dir / "results.json"
    try:
        write_json(path, state.document)
    except OSError as exc:
        state.unwritten.append(failure_line(f"results.json ({path})", exc))


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
        "verdict_reasons": list(state.verdict_reasons),
        "started_at": state.started_at,
        "finished_at": now_utc(),
        "stopped_early": state.stopped or state.cut_short,
        "stopped": state.stopped,  # the target or the budget stopped the run (verdict error)
        "cut_short": state.cut_short,  # a signal, -x or --maxfail cut the run short (verdict incomplete)
        "not_reached": len(state.not_reached),
        "hypothesis": state.hypothesis.to_dict(),
        "options": {"timeout": config.timeout, "image_ids": list(config.image_ids), "cri_version": config.cri_version,
                    "reference_faults": list(config.reference_faults), "max_images": config.max_images,
                    "max_pages": config.max_pages, "allow_writes": config.allow_writes,
                    "other_project": bool(config.other_token)},  # whether a second project's token was given
        "catalogue_files": catalogue_hashes(),
        "counts": dict(Counter(outcomes.values())),
        "passed_with_parts_not_judged": [r.requirement.id for r in state.results if r.partial],
        "warnings": [
            {"id": r.requirement.id, "outcome": r.outcome, "message": r.message}
            for r in state.results
            if r.requirement.tier == Tier.ADVISORY and r.outcome in (Outcome.FAILED, Outcome.ERROR)
        ],
        "not_met": verdict.not_met(state),
        "not_judged": [
            {"id": req.id, "operation": req.operation, "tier": req.tier, "reason": reason, "text": req.text}
            for req, reason in state.not_judged
        ],
        "waivers": {
            "applied": [w.to_dict() for w in state.waivers if w.requirement in waived],
            "unused": [
                w.to_dict() for w in state.waivers if w.requirement not in waived and not w.expired(state.today)
            ],
            "expired": verdict.expired_waivers(state),
        },
        "requirements": [requirement_entry(result) for result in state.results],
        "discovery": state.discovery,
        "retries": sum(test.retries for test in state.tests.values()),
    }
    left_out = verdict.not_run(state)
    if state.selection is not None and state.selection.subset:
        doc["subset"] = {"reasons": list(state.selection.reasons)}
    if left_out:
        doc["not_run"] = [
            {"id": req.id, "operation": req.operation, "tier": req.tier, "text": req.text} for req in left_out
        ]
    if state.baseline is not None and config.baseline is not None:
        unrun = {req.id for req in left_out}  # a subset left them out, or the run did not reach them: not removed
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


def requirement_entry(result: RequirementResult) -> dict[str, Any]:
    """The results.json entry of one requirement."""
    req = result.requirement
    entry: dict[str, Any] = {
        "id": req.id,
        "operation": req.operation,
        "tier": req.tier,  # the tier under the run's profile
        "outcome": result.outcome,
        "tests": result.tests,
        "source": req.source,
        "text": req.text,
    }
    if req.base_tier is not None:
        entry["catalogue_tier"] = req.base_tier  # the profile changed it
    if result.message:
        entry["message"] = result.message
    if result.first_problem:
        entry["first_problem"] = result.first_problem  # the image or query, the field, what was expected, what came
        entry["problems"] = result.problems
    if result.waiver:
        entry["waiver"] = result.waiver
    entry.update(result.coverage.to_dict())  # what it judged, by kind, and what it could not, with the reason
    entry["retries"] = result.retries
    return entry


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write `document` atomically, so a crash never leaves half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    # a lone surrogate from a target's JSON is written as its JSON escape (\ud800), which reads back the same
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        partial.write_bytes(text.encode("utf-8", "backslashreplace"))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
