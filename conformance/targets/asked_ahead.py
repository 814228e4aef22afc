"""Requests of a property test's examples asked before their turn.

A property test that walks one drawn query per example pays a round trip per example: hypothesis draws the next
example only once the last one has ended. So its examples are drawn first without the target (a rehearsal,
conformance.run.examples_ahead), each example stopped at its first requests, which are noted. While the test's body
then runs on those examples, the noted requests are sent up to --concurrency at once ahead of their turn, and each
example takes the answer to the request it sends when it is one noted. A request the rehearsal did not note (a
later page) is sent at its turn, as without a rehearsal.
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

Answer = TypeVar("Answer")
Send = Callable[[], Any]


class Rehearsed(BaseException):
    """Ends a rehearsed example at its request. Not an Exception, so that the test's own handlers let it through."""


class Rehearsal:
    """The requests the examples of a rehearsal sent, in the order they were sent."""

    def __init__(self) -> None:
        self.sends: list[tuple[Hashable, Send]] = []

    def note(self, key: Hashable, send: Send) -> None:
        """Note one request (a thread of the example's own may send it: list.append is atomic)."""
        self.sends.append((key, send))


class AskedAhead:
    """The rehearsed requests, sent in order, at most `limit` at once and at most `depth` of them (their answers
    held) not yet taken."""

    def __init__(self, sends: list[tuple[Hashable, Send]], limit: int, depth: int) -> None:
        self._waiting: deque[tuple[Hashable, Send]] = deque(sends)
        self._started: list[tuple[Hashable, Future[Any]]] = []
        self._depth = max(1, depth)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, limit), thread_name_prefix="conformance-asked-ahead")
        self.taken = 0
        with self._lock:
            self._start()

    def _start(self) -> None:
        while len(self._started) < self._depth and self._waiting:
            key, send = self._waiting.popleft()
            # each request sees the test's context (what the running test counts into)
            self._started.append((key, self._pool.submit(contextvars.copy_context().run, send)))

    def take(self, key: Hashable, send: Callable[[], Answer]) -> Answer:
        """The answer to the request `key` if it was asked ahead (its error raised, if it had one), else `send()`.

        A request asked ahead is looked for among those started, not only the next one: an example may send its
        requests from threads of its own, in any order. Requests never taken (an example drew otherwise than its
        rehearsal) fill the started ones, and then nothing more is asked ahead."""
        with self._lock:
            found = next((n for n, (started, _) in enumerate(self._started) if started == key), None)
            if found is None:
                future = None
            else:
                future = self._started.pop(found)[1]
                self.taken += 1
                self._start()
        if future is None:
            return send()
        answer: Answer = future.result()
        return answer

    def close(self) -> None:
        """Ask nothing more; wait for the requests in flight (their answers are dropped)."""
        with self._lock:
            self._waiting.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)


_ACTIVE: contextvars.ContextVar[Rehearsal | AskedAhead | None] = contextvars.ContextVar("conformance_asked_ahead",
                                                                                       default=None)


def active() -> bool:
    """Whether a rehearsal, or the run it rehearsed, is under way (a request needs its key only then)."""
    return _ACTIVE.get() is not None


def request(key: Hashable | None, send: Callable[[], Answer]) -> Answer:
    """`send()`'s answer; in a rehearsal, the request noted and the example stopped (Rehearsed); in the run it
    rehearsed, the answer asked ahead when the request is one noted. A request without a key is always sent."""
    current = _ACTIVE.get()
    if current is None or key is None:
        return send()
    if isinstance(current, Rehearsal):
        current.note(key, send)
        raise Rehearsed
    return current.take(key, send)


def within(current: Rehearsal | AskedAhead | None) -> contextvars.Token[Rehearsal | AskedAhead | None]:
    """Make `current` the rehearsal (or the requests asked ahead) of what runs next in this context; reset() ends it."""
    return _ACTIVE.set(current)


def reset(token: contextvars.Token[Rehearsal | AskedAhead | None]) -> None:
    """End what within() began."""
    _ACTIVE.reset(token)
