"""Property tests that send one independent request per drawn value draw a batch of values per example and send the
batch together (up to --concurrency requests at once): a remote target's round trip is paid about once per batch,
not once per value. The profile's examples are divided by the batch size, so that as many values are judged.

Tests that walk a query per drawn value keep one value per example: shrinking a failing batch would walk every
query of the batch again at each step (minutes against a slow target that fails)."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import TypeVar

from hypothesis import settings
from hypothesis import strategies as st

from conformance.targets.fanout import fan_out

SIZE = 4  # values drawn per example: one round trip of the default --concurrency
Value = TypeVar("Value", bound=Hashable)
Result = TypeVar("Result")


def batch_of(values: st.SearchStrategy[Value]) -> st.SearchStrategy[list[Value]]:
    """SIZE values of `values`, each shrunk on its own, a value drawn twice asked once."""
    return st.lists(values, min_size=SIZE, max_size=SIZE).map(lambda drawn: list(dict.fromkeys(drawn)))


def batched() -> settings:
    """The settings of a batched property test: the loaded profile's examples divided by SIZE (read when the test
    module is collected, after the profile is loaded)."""
    return settings(max_examples=max(1, math.ceil(settings().max_examples / SIZE)))


def sent_together(ask: Callable[[Value], Result], values: list[Value], concurrency: int) -> list[Result]:
    """`ask(value)` of every value of a batch, up to `concurrency` at once, the answers in the values' order."""
    return fan_out(ask, values, limit=concurrency)
