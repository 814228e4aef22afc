"""The connection to one target's origin: TLS set up once, a pool of one connection, and a worker thread that sends
each request so that the caller can stop waiting at its deadline."""

from __future__ import annotations

import queue
import re
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from urllib3 import HTTPHeaderDict
from urllib3.util.ssl_ import create_urllib3_context

from conformance.evidence import clip
from conformance.targets.decoding import read_body
from conformance.targets.errors import BudgetExhausted, TargetError
from conformance.targets.limits import RunLimits


@dataclass
class Answer:
    """What came back for one request, before it is recorded."""

    status: int
    headers: HTTPHeaderDict
    body: bytes


def tls_context(verify: bool | str) -> ssl.SSLContext:
    """The TLS settings of every connection to a target: its certificate checked against `verify` (a CA bundle path,
    or certifi's when True), or not at all when False."""
    if verify is False:
        return create_urllib3_context(cert_reqs=ssl.CERT_NONE)
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)  # the host name is checked too
    if isinstance(verify, str):
        context.load_verify_locations(cafile=verify)
    else:
        import certifi  # the default CA bundle, a dependency; only an https target needs it

        context.load_verify_locations(cafile=certifi.where())
    return context


class _Worker:
    """One thread that sends a target's requests one at a time, so that the caller can stop waiting at a deadline.

    Kept for the run rather than started per request (a thread start costs about as much CPU as a small exchange);
    a worker stuck on a request is retired and replaced.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], list[Any], threading.Event] | None] = queue.SimpleQueue()
        threading.Thread(target=self._serve, daemon=True, name="conformance-http").start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, outcome, done = job
            outcome.append(call())
            done.set()
            del job, call, outcome, done  # the answer is the caller's now; waiting for the next job must not hold it

    def run(self, call: Callable[[], Any], timeout: float) -> Any:
        """What `call` returned, or None when it did not return within `timeout` seconds."""
        outcome: list[Any] = []
        done = threading.Event()
        self._jobs.put((call, outcome, done))
        if not done.wait(max(timeout, 0.0)):
            return None
        return outcome[0]

    def retire(self) -> None:
        """Let the thread end once its current request does; it takes no more."""
        self._jobs.put(None)


class Connection:
    """Requests to one origin, each within the run's timeout and budget and its body within the body cap."""

    def __init__(self, base_url: str, *, verify: bool | str, limits: RunLimits) -> None:
        self.base_url = base_url
        self.limits = limits
        self._verify = verify
        self._tls: ssl.SSLContext | None = None
        self._tls_error: str | None = None  # a CA bundle that cannot be read fails each request, as TLS would
        if base_url.lower().startswith("https:"):
            try:
                self._tls = tls_context(verify)
            except (ssl.SSLError, OSError) as exc:
                self._tls_error = first_line(exc)
        self.pool = self._new_pool()
        self._worker: _Worker | None = None

    def tls(self, what: str) -> ssl.SSLContext | None:
        """The TLS settings of a request to the origin (None over plain HTTP); TargetError when they cannot be made."""
        if self._tls_error is not None:
            raise TargetError(f"{what}: TLS failed: {self._tls_error}")
        return self._tls

    def send(self, method: str, url: str, headers: dict[str, str], data: bytes | None, started: float) -> Answer:
        """Run the request in a worker so a target that drips bytes cannot hold the run past the timeout or budget."""
        self.tls(f"{method} {url}")
        limits = self.limits
        limit = limits.call_limit(f"{method} {url}")
        if self._worker is None:
            self._worker = _Worker()
            weakref.finalize(self, self._worker.retire)  # its thread ends with the connection
        # Per-read timeouts and the deadline are enforced inside; this bound catches answers that trickle in
        # below them, headers included.
        outcome = self._worker.run(lambda: self._attempt(method, url, headers, data, started + limit, limit),
                                   started + limit + 1.0 - time.monotonic())
        if outcome is None:
            self._worker.retire()  # it still holds the stuck request; later requests get a fresh worker
            self._worker = None
            self._abandon_pool()
            if limits.used_up():
                raise limits.exhausted(f"{method} {url} cut")
            raise TargetError(f"{method} {url}: answer not complete within {limit:g}s")
        if isinstance(outcome, TargetError) and not isinstance(outcome, BudgetExhausted) and limits.used_up():
            raise limits.exhausted(f"{method} {url} cut")
        if isinstance(outcome, BaseException):
            raise outcome
        answer: Answer = outcome
        return answer

    def _attempt(self, method: str, url: str, headers: dict[str, str], data: bytes | None,
                 deadline: float, limit: float) -> Answer | BaseException:
        try:
            return self._receive(method, url, headers, data, deadline, limit)
        except TargetError as exc:  # handed to the caller's thread without the frames that held the body
            exc.__context__ = None
            return exc.with_traceback(None)
        except BaseException as exc:  # handed to the caller's thread, raised there
            return exc

    def _new_pool(self) -> urllib3.HTTPConnectionPool:
        """Connections to the target's origin alone: no proxy from the environment, no retry, no redirect."""
        options: dict[str, Any] = {"maxsize": 1, "retries": False}
        if self._tls is not None:
            options.update(ssl_context=self._tls, cert_reqs=self._tls.verify_mode,
                           assert_hostname=None if self._verify is not False else False)
        return urllib3.connection_from_url(self.base_url, **options)

    def _abandon_pool(self) -> None:
        """Drop a pool whose connection a stuck worker still holds; later requests get a fresh one."""
        stale, self.pool = self.pool, self._new_pool()
        stale.close()

    def _receive(self, method: str, url: str, headers: dict[str, str], data: bytes | None, deadline: float,
                 limit: float) -> Answer:
        what = f"{method} {url}"
        raw: urllib3.BaseHTTPResponse | None = None
        complete = False  # a HEAD answer's connection is not reused either: a server may send a body after it
        try:
            raw = self.pool.urlopen(
                method, urllib3.util.parse_url(url).request_uri, body=data, headers=headers,
                # never follow a redirect: a Location is judged, not requested (it may name another origin)
                retries=False, redirect=False, assert_same_host=False,
                timeout=urllib3.Timeout(connect=limit, read=limit),
                preload_content=False, decode_content=False,  # undone here, chunk by chunk under the body cap
            )
            if method == "HEAD":
                return Answer(raw.status, raw.headers, b"")
            body = read_body(raw, deadline, what, limit, self.limits.body_bytes)
            complete = True
            return Answer(raw.status, raw.headers, body)
        except urllib3.exceptions.HTTPError as exc:
            raise _transport_error(what, exc, limit) from None
        except (zlib.error, EOFError) as exc:
            raise TargetError(f"{what}: body not decodable as its Content-Encoding: {exc}") from None
        except (OSError, ValueError) as exc:  # ValueError: a header value http.client refuses to send
            raise TargetError(f"{what}: connection failed: {first_line(exc)}") from None
        finally:
            if raw is not None:
                if not complete:
                    raw.close()  # unread bytes would be taken for the next answer: this connection is not reused
                raw.release_conn()


def _transport_error(what: str, exc: urllib3.exceptions.HTTPError, limit: float) -> TargetError:
    """The TargetError of a request that got no (complete) answer."""
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError, yet refused
        return TargetError(f"{what}: connection failed: {first_line(exc)}")
    if isinstance(exc, urllib3.exceptions.SSLError):
        return TargetError(f"{what}: TLS failed: {first_line(exc)}")
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return TargetError(f"{what}: no answer within {limit:g}s")
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return TargetError(f"{what}: connection failed: {first_line(exc)}")
    return TargetError(f"{what}: {first_line(exc)}")


def first_line(exc: BaseException) -> str:
    """The useful part of a urllib3 or socket error: the OS error when there is one, else its first line."""
    text = str(exc) or type(exc).__name__
    root = re.search(r"\[Errno -?\d+\] [^'\")\]]+", text)
    if root:
        return root.group(0).strip()
    return clip(text.splitlines()[0], 300)
