"""Property tests that send one independent request per drawn value draw a batch of values per example and send the
batch together (up to --concurrency requests at once): a remote target's round trip is paid about once per batch,
not once per value. The profile's examples are divided by the batch size, so that as many values are judged.

Tests that walk a query per drawn value draw a batch of queries too: their first pages are asked together, and each
query is judged in order, the first one judged wrong ending the example (judged_in_order). Once a test has found a
wrong answer, its later examples (hypothesis shrinking the failure) send each request at its turn, nothing past the
first wrong answer, and no query the test already judged right: a shrinking step walks about what it changed."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Generator, Hashable, Iterator, Sequence
from functools import cache
from typing import Any, TypeVar

from hypothesis import Phase, settings
from hypothesis import strategies as st

from conformance.targets.fanout import fan_out

SIZE = 4  # values drawn per example: one round trip of the default --concurrency
Value = TypeVar("Value")
Result = TypeVar("Result")


@cache  # tests draw it inside each example: the same strategy is validated by hypothesis once, not per example
def batch_of(values: st.SearchStrategy[Value]) -> st.SearchStrategy[list[Value]]:
    """SIZE values of `values`, each shrunk on its own, a value drawn twice asked once."""
    return st.lists(values, min_size=SIZE, max_size=SIZE).map(_distinct)


def _distinct(drawn: list[Value]) -> list[Value]:
    """The values, each once, in the order first drawn."""
    kept: dict[Hashable, Value] = {}
    for value in drawn:
        kept.setdefault(_key(value), value)
    return list(kept.values())


def _key(value: Any) -> Hashable:
    """What tells a value from another: itself, or its repr when it cannot be hashed (a query is a dict)."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value  # type: ignore[no-any-return]


def batched(*, walks: bool = False) -> settings:
    """The settings of a batched property test: the loaded profile's examples divided by SIZE (read when the test
    module is collected, after the profile is loaded).

    `walks`: the test walks a query per value; hypothesis' explain phase is left out for it, as it runs the shrunk
    failure again with each of its parts varied, which for a batch of walks is hundreds of walks more (ten times
    the test's time against a failing target). The shrunk failure is reported as before, without the comments that
    say which parts could vary."""
    examples = max(1, math.ceil(settings().max_examples / SIZE))
    if not walks:
        return settings(max_examples=examples)
    return settings(max_examples=examples, phases=[phase for phase in settings().phases if phase is not Phase.explain])


def sent_together(ask: Callable[[Value], Result], values: list[Value],
                  concurrency: int) -> Iterator[tuple[Value, Result]]:
    """Each value of a batch with `ask(value)`, in the values' order, up to `concurrency` asked at once.

    Once the running test has found a wrong answer (failed()), each value is asked at its turn instead: a caller that
    stops at its first wrong answer then sends nothing after it while hypothesis shrinks the failure, as one value
    per example would.
    """
    if _in_turn():
        return ((value, ask(value)) for value in values)
    return zip(values, fan_out(ask, values, limit=concurrency), strict=True)


def judged_in_order(values: Sequence[Value], judge: Callable[[Value, list[Any]], None],
                    asked: Callable[[list[Value]], Generator[Any, None, None]], *, per_value: int = 1) -> None:
    """Judge each value of a batch in order, each with the answers to its first `per_value` requests, which
    `asked(values)` sends for the whole batch ahead of their turn (up to --concurrency at once), in the same order.

    The first value judged wrong ends the batch with its failure, and the running test is noted as failed(): its later
    batches (hypothesis shrinking the failure) are judged with None for each answer (`judge` then sends the request
    itself, at its turn), and a value already judged right in this test is not judged again, so that a shrinking
    step walks about the one value it changed, as a test drawing one value per example would.
    """
    if _in_turn():
        right = _RIGHT.setdefault(os.environ.get("PYTEST_CURRENT_TEST", ""), set())
        for value in values:
            key = _key(value)
            if key not in right:
                _noted(judge, value, [None] * per_value)
                right.add(key)
        return
    answers = asked(list(values))
    try:
        for value in values:
            _noted(judge, value, [next(answers) for _ in range(per_value)])
    finally:
        answers.close()  # the answers of values after a wrong one are waited for and dropped


def _noted(judge: Callable[[Value, list[Any]], None], value: Value, answers: list[Any]) -> None:
    try:
        judge(value, answers)
    except Exception:
        failed()
        raise


def _in_turn() -> bool:
    """Whether the running test has found a wrong answer, so that its batches are asked one request at a time."""
    return os.environ.get("PYTEST_CURRENT_TEST", "") in _FAILED


_FAILED: set[str] = set()  # the tests (PYTEST_CURRENT_TEST) that found a wrong answer in this run
_RIGHT: dict[str, set[Hashable]] = {}  # the values each of them judged right since


def failed() -> None:
    """Note that the running test found a wrong answer: from then on its batches are asked one value at a time."""
    _FAILED.add(os.environ.get("PYTEST_CURRENT_TEST", ""))
