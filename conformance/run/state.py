"""The state of one conformance run, kept in pytest's config stash."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.catalog import Requirement
from conformance.options import TargetConfig
from conformance.evidence import ExchangeLog
from conformance.run.outcomes import RequirementResult, TestOutcome
from conformance.run.waivers import Waiver


@dataclass
class RunState:
    """Everything the run gathers for its reports."""

    config: TargetConfig
    log: ExchangeLog
    hypothesis: dict[str, Any]
    started_at: str = field(default_factory=lambda: now_utc())
    clock_start: float = field(default_factory=time.monotonic)
    requirements: list[Requirement] = field(default_factory=list)  # certified in this run
    tests: dict[str, TestOutcome] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)  # family -> url and fingerprint
    results: list[RequirementResult] = field(default_factory=list)
    verdict: str | None = None
    stopped: str | None = None  # why the run stopped early (target unreachable, budget used up)
    waivers: list[Waiver] = field(default_factory=list)
    baseline: dict[str, str] | None = None  # requirement id -> outcome of the --baseline run
    today: datetime.date = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc).date())

    def active_waiver(self, requirement_id: str) -> Waiver | None:
        """The unexpired waiver of a requirement, if there is one."""
        for waiver in self.waivers:
            if waiver.requirement == requirement_id and not waiver.expired(self.today):
                return waiver
        return None
    document: dict[str, Any] | None = None  # results.json as written


STATE_KEY = pytest.StashKey[RunState]()


def state_of(config: pytest.Config) -> RunState:
    """The RunState of this pytest run."""
    return config.stash[STATE_KEY]


def now_utc() -> str:
    """The current time, ISO 8601 UTC, seconds precision."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
