"""Property tests that send one independent request per drawn value draw a batch of values per example and send the
batch together (up to --concurrency requests at once): a remote target's round trip is paid about once per batch,
not once per value. The profile's examples are divided by the batch size, so that as many values are judged."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

from hypothesis import settings
from hypothesis import strategies as st

from conformance.targets.fanout import fan_out

SIZE = 4  # values drawn per example: one round trip of the default --concurrency
Value = TypeVar("Value", bound=Hashable)
Result = TypeVar("Result")
Item = TypeVar("Item")
Ahead = TypeVar("Ahead")


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



# Batched tests that have failed in this run (this process): from then on they draw one value at a time.
_FAILED: set[str] = set()


def in_turn(draw: Callable[[], Item], test: str, ask_ahead: Callable[[list[Item]], Iterable[Ahead]],
            key: Callable[[Item], Hashable] = repr) -> Iterator[tuple[Item, Ahead | None]]:
    """The values of one example of `test`, each with what was asked ahead for it (`ask_ahead(values)`, in order).

    Until `test` has failed in this run (failed()), SIZE values are drawn first and asked ahead together; from then
    on each is drawn at its turn, with nothing asked ahead. A caller that stops at its first failing value so leaves
    the rest undrawn while hypothesis shrinks the failure, which then costs what one value per example would.
    A value drawn twice is given once.
    """
    seen: set[Hashable] = set()
    if test in _FAILED:
        for _ in range(SIZE):
            value = draw()
            if key(value) not in seen:
                seen.add(key(value))
                yield value, None
        return
    batch: dict[Hashable, Item] = {}
    for _ in range(SIZE):
        value = draw()
        batch.setdefault(key(value), value)
    yield from zip(batch.values(), ask_ahead(list(batch.values())), strict=True)


def failed(test: str) -> None:
    """Note that `test` found a failure: its later examples (hypothesis shrinking it) draw one value at a time."""
    _FAILED.add(test)
