"""Exchanges: what the suite sent to a target and what came back, recorded as evidence."""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import quote, quote_plus

from conformance.reproduce import CENSORED, Replay, command
from conformance.short_repr import ShortRepr, shown_address

SENSITIVE_HEADERS = frozenset(
    {"x-auth-token", "authorization", "x-security-token", "x-subject-token", "cookie", "set-cookie",
     "proxy-authorization"}
)
BODY_LIMIT = 4096  # characters of a body kept as evidence


@dataclass
class Exchange(ShortRepr):
    """One request and its answer (or the transport error that replaced the answer)."""

    protocol: str  # "http" or "grpc"
    method: str  # HTTP method, or the full gRPC method path
    target: str  # full URL, or the gRPC channel address
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str | None = None  # JSON text for gRPC requests
    status: int | str | None = None  # HTTP status code, or gRPC status code name
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    elapsed: float = 0.0
    error: str | None = None  # transport error, when there was no answer
    replay: Replay | None = None  # what a pasteable reproduction needs beyond the censored fields
    # characters of a whole body when only its first BODY_LIMIT are kept (bound()), else None
    request_size: int | None = None
    response_size: int | None = None

    def __repr__(self) -> str:
        answer = self.error if self.error is not None else self.status
        return f"Exchange({self.method} {shown_address(self.target)}: {answer})"

    def to_dict(self) -> dict[str, Any]:
        """The exchange as plain data, bodies trimmed."""
        # field by field, not asdict(): this runs for every exchange of every test, and only the headers are mutable
        data = {name: getattr(self, name) for name in _SHOWN_FIELDS}
        data["request_headers"] = dict(self.request_headers)
        data["response_headers"] = dict(self.response_headers)
        for key, size_key in (("request_body", "request_size"), ("response_body", "response_size")):
            size = data.pop(size_key)
            text = data[key]
            data[key] = trim(text) if size is None else f"{text}… [{size - len(text)} more characters trimmed]"
        data["reproduce"] = self.reproduce()
        return data

    def bound(self, limit: int = BODY_LIMIT) -> Exchange:
        """The exchange, keeping only the first `limit` characters of each body (all the report shows) and its size."""
        if self.request_body is not None and len(self.request_body) > limit:
            self.request_size, self.request_body = len(self.request_body), self.request_body[:limit]
        if self.response_body is not None and len(self.response_body) > limit:
            self.response_size, self.response_body = len(self.response_body), self.response_body[:limit]
        return self

    def reproduce(self) -> str:
        """A shell command that sends the same request again, credentials by environment variable reference."""
        return command(self)


_SHOWN_FIELDS = tuple(f.name for f in fields(Exchange) if f.name != "replay")  # replay: shown as the reproduction


def trim(text: str | None, limit: int = BODY_LIMIT) -> str | None:
    """`text` cut to `limit` characters, saying how much was cut."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters trimmed]"


class Censor(ShortRepr):
    """Masks secrets in headers and in any text that leaves the process, in every form a secret is written in."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Censor these secrets too from now on (a token issued during the run, for one)."""
        self.secrets = tuple(dict.fromkeys((*self.secrets, *(s for s in secrets if s))))
        forms = sorted({form for secret in self.secrets for form in secret_forms(secret)}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, forms))) if forms else None

    def __repr__(self) -> str:
        return f"Censor({len(self.secrets)} secret(s))"

    def text(self, value: str) -> str:
        """`value` with every known secret (in any of its written forms) replaced, and writable as UTF-8."""
        if self._pattern is not None:
            value = self._pattern.sub(CENSORED, value)
        return writable(value)

    def leaks(self, value: str) -> bool:
        """Whether `value` holds a secret in any of its written forms."""
        return self._pattern is not None and self._pattern.search(value) is not None

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        """`headers` with sensitive values replaced."""
        return {
            name: CENSORED if name.lower() in SENSITIVE_HEADERS else self.text(value)
            for name, value in headers.items()
        }

    def exchange(self, exchange: Exchange) -> Exchange:
        """A copy of `exchange` safe to show."""
        return Exchange(
            protocol=exchange.protocol,
            method=exchange.method,
            target=self.text(exchange.target),
            request_headers=self.headers(exchange.request_headers),
            request_body=self.text(exchange.request_body) if exchange.request_body else exchange.request_body,
            status=exchange.status,
            response_headers=self.headers(exchange.response_headers),
            response_body=self.text(exchange.response_body) if exchange.response_body else exchange.response_body,
            elapsed=exchange.elapsed,
            error=self.text(exchange.error) if exchange.error else exchange.error,
            replay=exchange.replay,
        )


class ExchangeLog(ShortRepr):
    """Every exchange the transports make, for the report; the plugin drains it after each test phase."""

    def __init__(self, censor: Censor) -> None:
        self.censor = censor
        self._current: list[Exchange] = []
        self._retries = 0  # requests the target shed and the transport sent again, since the last drain
        self._lock = threading.Lock()  # independent requests are recorded from several threads

    def __repr__(self) -> str:
        return f"ExchangeLog({len(self._current)} exchange(s) of the running test)"

    def record(self, exchange: Exchange) -> Exchange:
        """Keep `exchange` (censored, bodies trimmed) as evidence for the running test; that copy."""
        # censored whole, then trimmed: a secret cut in two by the trim could not be found any more
        shown = self.censor.exchange(exchange).bound()
        with self._lock:
            self._current.append(shown)
        return shown

    def drain(self) -> list[Exchange]:
        """The exchanges recorded since the last drain."""
        with self._lock:
            taken, self._current = self._current, []
        return taken

    def count_retry(self) -> None:
        """Note that the exchange recorded next is a retry of one the target shed (503, 429)."""
        with self._lock:
            self._retries += 1

    def drain_retries(self) -> int:
        """The retries counted since the last drain."""
        with self._lock:
            taken, self._retries = self._retries, 0
        return taken


def secret_forms(secret: str) -> set[str]:
    """`secret` as it may be written: plain, escaped (repr, JSON, twice), percent-encoded, HTML-escaped, base64."""
    forms = {secret}
    for _ in range(2):  # an escaped form escaped again: a repr of JSON, JSON in a repr
        forms |= {escaped for form in forms for escape in _ESCAPES for escaped in _variants(escape(form))}
    raw = secret.encode("utf-8", "surrogatepass")
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode("ascii")
        forms |= {encoded, encoded.rstrip("=")}
    return {form for form in forms if form}


def _variants(form: str) -> set[str]:
    """A percent-encoded form with upper and lower case hex digits."""
    return {form, re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), form)} if "%" in form else {form}


_ESCAPES: tuple[Callable[[str], str], ...] = (
    lambda text: repr(text)[1:-1],
    lambda text: json.dumps(text)[1:-1],
    lambda text: json.dumps(text, ensure_ascii=False)[1:-1],
    lambda text: quote(text, safe="", errors="surrogatepass"),
    lambda text: quote(text, errors="surrogatepass"),
    lambda text: quote_plus(text, errors="surrogatepass"),
    lambda text: html.escape(text),
)


def writable(text: str) -> str:
    """`text` with lone surrogates (from a target's JSON such as "\\ud800") written as escapes: UTF-8 can hold it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


# C0 (but tab and newline), DEL, C1, lone surrogates, and the format characters that reorder or hide text (bidi
# overrides and isolates, zero-width characters, line and paragraph separators)
_NOT_INERT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)


def inert(text: str) -> str:
    """`text` safe for a terminal: control and text-direction characters written as escapes (\\x1b, \\u202e)."""
    return _NOT_INERT.sub(_escape_char, text)


def is_inert(text: str) -> bool:
    """Whether `text` holds no character `inert` would escape."""
    return _NOT_INERT.search(text) is None


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def json_text(data: Any) -> str:
    """Stable, readable JSON text for evidence."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
