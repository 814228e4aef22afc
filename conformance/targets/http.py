"""HTTP client for Glance-style targets: bounded in time and memory, every exchange recorded."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from requests.structures import CaseInsensitiveDict

from conformance.evidence import Exchange, ExchangeLog
from conformance.targets.errors import TargetError

BODY_CAP = 8 * 1024 * 1024  # bytes read of any response body; the rest is not read
CHUNK = 64 * 1024


class BodyNotJSON(AssertionError):
    """The target answered a body that is not valid JSON where JSON is documented."""


@dataclass
class HttpResponse:
    """What the target answered, body capped."""

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    url: str

    @property
    def text(self) -> str:
        """The body decoded as UTF-8, undecodable bytes replaced."""
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON; a target failure when it is not JSON."""
        __tracebackhide__ = True
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise BodyNotJSON(
                f"{self.status} from {self.url}: body is not valid JSON ({exc}); body starts {self.text[:200]!r}"
            ) from None


class HttpTarget:
    """A Glance-style endpoint: sends requests with the configured auth, TLS and timeout."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        log: ExchangeLog,
        headers: dict[str, str] | None = None,
        verify: bool | str = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.log = log
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.session.verify = verify
        self.session.trust_env = False  # a vendor's proxy settings must not reroute a certification run

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The absolute URL of `path` (already percent-encoded) with `params`."""
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        return f"{self.base_url}{path}{query}"

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        """Send one request and return the answer; TargetError when there is no answer in time."""
        url = self.url(path, params)
        sent = {name: str(value) for name, value in {**self.session.headers, **(headers or {})}.items()}
        exchange = Exchange(protocol="http", method=method, target=url, request_headers=sent)
        started = time.monotonic()
        try:
            response = self._send(method, url, headers or {}, started)
        except TargetError as exc:
            exchange.error = str(exc)
            exchange.elapsed = time.monotonic() - started
            self.log.record(exchange)
            raise
        exchange.status = response.status
        exchange.response_headers = dict(response.headers)
        exchange.response_body = response.text if response.body else None
        exchange.elapsed = time.monotonic() - started
        self.log.record(exchange)
        return response

    def _send(self, method: str, url: str, headers: dict[str, str], started: float) -> HttpResponse:
        """Run the request in a worker so a target that drips bytes cannot hold the run past the timeout."""
        outcome: list[HttpResponse | BaseException] = []
        worker = threading.Thread(
            target=lambda: outcome.append(self._attempt(method, url, headers, started)), daemon=True, name="conformance-http"
        )
        worker.start()
        # Per-read timeouts are enforced inside; this bound catches answers that trickle in below them.
        worker.join(self.timeout + 1.0)
        if worker.is_alive() or not outcome:
            self._abandon_session()
            raise TargetError(f"{method} {url}: answer not complete within {self.timeout:g}s")
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _attempt(self, method: str, url: str, headers: dict[str, str], started: float) -> HttpResponse | BaseException:
        try:
            return self._receive(method, url, headers, started)
        except BaseException as exc:  # handed to the caller's thread, raised there
            return exc

    def _abandon_session(self) -> None:
        """Drop a session whose connection a stuck worker still holds; later requests get a fresh one."""
        stale = self.session
        fresh = requests.Session()
        fresh.headers.update(stale.headers)
        fresh.verify = stale.verify
        fresh.trust_env = False
        self.session = fresh
        stale.close()

    def _receive(self, method: str, url: str, headers: dict[str, str], started: float) -> HttpResponse:
        deadline = started + self.timeout
        try:
            with self.session.request(
                method, url, headers=headers, timeout=self.timeout, stream=True, allow_redirects=False
            ) as raw:
                body = bytearray()
                if method != "HEAD":
                    for chunk in raw.iter_content(CHUNK):
                        body += chunk
                        if len(body) > BODY_CAP:
                            raise TargetError(f"{method} {url}: response body larger than {BODY_CAP} bytes, not read further")
                        if time.monotonic() > deadline:
                            raise TargetError(f"{method} {url}: response not complete within {self.timeout:g}s")
                return HttpResponse(status=raw.status_code, headers=raw.headers, body=bytes(body), url=url)
        except requests.exceptions.SSLError as exc:
            raise TargetError(f"{method} {url}: TLS failed: {_first_line(exc)}") from None
        except requests.exceptions.Timeout:
            raise TargetError(f"{method} {url}: no answer within {self.timeout:g}s") from None
        except requests.exceptions.ConnectionError as exc:
            raise TargetError(f"{method} {url}: connection failed: {_first_line(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise TargetError(f"{method} {url}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    """The useful part of a requests/urllib3 error: the OS error when there is one, else its first line."""
    text = str(exc) or type(exc).__name__
    root = re.search(r"\[Errno -?\d+\] [^'\")\]]+", text)
    if root:
        return root.group(0).strip()
    return text.splitlines()[0][:300]
