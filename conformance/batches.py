"""Property tests that send one independent request per drawn value draw a batch of values per example and send the
batch together (up to --concurrency requests at once): a remote target's round trip is paid about once per batch,
not once per value. The profile's examples are divided by the batch size, so that as many values are judged.

Tests that walk a query per drawn value keep one value per example: shrinking a failing batch would walk every
query of the batch again at each step (minutes against a slow target that fails)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Hashable, Iterator
from functools import cache
from typing import TypeVar

from hypothesis import settings
from hypothesis import strategies as st

from conformance.targets.fanout import fan_out

SIZE = 4  # values drawn per example: one round trip of the default --concurrency
Value = TypeVar("Value", bound=Hashable)
Result = TypeVar("Result")


@cache  # tests draw it inside each example: the same strategy is validated by hypothesis once, not per example
def batch_of(values: st.SearchStrategy[Value]) -> st.SearchStrategy[list[Value]]:
    """SIZE values of `values`, each shrunk on its own, a value drawn twice asked once."""
    return st.lists(values, min_size=SIZE, max_size=SIZE).map(lambda drawn: list(dict.fromkeys(drawn)))


def batched() -> settings:
    """The settings of a batched property test: the loaded profile's examples divided by SIZE (read when the test
    module is collected, after the profile is loaded)."""
    return settings(max_examples=max(1, math.ceil(settings().max_examples / SIZE)))


def sent_together(ask: Callable[[Value], Result], values: list[Value],
                  concurrency: int) -> Iterator[tuple[Value, Result]]:
    """Each value of a batch with `ask(value)`, in the values' order, up to `concurrency` asked at once.

    Once the running test has found a wrong answer (failed()), each value is asked at its turn instead: a caller that
    stops at its first wrong answer then sends nothing after it while hypothesis shrinks the failure, as one value
    per example would.
    """
    if os.environ.get("PYTEST_CURRENT_TEST", "") in _FAILED:
        return ((value, ask(value)) for value in values)
    return zip(values, fan_out(ask, values, limit=concurrency), strict=True)


_FAILED: set[str] = set()  # the tests (PYTEST_CURRENT_TEST) that found a wrong answer in this run


def failed() -> None:
    """Note that the running test found a wrong answer: from then on its batches are asked one value at a time."""
    _FAILED.add(os.environ.get("PYTEST_CURRENT_TEST", ""))
