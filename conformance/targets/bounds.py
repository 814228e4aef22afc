"""What one run lets a target cost: the time left in its budget and the JSON values one body may hold."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

from conformance.targets.errors import BudgetExhausted

MAX_JSON_VALUES = 200_000  # the default of --max-json-values: objects, arrays and items one JSON body may hold
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


@dataclass
class RunBounds:
    """The bounds of the current run; calls to a target read them (one run per process)."""

    budget: float = math.inf  # seconds
    started: float = field(default_factory=time.monotonic)
    json_values: int = MAX_JSON_VALUES

    def left(self) -> float:
        """Seconds left in the budget."""
        return self.started + self.budget - time.monotonic()

    def used_up(self) -> bool:
        """Whether no time is left in the budget."""
        return self.left() <= 0

    def exhausted(self, what: str) -> BudgetExhausted:
        """The error of a call the budget ended (or did not let start)."""
        used = time.monotonic() - self.started
        return BudgetExhausted(f"the run's budget of {self.budget:g}s was used up after {used:.0f}s ({what})")

    def call_limit(self, timeout: float, what: str) -> float:
        """Seconds one call may take: its timeout, or what is left of the budget; BudgetExhausted when none is."""
        left = self.left()
        if left <= 0:
            raise self.exhausted(f"{what} not sent")
        return min(timeout, left)


BOUNDS = RunBounds()


def configure(*, budget: float, started: float, json_values: int = MAX_JSON_VALUES) -> None:
    """Bound every later call of this process by the run's budget (counted from `started`) and caps."""
    BOUNDS.budget, BOUNDS.started, BOUNDS.json_values = budget, started, json_values


def reset() -> None:
    """No budget and the default caps (after a run)."""
    configure(budget=math.inf, started=time.monotonic())


def json_values(body: bytes) -> int:
    """How many JSON values (objects, arrays, their items and members) `body` holds, at most (cheap, no parsing)."""
    rough = body.count(b"{") + body.count(b"[") + body.count(b",") + 1
    if rough <= BOUNDS.json_values:
        return rough
    # the cheap count takes brackets and commas inside strings too: count again without the strings
    bare = _STRING.sub(b"", body)
    return bare.count(b"{") + bare.count(b"[") + bare.count(b",") + 1
