"""Load behaviours of the Glance-style reference: a busy but correct endpoint that sheds load now and then (503,
429), keeps one path unavailable, or fails one request with a 500.

They are not faults: none bends a documented rule, so none is in the fault table the sensitivity self-test reads.
The suite must survive the shedding (retries), leave what the unavailable path serves not judged, and fail what the
500 answered (it is never sent again).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from conformance.reference.glance.images import IMAGES
from conformance.reference.glance.responses import WSGIApp
from conformance.targets.retry import http_date

PERIOD = 20  # one request in PERIOD is shed by the periodic behaviours
UNAVAILABLE_PATH = f"/v2/images/{IMAGES[0].id}"  # the path `persistent-503` never serves (an image of the sample)


@dataclass(frozen=True)
class Load:
    """One load behaviour: which requests it answers itself (by their number from 1, method and path), and how."""

    name: str
    description: str
    status: int
    sheds: Callable[[int, str, str], bool]  # (request number, method, path) -> answered by the behaviour
    retry_after: Callable[[], str | None] = lambda: None  # the Retry-After header it sends, if any


def _first_show(taken: set[str]) -> Callable[[int, str, str], bool]:
    """True for the first GET of UNAVAILABLE_PATH only."""

    def sheds(_: int, method: str, path: str) -> bool:
        if method != "GET" or path != UNAVAILABLE_PATH or path in taken:
            return False
        taken.add(path)
        return True

    return sheds


LOADS: dict[str, Callable[[], Load]] = {  # made afresh for each app: a behaviour may count what it answered
    "periodic-503": lambda: Load(
        "periodic-503", f"one request in {PERIOD} answered 503 without Retry-After (the client backs off)", 503,
        lambda n, _m, _p: n % PERIOD == 0),
    "periodic-429": lambda: Load(
        "periodic-429", f"one request in {PERIOD} answered 429 with Retry-After: 1, every other as an HTTP date",
        429, lambda n, _m, _p: n % PERIOD == 0, _alternate_retry_after()),
    "persistent-503": lambda: Load(
        "persistent-503", f"GET {UNAVAILABLE_PATH} always answered 503 with Retry-After: 0", 503,
        lambda _n, method, path: method == "GET" and path == UNAVAILABLE_PATH, lambda: "0"),
    "once-500": lambda: Load(
        "once-500", f"the first GET {UNAVAILABLE_PATH} answered 500 (a server error, never sent again)", 500,
        _first_show(set())),
}


def _alternate_retry_after() -> Callable[[], str]:
    """Retry-After of 1 second, as delay-seconds and as an HTTP date in turn."""
    count = iter(range(1 << 62))
    return lambda: "1" if next(count) % 2 == 0 else http_date(1)


def describe() -> Iterable[tuple[str, str]]:
    """(name, description) of every load behaviour, for --list-faults."""
    return [(name, make().description) for name, make in LOADS.items()]


def wrap_with(name: str | None) -> Callable[[WSGIApp], WSGIApp] | None:
    """The middleware that puts load behaviour `name` in front of the app (None: none); KeyError when unknown."""
    if name is None:
        return None
    load = LOADS[name]()
    lock = threading.Lock()
    count = [0]

    def wrap(app: WSGIApp) -> WSGIApp:
        def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with lock:
                count[0] += 1
                number = count[0]
                shed = load.sheds(number, environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
            if not shed:
                return app(environ, start_response)
            body = b'{"message": "the reference is busy (load behaviour %s)"}' % load.name.encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            retry_after = load.retry_after()
            if retry_after is not None:
                headers.append(("Retry-After", retry_after))
            reason = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}[load.status]
            start_response(f"{load.status} {reason}", headers)
            return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]

        return answer

    return wrap
