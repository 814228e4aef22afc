"""Assertion helpers: failures say what was received, what is documented, and how to reproduce."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from conformance.evidence import Exchange, clip

MAX_LINES = 20  # problems listed in one failure message; the rest are counted
KEPT = 100  # problems (and exchanges) one check keeps: a target with 20,000 bad tags costs a count, not their text
LINE_CHARS = 2000  # of one problem kept: a value shown whole (190,000 tags) would be megabytes a line


class ConformanceFailure(AssertionError):
    """The target broke a documented requirement; `exchanges` show how, `problems` list the first problems (each with
    the exchange it was read from) under what was checked (`title`), and `count` says how many there were in all."""

    def __init__(self, message: str, exchanges: Sequence[Exchange] = (),
                 problems: Sequence[tuple[str, Exchange | None]] = (), count: int = 0, title: str = "") -> None:
        super().__init__(message)
        self.exchanges = list(exchanges)
        self.problems = list(problems)
        self.count = max(count, len(self.problems))
        self.title = title


@dataclass
class Coverage:
    """What one test judged (cases by kind) and what it could not judge (reason -> how many cases)."""

    judged: dict[str, int] = field(default_factory=dict)
    not_judged: dict[str, int] = field(default_factory=dict)

    def judge(self, kind: str, count: int = 1) -> None:
        """Count `count` cases of `kind` (images, queries, walks, responses...) as judged."""
        if count > 0:
            self.judged[kind] = self.judged.get(kind, 0) + count

    def leave(self, reason: str, count: int = 1) -> None:
        """Note `count` cases left unjudged for `reason`."""
        if count > 0:
            self.not_judged[reason] = self.not_judged.get(reason, 0) + count

    def merge(self, other: Coverage) -> None:
        """Add the counts of `other` to these."""
        for kind, count in other.judged.items():
            self.judge(kind, count)
        for reason, count in other.not_judged.items():
            self.leave(reason, count)

    def reasons(self) -> str:
        """The unjudged parts, one clause each: `reason (n cases)`."""
        return "; ".join(not_judged_text(reason, count) for reason, count in self.not_judged.items())

    def to_dict(self) -> dict[str, Any]:
        """As results.json holds it."""
        return {
            "judged": dict(self.judged),
            "not_judged": [{"reason": reason, "count": count} for reason, count in self.not_judged.items()],
        }


def not_judged_text(reason: str, count: int) -> str:
    """One unjudged part as a certifier reads it."""
    return reason if count == 1 else f"{reason} ({count} cases)"


_CURRENT: ContextVar[Coverage | None] = ContextVar("conformance_coverage", default=None)


def coverage() -> Coverage:
    """The coverage of the running test (a throwaway one outside the plugin's bookkeeping)."""
    current = _CURRENT.get()
    return current if current is not None else Coverage()


@contextmanager
def recording(into: Coverage) -> Iterator[Coverage]:
    """Make `into` the coverage the running test's checks count into."""
    token = _CURRENT.set(into)
    try:
        yield into
    finally:
        _CURRENT.reset(token)


def judged(kind: str, count: int = 1) -> None:
    """Count cases of `kind` the running test judged."""
    coverage().judge(kind, count)


def not_judged(reason: str, count: int = 1) -> None:
    """Note cases the running test could not judge, and why."""
    coverage().leave(reason, count)


@dataclass
class Problems:
    """Collects what breaks a requirement across many images, then fails once with all of it."""

    title: str
    lines: list[str] = field(default_factory=list)  # the first KEPT problems
    exchanges: list[Exchange] = field(default_factory=list)
    cases: Coverage = field(default_factory=Coverage)
    sources: list[Exchange | None] = field(default_factory=list)  # the exchange each line was read from
    count: int = 0  # every problem noted, kept or not

    def judged(self, kind: str, count: int = 1) -> None:
        """Count cases of `kind` this check judged (into the running test's coverage too)."""
        self.cases.judge(kind, count)
        judged(kind, count)

    def not_judged(self, reason: str, count: int = 1) -> None:
        """Note cases this check could not judge, and why (into the running test's coverage too)."""
        self.cases.leave(reason, count)
        not_judged(reason, count)

    def add(self, line: str, exchange: Exchange | None = None) -> None:
        """Note one problem, with the exchange that shows it (the first KEPT problems are kept, the rest counted)."""
        self.count += 1
        if len(self.lines) >= KEPT:
            return
        self.lines.append(clip(line, LINE_CHARS))
        self.sources.append(exchange)
        if exchange is not None and len(self.exchanges) < KEPT and all(e is not exchange for e in self.exchanges):
            self.exchanges.append(exchange)

    def check(self) -> None:
        """Fail with every noted problem, if there is any; skip when the test judged nothing (outside hypothesis)."""
        __tracebackhide__ = True
        if not self.lines:
            if not self.cases.judged and not coverage().judged and not _in_hypothesis():
                pytest.skip(f"nothing judged: {self.cases.reasons() or 'no case to judge'}")
            return
        shown = [f"  - {line}" for line in self.lines[:MAX_LINES]]
        if self.count > MAX_LINES:
            shown.append(f"  … and {self.count - MAX_LINES} more")
        if self.exchanges:
            shown.append(f"  Reproduce: {self.exchanges[0].reproduce()}")
        message = f"{self.title} ({self.count} problem(s))\n" + "\n".join(shown)
        sources = [*self.sources, *[None] * (len(self.lines) - len(self.sources))]  # lines appended directly
        first = list(zip(self.lines[:MAX_LINES], sources[:MAX_LINES], strict=True))
        raise ConformanceFailure(message, self.exchanges[:MAX_LINES], first, self.count, self.title)


def fail(title: str, received: str, documented: str, exchange: Exchange | None = None) -> NoReturn:
    """Fail with `Received: … / Documented: …` and a reproduction of `exchange`."""
    __tracebackhide__ = True
    lines = [title, f"  Received: {received}", f"  Documented: {documented}"]
    if exchange is not None:
        lines.append(f"  Reproduce: {exchange.reproduce()}")
    problem = f"received {received}, documented {documented}"
    raise ConformanceFailure("\n".join(lines), [exchange] if exchange is not None else [], [(problem, exchange)],
                             title=title)


def evidence_of(error: BaseException | None) -> list[Exchange]:
    """The exchanges a failure carries, those of every failure of an exception group included."""
    if isinstance(error, ConformanceFailure):
        return list(error.exchanges)
    grouped = getattr(error, "exceptions", None)  # an exception group (BaseExceptionGroup from Python 3.11)
    if isinstance(grouped, tuple):
        return [exchange for inner in grouped for exchange in evidence_of(inner)]
    return []


def _in_hypothesis() -> bool:
    """Inside a hypothesis example a skip would end the whole test; the plugin judges the test as a whole."""
    try:
        from hypothesis import currently_in_test_context
    except ImportError:  # pragma: no cover
        return False
    return bool(currently_in_test_context())
