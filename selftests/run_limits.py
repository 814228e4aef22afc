"""The limits a self-test hands a target: those of a run given some options, the rest at their defaults."""

from __future__ import annotations

from pathlib import Path

from conformance.options import build_config
from conformance.targets.limits import RunLimits


def limits(**options: str) -> RunLimits:
    """The limits of a run given `options` (dest -> value as typed, e.g. timeout="5"), its budget counted from now."""
    return RunLimits.of(build_config(options, {}, {}, Path.cwd()))
