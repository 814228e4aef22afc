"""Drift: how this run's outcomes differ from an earlier results.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.options import ConfigError
from conformance.run.outcomes import Outcome

BAD = (Outcome.FAILED, Outcome.ERROR)


def load_baseline(path: Path) -> dict[str, str]:
    """Requirement id -> outcome of an earlier results.json; ConfigError with one line when unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {str(entry["id"]): str(entry["outcome"]) for entry in document["requirements"]}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        problem = type(exc).__name__
        raise ConfigError(f"--baseline {str(path)!r}: not a results.json of this suite ({problem})") from None


def changes(baseline: Mapping[str, str], current: Mapping[str, str], source: str) -> dict[str, Any]:
    """Requirements newly failing, newly passing, otherwise changed, new and removed since the baseline."""
    shared = sorted(set(baseline) & set(current))

    def moved(rid: str) -> dict[str, str]:
        return {"id": rid, "before": baseline[rid], "now": current[rid]}

    newly_failing = [moved(r) for r in shared if current[r] in BAD and baseline[r] not in BAD]
    newly_passing = [moved(r) for r in shared if current[r] == Outcome.PASSED and baseline[r] != Outcome.PASSED]
    listed = {c["id"] for c in newly_failing + newly_passing}
    return {
        "baseline": source,
        "newly_failing": newly_failing,
        "newly_passing": newly_passing,
        "other_changes": [moved(r) for r in shared if baseline[r] != current[r] and r not in listed],
        "new": [{"id": r, "now": current[r]} for r in sorted(set(current) - set(baseline))],
        "removed": [{"id": r, "before": baseline[r]} for r in sorted(set(baseline) - set(current))],
    }
