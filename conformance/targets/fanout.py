"""Independent requests sent concurrently, a bounded number in flight (--concurrency), so that a remote target's
round-trip time does not set the run's length."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def fan_out(call: Callable[[Item], Result], items: Sequence[Item], *, limit: int) -> list[Result]:
    """`call(item)` of every item, at most `limit` at once, the results in the items' order.

    Once every call has ended, the error of the first item (in the items' order) that raised is raised, as the same
    calls made one after the other would have raised it first; `limit` 1 makes them one after the other.
    """
    if limit <= 1 or len(items) <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(limit, len(items)), thread_name_prefix="conformance-fanout") as pool:
        # each call sees the caller's context (what the running test counts into)
        futures = [pool.submit(contextvars.copy_context().run, call, item) for item in items]
        errors = [future.exception() for future in futures]  # waits for every call, skips (BaseException) included
    for error in errors:
        if error is not None:
            raise error
    return [future.result() for future in futures]
