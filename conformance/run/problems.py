"""The problems a failed test names: the first few, each with the exchange it was read from, and how many in all."""

from __future__ import annotations

from conformance.checks import MAX_LINES, ConformanceFailure
from conformance.evidence import Exchange

# (what was checked, the first problems with their exchanges, how many in all)
Found = tuple[str, list[tuple[str, Exchange | None]], int]
MAX_PROBLEM_CHARS = 1000  # of one problem line kept in a report


def problems_of(error: BaseException | None) -> Found:
    """What `error` checked, the problems it names (the first MAX_LINES of them), and how many it found."""
    if error is None:
        return "", [], 0
    if isinstance(error, ConformanceFailure) and error.problems:
        return error.title, error.problems[:MAX_LINES], error.count
    grouped = getattr(error, "exceptions", None)  # hypothesis reports several distinct failures as a group
    if isinstance(grouped, tuple) and grouped:
        found = [problems_of(inner) for inner in grouped]
        lines = [line for _, lines, _ in found for line in lines][:MAX_LINES]
        return found[0][0], lines, sum(count for _, _, count in found)
    exchanges = error.exchanges if isinstance(error, ConformanceFailure) else []
    return "", [(first_line(error), exchanges[0] if exchanges else None)], 1


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:MAX_PROBLEM_CHARS]


def first_problem(title: str, problem: str) -> str:
    """The first problem with what was checked: `The shown image must validate against …: <image>: <field> …`."""
    return f"{title}: {problem}"[:MAX_PROBLEM_CHARS] if title else problem


def headline(ids: tuple[str, ...] | list[str], problem: str, count: int) -> str:
    """`ID: the first problem (and 36 more)`: a failure at first look."""
    rest = f" (and {count - 1} more)" if count > 1 else ""
    return f"{', '.join(ids)}: {problem}{rest}"
