"""results.json: the machine-readable certification record of one run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from conformance.run.outcomes import RequirementResult


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
    if result.waiver:
        entry["waiver"] = result.waiver
    entry.update(result.coverage.to_dict())  # what it judged, by kind, and what it could not, with the reason
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
