"""The one HTTP client of the suite: every request on the target's origin, within the run's limits, censored and
recorded; each answer parsed only through `HttpResponse.json()`, which applies every cap."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from urllib3 import HTTPHeaderDict

from conformance import json_text
from conformance.evidence import Exchange, ExchangeLog, clip
from conformance.reproduce import Replay, tls_options
from conformance.short_repr import ShortRepr, shown_address
from conformance.targets import raw_head
from conformance.targets.auth import (
    TOKEN_HEADER,
    Auth,
    CredentialSource,
    RequestSigner,
    forged_token,
    split_userinfo,
    token_headers,
)
from conformance.targets.connection import Answer, Connection
from conformance.targets.decoding import ACCEPT_ENCODING, BodyNotJSON, BodyTooComplex, is_json_type
from conformance.targets.errors import TargetError
from conformance.targets.limits import RunLimits, TooManyValues
from conformance.targets.origin import OffOrigin, origin_text, path_on, url_on
from conformance.targets.retry import give_up

__all__ = ["BodyNotJSON", "BodyTooComplex", "HttpResponse", "HttpTarget", "OffOrigin", "basic_authorization"]


def basic_authorization(user: str, password: str) -> str:
    """The `Authorization: Basic` value of `user` and `password`."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


@dataclass
class HttpResponse(ShortRepr):
    """What the target answered, body capped, with the censored exchange that shows it."""

    status: int
    headers: HTTPHeaderDict
    body: bytes
    url: str
    exchange: Exchange
    limits: RunLimits = field(repr=False)  # the caps its body is read under

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

    def json(self, *, repair: Callable[[str], str] | None = None) -> Any:
        """The body parsed as JSON within the run's caps: BodyTooComplex when it holds more values than the run
        parses (--max-json-values), BodyNotJSON (a target failure) when it is not JSON, nor is once `repair`ed."""
        __tracebackhide__ = True
        try:
            return self.limits.loads(self.body)
        except TooManyValues as exc:
            raise BodyTooComplex(f"{self.status} from {self.url}: body of {len(self.body)} bytes {exc}") from None
        except ValueError as exc:
            error = exc
        if repair is not None:
            with contextlib.suppress(ValueError):
                return json_text.loads(repair(self.text))
        raise BodyNotJSON(f"{self.status} from {self.url}: body is not valid JSON ({error}); body starts "
                          f"{clip(self.text, 200)!r}", error=error)

    def loads(self, text: str, **kwargs: Any) -> Any:
        """JSON text the body carried (a property's value) parsed within the run's caps: TooManyValues past
        --max-json-values, another ValueError when it is not JSON."""
        return self.limits.loads(text, **kwargs)


class HttpTarget(ShortRepr):
    """A Glance-style endpoint: sends requests with the configured credentials and TLS, within the run's limits.

    Credentials go on each request from here alone: the run's token (static, or asked of `credentials` each time)
    and/or AK/SK signature, or (for the 401 checks) none or a forged token. When the target refuses fresh
    credentials with 401, they are renewed once and the request sent again; the second answer is the one judged.
    """

    def __init__(
        self,
        base_url: str,
        *,
        limits: RunLimits,
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
        self.limits = limits
        self.log = log
        self.token = token
        self.credentials = credentials
        self.verify = verify
        self.signer = signer
        self.sent_headers = self._default_headers()  # on every request, before its own
        self.connection = Connection(self.base_url, verify=verify, limits=limits)

    def __repr__(self) -> str:
        auth = "renewed" if self.credentials else "set" if self.token else "none"
        signed = ", AK/SK-signed" if self.signer else ""
        return f"HttpTarget({shown_address(self.base_url)}, token {auth}{signed})"

    @property
    def has_credentials(self) -> bool:
        """Whether the run sends credentials, so that a request without valid ones can be judged."""
        return bool(self.token or self.credentials or self.signer)

    @property
    def origin(self) -> str:
        """scheme://host:port of the target: the only place the suite sends requests to."""
        return origin_text(self.base_url)

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The absolute URL of `path` (percent-encoded) with `params`; OffOrigin when it would leave the origin."""
        return url_on(self.base_url, path, params, signed=self.signer is not None)

    def path_of(self, link: str) -> str:
        """The path and query (on this target) a link from the target names; OffOrigin when it names another place."""
        return path_on(self.base_url, link)

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
        own = dict(headers or {})
        shown_body = None  # the request body as the evidence shows it
        if payload is not None:
            shown_body = json.dumps(payload, ensure_ascii=False)
            data, content_type = shown_body.encode(), content_type or "application/json"
        elif data is not None:
            shown_body = f"<{len(data)} bytes of image data, md5 {hashlib.md5(data).hexdigest()}>"
        if content_type:
            own["Content-Type"] = content_type
        binary = payload is None and data is not None

        def once() -> HttpResponse:
            url = self.url(path, params)
            return self._exchange(method, url, own, data, auth, shown_body, binary,
                                  lambda sent, started: self.connection.send(method, url, sent, data, started))

        return self._retrying(method, auth, once)

    def head_raw(self, path: str, *, auth: Auth = Auth.RUN) -> HttpResponse:
        """HEAD `path` over a plain socket, reading every byte after the headers (a pool never reads them)."""

        def once() -> HttpResponse:
            url = self.url(path)
            own = {"Host": urlsplit(url).netloc, "Connection": "close"}
            return self._exchange("HEAD", url, own, None, auth, None, False,
                                  lambda sent, _: raw_head.head(url, sent, tls=self.connection.tls(f"HEAD {url}"),
                                                                limits=self.limits))

        return self._retrying("HEAD", auth, once)

    def _retrying(self, method: str, auth: Auth, once: Callable[[], HttpResponse]) -> HttpResponse:
        """The answer to `once()`, sent again while the target sheds it (503, 429) and the retry policy allows;
        TargetUnavailable when the target kept shedding it. Only GET and HEAD are ever sent again."""
        policy, limits = self.limits.retry, self.limits
        retry = 0
        while True:
            response = self._renewing(auth, once)
            if not policy.applies(method, response.status):
                return response
            why = None
            wait = policy.wait(response.headers.get("Retry-After"), retry + 1)
            if retry >= policy.retries:
                why = f"no retry left of --retries {policy.retries}"
            elif wait > policy.max_wait:
                why = f"it asked for a wait of {wait:g}s, longer than --retry-wait {policy.max_wait:g}s"
            elif wait >= limits.left():
                why = f"a wait of {wait:g}s would outlast the run's --budget"
            if why is not None:
                raise give_up(method, response.url, response.status, retry, why)
            time.sleep(wait)
            retry += 1
            self.log.count_retry()

    def _renewing(self, auth: Auth, once: Callable[[], HttpResponse]) -> HttpResponse:
        """The answer to `once()`; sent again after a 401 to the run's own credentials once they are renewed."""
        response = once()
        if response.status == 401 and auth == Auth.RUN and self.credentials is not None and self.credentials.renew():
            response = once()
        return response

    def _exchange(self, method: str, url: str, headers: dict[str, str], data: bytes | None, auth: Auth,
                  shown_body: str | None, binary_body: bool,
                  send: Callable[[dict[str, str], float], Answer]) -> HttpResponse:
        """Put the credentials on one request (signing it when the run signs), `send` it, and record the exchange."""
        credentials = self._credentials(auth, method, url)
        own = {**credentials, **headers}
        signed = self.signer is not None and auth == Auth.RUN
        if self.signer is not None and signed:
            own = self.signer.sign(method, url, own, data)
        sent = {**self.sent_headers, **own}
        forged = credentials.get(TOKEN_HEADER) if auth == Auth.FORGED else None
        replay = Replay(tls=tls_options(self.verify), forged_token=forged, signed=signed, binary_body=binary_body)
        exchange = Exchange(protocol="http", method=method, target=url, request_headers=sent, request_body=shown_body,
                            replay=replay)
        self.connection.pace()
        started = time.monotonic()
        try:
            answer = send(sent, started)
        except TargetError as error:
            exchange.error = str(error)
            exchange.elapsed = time.monotonic() - started
            error.exchange = self.log.record(exchange)
            raise error from None
        exchange.status = answer.status
        exchange.response_headers = dict(answer.headers)
        exchange.response_body = answer.body.decode("utf-8", errors="replace") if answer.body else None
        exchange.elapsed = time.monotonic() - started
        shown = self.log.record(exchange)
        return HttpResponse(status=answer.status, headers=answer.headers, body=answer.body, url=url, exchange=shown,
                            limits=self.limits)

    def _credentials(self, auth: Auth, method: str, url: str) -> dict[str, str]:
        """The credential headers of one request."""
        if auth == Auth.NONE:
            return {}
        if auth == Auth.FORGED:
            return token_headers(forged_token(self.credentials.token() if self.credentials else self.token))
        if self.credentials is not None:
            return self.credentials.headers(method, url)
        return token_headers(self.token)

    def _default_headers(self) -> dict[str, str]:
        """The headers every request carries (its own headers may replace them)."""
        from conformance import __version__

        headers = {"User-Agent": f"image-api-conformance/{__version__}", "Accept-Encoding": ACCEPT_ENCODING,
                   "Accept": "*/*"}
        if self._basic_auth:
            headers["Authorization"] = basic_authorization(*self._basic_auth)
        return headers
