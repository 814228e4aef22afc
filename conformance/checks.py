"""Assertion helpers: failures say what was received, what is documented, and how to reproduce."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from conformance.evidence import Exchange

MAX_LINES = 20  # problems listed in one failure message; the rest are counted


class ConformanceFailure(AssertionError):
    """The target broke a documented requirement; `exchanges` show how."""

    def __init__(self, message: str, exchanges: Sequence[Exchange] = ()) -> None:
        super().__init__(message)
        self.exchanges = list(exchanges)


@dataclass
class Problems:
    """Collects what breaks a requirement across many images, then fails once with all of it."""

    title: str
    lines: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)

    def add(self, line: str, exchange: Exchange | None = None) -> None:
        """Note one problem, with the exchange that shows it."""
        self.lines.append(line)
        if exchange is not None and exchange not in self.exchanges:
            self.exchanges.append(exchange)

    def check(self) -> None:
        """Fail with every noted problem, if there is any."""
        __tracebackhide__ = True
        if not self.lines:
            return
        shown = [f"  - {line}" for line in self.lines[:MAX_LINES]]
        if len(self.lines) > MAX_LINES:
            shown.append(f"  … and {len(self.lines) - MAX_LINES} more")
        if self.exchanges:
            shown.append(f"  Reproduce: {self.exchanges[0].reproduce()}")
        message = f"{self.title} ({len(self.lines)} problem(s))\n" + "\n".join(shown)
        raise ConformanceFailure(message, self.exchanges[:MAX_LINES])


def fail(title: str, received: str, documented: str, exchange: Exchange | None = None) -> NoReturn:
    """Fail with `Received: … / Documented: …` and a reproduction of `exchange`."""
    __tracebackhide__ = True
    lines = [title, f"  Received: {received}", f"  Documented: {documented}"]
    if exchange is not None:
        lines.append(f"  Reproduce: {exchange.reproduce()}")
    raise ConformanceFailure("\n".join(lines), [exchange] if exchange is not None else [])


def evidence_of(error: BaseException | None) -> list[Exchange]:
    """The exchanges a failure carries, those of every failure of an exception group included."""
    if isinstance(error, ConformanceFailure):
        return list(error.exchanges)
    grouped = getattr(error, "exceptions", None)  # an exception group (BaseExceptionGroup from Python 3.11)
    if isinstance(grouped, tuple):
        return [exchange for inner in grouped for exchange in evidence_of(inner)]
    return []
