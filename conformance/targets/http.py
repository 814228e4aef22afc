"""The one HTTP client of the suite: bounded in time and memory, every exchange censored and recorded."""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import re
import socket
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlencode, urlsplit

import urllib3
from urllib3 import HTTPHeaderDict

from conformance import json_text
from conformance.evidence import Exchange, ExchangeLog
from conformance.reproduce import Replay, tls_options
from conformance.short_repr import ShortRepr, shown_address
from conformance.targets import bounds
from conformance.targets.auth import (
    TOKEN_HEADER,
    Auth,
    CredentialSource,
    RequestSigner,
    forged_token,
    split_userinfo,
    token_headers,
)
from conformance.targets.errors import BudgetExhausted, TargetError

BODY_CAP = 8 * 1024 * 1024  # bytes read of any response body; the rest is not read
RAW_BODY_CAP = 64 * 1024  # bytes read after the headers of a raw HEAD
RAW_LINGER = 1.0  # seconds a raw HEAD waits for a body once the headers are in
CHUNK = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate"  # the only encodings the suite decodes itself, with the body cap applied as it goes


class BodyNotJSON(AssertionError):
    """The target answered a body that is not valid JSON where JSON is documented."""


def basic_authorization(user: str, password: str) -> str:
    """The `Authorization: Basic` value of `user` and `password`."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class OffOrigin(TargetError):
    """A link the target gave points off its own origin (scheme, host, port) or is not a path: never requested."""


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of an absolute URL, the default port filled in; ValueError-free."""
    split = urlsplit(url)
    scheme = split.scheme.lower()
    try:
        port = split.port
    except ValueError:
        port = -1  # not a port: matches no origin
    default = {"http": 80, "https": 443}.get(scheme)
    return scheme, (split.hostname or "").lower(), port if port is not None else default


def is_plain_path(path: str) -> bool:
    """Whether `path` is an absolute path on the same host: `/…`, not `//host…`, no backslash or control character."""
    return path.startswith("/") and not path.startswith("//") and _plain_text(path)


def _plain_text(text: str) -> bool:
    # urllib3 and urlsplit disagree on backslashes and control characters; a link holding one is never followed
    return "\\" not in text and not any(ord(char) < 0x21 or ord(char) == 0x7F for char in text)


class BodyTooComplex(BodyNotJSON):
    """The body holds more JSON values than the run parses (--max-json-values): it is not parsed."""


def is_json_type(content_type: str) -> bool:
    """Whether a media type is JSON (application/json or a +json suffix)."""
    return content_type == "application/json" or content_type.endswith("+json")


@dataclass
class HttpResponse(ShortRepr):
    """What the target answered, body capped, with the censored exchange that shows it."""

    status: int
    headers: HTTPHeaderDict
    body: bytes
    url: str
    exchange: Exchange

    def __repr__(self) -> str:
        return f"HttpResponse({self.status}, {len(self.body)} bytes from {shown_address(self.url)})"

    @property
    def text(self) -> str:
        """The body decoded as UTF-8, undecodable bytes replaced."""
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def is_json(self) -> bool:
        """Whether the Content-Type is a JSON media type."""
        return is_json_type(self.content_type)

    def check_json_values(self) -> None:
        """BodyTooComplex when parsing the body would make more JSON values than the run allows (--max-json-values)."""
        __tracebackhide__ = True
        values = bounds.json_values(self.body)
        if values > bounds.BOUNDS.json_values:
            raise BodyTooComplex(
                f"{self.status} from {self.url}: body of {len(self.body)} bytes holds about {values} JSON values, "
                f"more than the {bounds.BOUNDS.json_values} the suite parses (raise --max-json-values)"
            )

    def json(self) -> Any:
        """The body parsed as JSON; a target failure when it is not JSON."""
        __tracebackhide__ = True
        self.check_json_values()
        try:
            return json_text.loads(self.body)
        except ValueError as exc:
            raise BodyNotJSON(
                f"{self.status} from {self.url}: body is not valid JSON ({exc}); body starts {self.text[:200]!r}"
            ) from None


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


@dataclass
class _Answer:
    status: int
    headers: HTTPHeaderDict
    body: bytes


class HttpTarget(ShortRepr):
    """A Glance-style endpoint: sends requests with the configured credentials, TLS and timeout.

    Credentials go on each request from here alone: the run's token (static, or asked of `credentials` each time)
    and/or AK/SK signature, or (for the 401 checks) none or a forged token. When the target refuses fresh
    credentials with 401, they are renewed once and the request sent again; the second answer is the one judged.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        log: ExchangeLog,
        token: str | None = None,
        verify: bool | str = True,
        signer: RequestSigner | None = None,
        credentials: CredentialSource | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        address, in_url = split_userinfo(base_url)
        self.base_url = address.rstrip("/")
        self._basic_auth = basic_auth or in_url  # user and password, sent only to this origin (never in a repr)
        self.timeout = timeout
        self.log = log
        self.token = token
        self.credentials = credentials
        self.verify = verify
        self.signer = signer
        self.sent_headers = self._default_headers()  # on every request, before its own
        self.pool = self._new_pool()
        self._worker: _Worker | None = None

    def __repr__(self) -> str:
        auth = "renewed" if self.credentials else "set" if self.token else "none"
        signed = ", AK/SK-signed" if self.signer else ""
        return f"HttpTarget({shown_address(self.base_url)}, token {auth}{signed})"

    @property
    def has_credentials(self) -> bool:
        """Whether the run sends credentials, so that a request without valid ones can be judged."""
        return bool(self.token or self.credentials or self.signer)

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The absolute URL of `path` (percent-encoded) with `params`; OffOrigin when it would leave the origin."""
        if not is_plain_path(path):
            raise OffOrigin(f"{path[:200]!r} is not a path on {self.origin}: not requested")
        # a listed id that is not valid Unicode (a lone surrogate) still makes a URL, so the target is judged on it
        # A signed query is percent-encoded (space as %20), the one form every reading of the canonical query shares.
        quote_via = quote if self.signer else quote_plus
        query = f"?{urlencode(params, doseq=True, quote_via=quote_via, errors='surrogatepass')}" if params else ""
        url = f"{self.base_url}{path}{query}"
        if origin(url) != origin(self.base_url):
            raise OffOrigin(f"{shown_address(url)} is not on the origin {self.origin}: not requested")
        return url

    @property
    def origin(self) -> str:
        """scheme://host:port of the target: the only place the suite sends requests to."""
        scheme, host, port = origin(self.base_url)
        return f"{scheme}://{host}:{port}"

    def path_of(self, link: str) -> str:
        """The path and query (on this target) a link from the target names; OffOrigin when it names another place.

        A link is a path (`/v2/images?marker=x`) or an absolute URL on the target's own origin; anything else
        (another host or port, `//host/path`, `@host:port/path`, a relative `1/v2/images`) is never requested.
        """
        split = urlsplit(link) if _plain_text(link) else None
        if split is None or not is_plain_path(split.path):
            raise OffOrigin(f"{link[:200]!r} is neither a path nor a URL on the target's origin {self.origin}")
        if (split.scheme or split.netloc) and origin(link) != origin(self.base_url):
            raise OffOrigin(f"{link[:200]!r} points off the target's origin {self.origin}")
        path = split.path
        base_path = urlsplit(self.base_url).path.rstrip("/")
        if base_path and path.startswith(base_path + "/"):
            path = path[len(base_path):]  # links may repeat the endpoint's own path prefix; url() adds it back
        return f"{path}?{split.query}" if split.query else path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        payload: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        auth: Auth = Auth.RUN,
    ) -> HttpResponse:
        """Send one request (JSON `payload` or raw `data`) with `auth`; TargetError when there is no answer in time."""
        response = self._request_once(method, path, params, headers, payload, data, content_type, auth)
        if response.status == 401 and self._renewed(auth):
            response = self._request_once(method, path, params, headers, payload, data, content_type, auth)
        return response

    def _request_once(self, method: str, path: str, params: dict[str, Any] | None, headers: dict[str, str] | None,
                      payload: Any, data: bytes | None, content_type: str | None, auth: Auth) -> HttpResponse:
        url = self.url(path, params)
        credentials = self._credentials(auth, method, url)
        headers = {**credentials, **(headers or {})}
        shown_body = None  # the request body as the evidence shows it
        if payload is not None:
            shown_body = json.dumps(payload, ensure_ascii=False)
            data, content_type = shown_body.encode(), content_type or "application/json"
        elif data is not None:
            shown_body = f"<{len(data)} bytes of image data, md5 {hashlib.md5(data).hexdigest()}>"
        if content_type:
            headers["Content-Type"] = content_type
        signed = self.signer is not None and auth == Auth.RUN
        if self.signer is not None and signed:
            headers = self.signer.sign(method, url, headers, data)
        sent = {**self.sent_headers, **headers}
        replay = self._replay(auth, credentials, signed, binary_body=payload is None and data is not None)
        exchange = Exchange(protocol="http", method=method, target=url, request_headers=sent, request_body=shown_body,
                            replay=replay)
        started = time.monotonic()
        try:
            answer = self._send(method, url, headers, data, started)
        except TargetError as exc:
            raise self._failed(exchange, started, exc) from None
        return self._answered(exchange, started, url, answer)

    def head_raw(self, path: str, *, auth: Auth = Auth.RUN) -> HttpResponse:
        """HEAD `path` over a plain socket, reading every byte after the headers (a pool never reads them)."""
        response = self._head_raw_once(path, auth)
        if response.status == 401 and self._renewed(auth):
            response = self._head_raw_once(path, auth)
        return response

    def _head_raw_once(self, path: str, auth: Auth) -> HttpResponse:
        url = self.url(path)
        parts = urlsplit(url)
        sent = dict(self.sent_headers)
        credentials = self._credentials(auth, "HEAD", url)
        sent.update({"Host": parts.netloc, "Connection": "close", **credentials})
        signed = self.signer is not None and auth == Auth.RUN
        if self.signer is not None and signed:
            sent = self.signer.sign("HEAD", url, sent, None)
        exchange = Exchange(protocol="http", method="HEAD", target=url, request_headers=sent,
                            replay=self._replay(auth, credentials, signed))
        request = f"HEAD {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
        request += "".join(f"{name}: {value}\r\n" for name, value in sent.items()) + "\r\n"
        started = time.monotonic()
        try:
            data = self._socket_exchange(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80),
                                         parts.scheme == "https", request.encode("latin-1"))
        except TargetError as exc:  # the budget is used up
            raise self._failed(exchange, started, exc) from None
        except (OSError, ValueError) as exc:
            raise self._failed(exchange, started, TargetError(f"HEAD {url}: {exc}")) from None
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(status_line.split()[1])
        except (IndexError, ValueError):
            error = TargetError(f"HEAD {url}: not an HTTP answer: {status_line[:100]!r}")
            raise self._failed(exchange, started, error) from None
        headers = HTTPHeaderDict({k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)})
        return self._answered(exchange, started, url, _Answer(status, headers, body))

    def _credentials(self, auth: Auth, method: str, url: str) -> dict[str, str]:
        """The credential headers of one request."""
        if auth == Auth.NONE:
            return {}
        if auth == Auth.FORGED:
            return token_headers(forged_token(self.credentials.token() if self.credentials else self.token))
        if self.credentials is not None:
            return self.credentials.headers(method, url)
        return token_headers(self.token)

    def _replay(self, auth: Auth, credentials: dict[str, str], signed: bool, binary_body: bool = False) -> Replay:
        """What the reproduction of one request needs beyond its censored exchange."""
        forged = credentials.get(TOKEN_HEADER) if auth == Auth.FORGED else None
        return Replay(tls=tls_options(self.verify), forged_token=forged, signed=signed, binary_body=binary_body)

    def _renewed(self, auth: Auth) -> bool:
        """After a 401 to the run's own credentials: renew them, and whether the request is worth sending again."""
        return auth == Auth.RUN and self.credentials is not None and self.credentials.renew()

    def _default_headers(self) -> dict[str, str]:
        """The headers every request carries (its own headers may replace them)."""
        from conformance import __version__

        headers = {"User-Agent": f"image-api-conformance/{__version__}", "Accept-Encoding": ACCEPT_ENCODING,
                   "Accept": "*/*"}
        if self._basic_auth:
            headers["Authorization"] = basic_authorization(*self._basic_auth)
        return headers

    def _answered(self, exchange: Exchange, started: float, url: str, answer: _Answer) -> HttpResponse:
        exchange.status = answer.status
        exchange.response_headers = dict(answer.headers)
        exchange.response_body = answer.body.decode("utf-8", errors="replace") if answer.body else None
        exchange.elapsed = time.monotonic() - started
        shown = self.log.record(exchange)
        return HttpResponse(status=answer.status, headers=answer.headers, body=answer.body, url=url, exchange=shown)

    def _failed(self, exchange: Exchange, started: float, error: TargetError) -> TargetError:
        """`error`, carrying the recorded exchange of the request that got no answer."""
        exchange.error = str(error)
        exchange.elapsed = time.monotonic() - started
        error.exchange = self.log.record(exchange)
        return error

    def _send(self, method: str, url: str, headers: dict[str, str], data: bytes | None, started: float) -> _Answer:
        """Run the request in a worker so a target that drips bytes cannot hold the run past the timeout or budget."""
        limit = bounds.BOUNDS.call_limit(self.timeout, f"{method} {url}")
        if self._worker is None:
            self._worker = _Worker()
            weakref.finalize(self, self._worker.retire)  # its thread ends with the target
        # Per-read timeouts and the deadline are enforced inside; this bound catches answers that trickle in
        # below them, headers included.
        outcome = self._worker.run(lambda: self._attempt(method, url, headers, data, started + limit, limit),
                                   started + limit + 1.0 - time.monotonic())
        if outcome is None:
            self._worker.retire()  # it still holds the stuck request; later requests get a fresh worker
            self._worker = None
            self._abandon_pool()
            if bounds.BOUNDS.used_up():
                raise bounds.BOUNDS.exhausted(f"{method} {url} cut")
            raise TargetError(f"{method} {url}: answer not complete within {limit:g}s")
        result = outcome
        if isinstance(result, TargetError) and not isinstance(result, BudgetExhausted) and bounds.BOUNDS.used_up():
            raise bounds.BOUNDS.exhausted(f"{method} {url} cut")
        if isinstance(result, BaseException):
            raise result
        return result

    def _attempt(self, method: str, url: str, headers: dict[str, str], data: bytes | None,
                 deadline: float, limit: float) -> _Answer | BaseException:
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
        if self.base_url.lower().startswith("https:"):
            if self.verify is False:
                options.update(cert_reqs="CERT_NONE", assert_hostname=False)
            else:
                import certifi  # the default CA bundle, a dependency; only an https target needs it

                options.update(cert_reqs="CERT_REQUIRED",
                               ca_certs=self.verify if isinstance(self.verify, str) else certifi.where())
        return urllib3.connection_from_url(self.base_url, **options)

    def _abandon_pool(self) -> None:
        """Drop a pool whose connection a stuck worker still holds; later requests get a fresh one."""
        stale, self.pool = self.pool, self._new_pool()
        stale.close()

    def _receive(self, method: str, url: str, headers: dict[str, str], data: bytes | None, deadline: float,
                 limit: float) -> _Answer:
        what = f"{method} {url}"
        raw: urllib3.BaseHTTPResponse | None = None
        complete = False  # a HEAD answer's connection is not reused either: a server may send a body after it
        try:
            raw = self.pool.urlopen(
                method, urllib3.util.parse_url(url).request_uri, body=data, headers={**self.sent_headers, **headers},
                # never follow a redirect: a Location is judged, not requested (it may name another origin)
                retries=False, redirect=False, assert_same_host=False,
                timeout=urllib3.Timeout(connect=limit, read=limit),
                preload_content=False, decode_content=False,  # undone here, chunk by chunk under the body cap
            )
            if method == "HEAD":
                return _Answer(raw.status, raw.headers, b"")
            body = _read_body(raw, deadline, what, limit)
            complete = True
            return _Answer(raw.status, raw.headers, body)
        except urllib3.exceptions.HTTPError as exc:
            raise _transport_error(what, exc, limit) from None
        except (zlib.error, EOFError) as exc:
            raise TargetError(f"{what}: body not decodable as its Content-Encoding: {exc}") from None
        except (OSError, ValueError) as exc:  # ValueError: a header value http.client refuses to send
            raise TargetError(f"{what}: connection failed: {_first_line(exc)}") from None
        finally:
            if raw is not None:
                if not complete:
                    raw.close()  # unread bytes would be taken for the next answer: this connection is not reused
                raw.release_conn()

    def _socket_exchange(self, host: str, port: int, tls: bool, request: bytes) -> bytes:
        """Send `request` and read until the server closes, the cap, or a short wait after the headers."""
        limit = bounds.BOUNDS.call_limit(self.timeout, f"HEAD {host}:{port}")
        deadline = time.monotonic() + limit
        with socket.create_connection((host, port), timeout=limit) as plain:
            sock: socket.socket = plain
            if tls:
                verify = self.verify
                context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
                if verify is False:
                    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                sock = context.wrap_socket(plain, server_hostname=host)
            sock.sendall(request)
            data = b""
            while len(data) < RAW_BODY_CAP and time.monotonic() < deadline:
                if b"\r\n\r\n" in data:
                    # a body, if any, follows the headers at once: a server that keeps the connection open
                    # despite Connection: close must not hold the run for the whole timeout
                    deadline = min(deadline, time.monotonic() + RAW_LINGER)
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                try:
                    chunk = sock.recv(RAW_BODY_CAP)
                except TimeoutError:
                    break
                if not chunk:
                    break
                data += chunk
            return data


def _transport_error(what: str, exc: urllib3.exceptions.HTTPError, limit: float) -> TargetError:
    """The TargetError of a request that got no (complete) answer."""
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError, yet refused
        return TargetError(f"{what}: connection failed: {_first_line(exc)}")
    if isinstance(exc, urllib3.exceptions.SSLError):
        return TargetError(f"{what}: TLS failed: {_first_line(exc)}")
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return TargetError(f"{what}: no answer within {limit:g}s")
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return TargetError(f"{what}: connection failed: {_first_line(exc)}")
    return TargetError(f"{what}: {_first_line(exc)}")


def _read_body(raw: urllib3.BaseHTTPResponse, deadline: float, what: str, limit: float) -> bytes:
    """The body, decoded as it streams in: TargetError past BODY_CAP decoded bytes (compression bombs included)
    or past the deadline; nothing read is kept alive by the error."""
    decoder = _Decoder(raw.headers.get("Content-Encoding", ""))
    body = bytearray()
    over_cap = False
    try:
        for chunk in raw.stream(CHUNK, decode_content=False):
            body += decoder.feed(chunk, BODY_CAP - len(body))
            if time.monotonic() > deadline:
                raise TargetError(f"{what}: response not complete within {limit:g}s")
        body += decoder.feed(b"", BODY_CAP - len(body), final=True)
    except _OverCap:
        over_cap = True  # raised below, outside this block: the _OverCap's frames hold the decoded bytes
    except BaseException:
        body.clear()
        raise
    if over_cap:
        body.clear()
        raise TargetError(f"{what}: response body larger than {BODY_CAP} bytes, not read further")
    return bytes(body)


class _OverCap(Exception):
    """More decoded bytes than the room left under the body cap."""


class _Decoder:
    """Undo gzip and deflate content codings chunk by chunk, never producing more than the room left."""

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        # applied in the order listed, so undone from the last; an unknown coding leaves the body as sent
        known = all(c in ("gzip", "x-gzip", "deflate", "identity") for c in codings)
        self.stages: list[_Stage] = [_Stage(c) for c in reversed(codings) if c != "identity"] if known else []

    def feed(self, data: bytes, room: int, *, final: bool = False) -> bytes:
        """The decoded bytes of `data`; _OverCap when they would be more than `room`."""
        for stage in self.stages:
            data = stage.feed(data, room, final=final)
        if len(data) > room:
            del data
            raise _OverCap
        return data


class _Stage:
    """One content coding being undone."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.pending = b""  # the first bytes of a deflate body, until it shows whether it has a zlib header
        self.inflater: Any = None

    def feed(self, data: bytes, room: int, *, final: bool) -> bytes:
        if self.inflater is None:
            self.pending += data
            if len(self.pending) < 2 and not final:
                return b""
            data, self.pending = self.pending, b""
            self.inflater = zlib.decompressobj(self._wbits(data))
        out = bytearray()
        while data:
            out += self.inflater.decompress(data, room + 1 - len(out))
            if len(out) > room or self.inflater.unconsumed_tail:
                out.clear()
                raise _OverCap
            data = self.inflater.unused_data
            if data and self.coding != "deflate":  # a further gzip member
                self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                break
        if final:
            out += self.inflater.flush()
            if len(out) > room:
                out.clear()
                raise _OverCap
        return bytes(out)

    def _wbits(self, start: bytes) -> int:
        if self.coding != "deflate":
            return 16 + zlib.MAX_WBITS
        # "deflate" is meant to be zlib-wrapped, but many servers send raw deflate
        zlib_header = len(start) >= 2 and start[0] & 0x0F == 8 and ((start[0] << 8) | start[1]) % 31 == 0
        return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS


def _first_line(exc: BaseException) -> str:
    """The useful part of a urllib3 or socket error: the OS error when there is one, else its first line."""
    text = str(exc) or type(exc).__name__
    root = re.search(r"\[Errno -?\d+\] [^'\")\]]+", text)
    if root:
        return root.group(0).strip()
    return text.splitlines()[0][:300]
