"""Independent requests sent concurrently, a bounded number in flight (--concurrency), so that a remote target's
round-trip time does not set the run's length."""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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


def ahead(call: Callable[[Item], Result], items: Iterable[Item], *, limit: int,
          ready: Callable[[int], bool] | None = None) -> Generator[Result, None, None]:
    """`call(item)` of every item, yielded in the items' order, each call started up to `limit` - 1 items before its
    turn, so that the answers of independent requests arrive together and are judged one after the other as before.

    An item's error is raised at its turn. `ready(n)` is asked before starting a call with `n` calls ahead of the
    caller already started (a call at its turn always starts): the caller's own bound on what it may still ask for.
    Calls started for items the caller never takes are waited for and dropped; `limit` 1 starts each at its turn.
    """
    if limit <= 1:
        yield from (call(item) for item in items)
        return
    pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="conformance-ahead")
    pending: deque[Future[Result]] = deque()
    left = iter(items)
    done = object()
    try:
        while True:
            while len(pending) < limit and (not pending or ready is None or ready(len(pending))):
                item = next(left, done)
                if item is done:
                    break
                pending.append(pool.submit(contextvars.copy_context().run, call, item))  # type: ignore[arg-type]
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
