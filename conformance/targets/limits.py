"""What one run lets a target cost: time (timeout, budget), work (bytes, JSON values, pages, listed images) and load
(requests in flight, requests per second, retries of shed requests).

A `RunLimits` is built once per run from its `TargetConfig` and handed to every target when it is made, so two
targets in one process keep their own limits.
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from conformance import json_text
from conformance.targets.errors import BudgetExhausted
from conformance.targets.retry import RetryPolicy

BODY_CAP = 8 * 1024 * 1024  # bytes read of any response body; the rest is not read
RAW_BODY_CAP = 64 * 1024  # bytes read after the headers of a raw HEAD
LIST_PAGES = 200  # pages of `GET /v2/images` followed: a target whose `next` links never end must not keep the run
# What the answers a run keeps for all its tests (the shown images) may hold, bytes and parsed values counted as
# `kept_cost` does: a hundred images of 190,000 tags each would hold 1.4 GB; upstream's images take a few kB.
KEPT_BYTES = 96 * 1024 * 1024
VALUE_BYTES = 64  # what one parsed JSON value holds at least: a short str is 50 bytes, with its list slot 58
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MAPPED_BYTES = 4 * 1024 * 1024  # allocations this large or larger are mapped on their own, and unmapped when freed
# A JSON string, or an unterminated one up to the end: always matches where it starts, so counting is linear.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?', re.DOTALL)


class Settings(Protocol):
    """The options a run's limits are read from (TargetConfig has them)."""

    @property
    def timeout(self) -> float: ...
    @property
    def budget(self) -> float: ...
    @property
    def max_json_values(self) -> int: ...
    @property
    def max_pages(self) -> int: ...
    @property
    def max_listed(self) -> int: ...
    @property
    def retries(self) -> int: ...
    @property
    def retry_wait(self) -> float: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def rate(self) -> float: ...


class TooManyValues(json_text.NotJSON):
    """JSON text holding more values than the run parses (--max-json-values): it is not parsed."""

    def __init__(self, values: int, cap: int) -> None:
        super().__init__(f"holds about {values} JSON values, more than the {cap} the suite parses "
                         "(raise --max-json-values)")
        self.values = values


@dataclass(frozen=True)
class RunLimits:
    """The limits of one run: every call to a target, and every body it answers, is held to them."""

    timeout: float  # seconds one call may take (--timeout)
    budget: float  # seconds the whole run may take (--budget), counted from `started`
    json_values: int  # objects, arrays and items one JSON text may hold and be parsed (--max-json-values)
    pages: int  # pages one v1.1 detail walk may follow (--max-pages)
    listed: int  # images of one listing answer read, a ListImages answer or a v1.1 detail page (--max-listed)
    started: float = field(default_factory=time.monotonic)
    retry: RetryPolicy = field(default_factory=RetryPolicy)  # shed requests sent again (--retries, --retry-wait)
    concurrency: int = 1  # independent requests in flight at once per target (--concurrency)
    rate: float = 0.0  # requests per second at most per target, 0 for no cap (--rate)
    body_bytes: int = BODY_CAP
    raw_body_bytes: int = RAW_BODY_CAP
    list_pages: int = LIST_PAGES
    kept_bytes: int = KEPT_BYTES

    @classmethod
    def of(cls, settings: Settings, *, started: float | None = None) -> RunLimits:
        """The limits a run's options set, its budget counted from `started` (now when not given)."""
        return cls(timeout=settings.timeout, budget=settings.budget, json_values=settings.max_json_values,
                   pages=settings.max_pages, listed=settings.max_listed,
                   started=time.monotonic() if started is None else started,
                   retry=RetryPolicy(settings.retries, settings.retry_wait), concurrency=settings.concurrency,
                   rate=settings.rate)

    def left(self) -> float:
        """Seconds left in the budget."""
        return self.started + self.budget - time.monotonic()

    def used_up(self) -> bool:
        """Whether no time is left in the budget."""
        return self.left() <= 0

    def spent(self) -> str:
        """That the budget is used up, in words: `the run's budget of 900s was used up after 901s`."""
        return f"the run's budget of {self.budget:g}s was used up after {time.monotonic() - self.started:.0f}s"

    def exhausted(self, what: str) -> BudgetExhausted:
        """The error of a call the budget ended (or did not let start)."""
        return BudgetExhausted(f"{self.spent()} ({what})")

    def call_limit(self, what: str, timeout: float | None = None) -> float:
        """Seconds one call may take: the timeout, or what is left of the budget; BudgetExhausted when none is."""
        left = self.left()
        if left <= 0:
            raise self.exhausted(f"{what} not sent")
        return min(self.timeout if timeout is None else timeout, left)

    def loads(self, text: str | bytes, **kwargs: Any) -> Any:
        """JSON text parsed (as `json_text.loads`) when it holds no more values than the run parses; TooManyValues
        when it holds more, NotJSON (a ValueError, as TooManyValues is) when it is not JSON."""
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        values = count_json_values(data, self.json_values)
        if values > self.json_values:
            raise TooManyValues(values, self.json_values)
        return json_text.loads(text, **kwargs)


def release_large_buffers() -> None:
    """Have the C allocator (glibc) map every allocation of MAPPED_BYTES or more on its own and give it back when it
    is freed: by default the threshold grows with each large block freed, so that 16 MiB CRI answers, read and
    dropped one after another, end up kept in the heap (a run's peak against them: 259 MB, 209 MB with this).
    Smaller blocks stay in the heap (a lower threshold costs the default run 40% more time). Elsewhere, nothing."""
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: not glibc
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MAPPED_BYTES)


def kept_cost(body: bytes) -> int:
    """About what keeping `body` and its parse costs in bytes (cheap, no parsing): its bytes and VALUE_BYTES a value."""
    return len(body) + VALUE_BYTES * count_json_values(body, 0)


def count_json_values(body: bytes, enough: int) -> int:
    """How many JSON values (objects, arrays, their items and members) `body` holds, at most (cheap, no parsing);
    exact enough to tell whether it holds more than `enough`."""
    rough = body.count(b"{") + body.count(b"[") + body.count(b",") + 1
    if rough <= enough:
        return rough
    # the cheap count takes brackets and commas inside strings too: count again without the strings
    bare = _STRING.sub(b"", body)
    return bare.count(b"{") + bare.count(b"[") + bare.count(b",") + 1
