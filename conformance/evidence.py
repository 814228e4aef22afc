"""Exchanges: what the suite sent to a target and what came back, recorded as evidence."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import quote, quote_plus

import re2

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
        self._pattern: Any = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Censor these secrets too from now on (a token issued during the run, for one)."""
        self.secrets = tuple(dict.fromkeys((*self.secrets, *(s for s in secrets if s))))
        self._pattern = secrets_pattern(self.secrets)

    def __repr__(self) -> str:
        return f"Censor({len(self.secrets)} secret(s))"

    def text(self, value: str) -> str:
        """`value` with every known secret (in any of its written forms) replaced, and writable as UTF-8."""
        value = writable(str.__str__(value))  # a str subclass (an enum) as its plain text
        if self._pattern is not None:
            value = self._pattern.sub(CENSORED, value)
        return value

    def clip(self, value: str, limit: int) -> str:
        """`value` censored, then cut to `limit` characters: a cut never leaves part of a secret to be shown."""
        return self.text(value)[:limit]

    def leaks(self, value: str) -> bool:
        """Whether `value` holds a secret in any of its written forms."""
        return self._pattern is not None and self._pattern.search(writable(value)) is not None

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        """`headers` with sensitive values replaced, and secrets in any name or value."""
        return {
            self.text(name): CENSORED if name.lower() in SENSITIVE_HEADERS else self.text(value)
            for name, value in headers.items()
        }

    def data(self, value: Any) -> Any:
        """Plain data (dicts, lists, strings...) with every string in it, keys included, censored."""
        if not self.leaks(json.dumps(value, ensure_ascii=False, default=str)):
            return value  # one search of the whole instead of one per string
        return self._data(value)

    def _data(self, value: Any) -> Any:
        if isinstance(value, str):
            censored = self.text(value)
            return value if censored == value else censored  # an enum stays one
        if isinstance(value, dict):
            return {self._data(key): self._data(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._data(item) for item in value]
        return value

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

    def install(self) -> Censor:
        """Make this the run's censor: `clip` applies it to target text before it is cut, and every log record
        (urllib3's request lines at DEBUG, for one) is censored as it is made; returns it."""
        global _RUN_CENSOR
        if _RUN_CENSOR is None:
            logging.setLogRecordFactory(_censored_records(logging.getLogRecordFactory()))
        _RUN_CENSOR = self
        return self


_RUN_CENSOR: Censor | None = None  # outside a run (a unit of the suite's own tests) there is no secret to hide


def _censored_records(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A log record factory: the record `make` makes, its message formatted and censored by the run's censor."""

    def censored(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if _RUN_CENSOR is not None and _RUN_CENSOR.secrets:
            record.msg, record.args = _RUN_CENSOR.text(record.getMessage()), ()
        return record

    return censored


def clip(text: str, limit: int) -> str:
    """Target text censored by the run's censor, then cut to `limit` characters, for a message."""
    return text[:limit] if _RUN_CENSOR is None else _RUN_CENSOR.clip(text, limit)


class ExchangeLog(ShortRepr):
    """Every exchange the transports make, for the report; the plugin drains it after each test phase."""

    def __init__(self, censor: Censor) -> None:
        self.censor = censor
        self._current: list[Exchange] = []

    def __repr__(self) -> str:
        return f"ExchangeLog({len(self._current)} exchange(s) of the running test)"

    def record(self, exchange: Exchange) -> Exchange:
        """Keep `exchange` (censored, bodies trimmed) as evidence for the running test; that copy."""
        # censored whole, then trimmed: a secret cut in two by the trim could not be found any more
        shown = self.censor.exchange(exchange).bound()
        self._current.append(shown)
        return shown

    def drain(self) -> list[Exchange]:
        """The exchanges recorded since the last drain."""
        taken, self._current = self._current, []
        return taken


MIN_FRAGMENT = 6  # characters of a base64 fragment worth censoring: a shorter one matches too much unrelated text


def secrets_pattern(secrets: tuple[str, ...]) -> Any:
    """One linear-time pattern matching every written form of every secret, or None when there is none."""
    if not secrets:
        return None
    # longest first: a secret that begins another one must not leave the rest of the longer one shown
    ordered = sorted(secrets, key=len, reverse=True)
    texts = [_text_pattern(secret) for secret in ordered]
    encoded = sorted({form for secret in ordered for form in encoded_forms(secret)}, key=len, reverse=True)
    pattern = "(?i:" + "|".join(texts) + ")"
    if encoded:
        pattern += "|" + "|".join(map(re.escape, encoded))  # base64 is case-sensitive
    return re2.compile(pattern)


def _text_pattern(secret: str) -> str:
    """The secret with each character in any of its written forms: itself in any case, escaped (repr, JSON, once
    or twice), percent-encoded (once or twice), HTML-escaped; and the hex of its UTF-8 bytes."""
    chars = "".join(_char_pattern(char) for char in secret)
    hexed = secret.encode("utf-8", "surrogatepass").hex()
    return f"{chars}|{hexed}"


_NAMED = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "(?:apos|#x27)"}
_BACKSLASHED = {"\n": "n", "\r": "r", "\t": "t"}


def _char_pattern(char: str) -> str:
    code = ord(char)
    forms = [re.escape(writable(char))]
    if char in "\\\"'":
        forms.append(r"\\+" + re.escape(char) if char != "\\" else r"\\+")
    if char in _NAMED:
        forms.append(f"&{_NAMED[char]};")
    if char in _BACKSLASHED:
        forms.append(r"\\+" + _BACKSLASHED[char])
    if char == " ":
        forms.append(r"\+")
    units = [code] if code <= 0xFFFF else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)]
    forms.append("".join(rf"\\+u{unit:04x}" for unit in units))
    if code <= 0xFF:
        forms.append(rf"\\+x{code:02x}")
    else:
        forms.append(rf"\\+U{code:08x}")
    forms.append("".join(f"%(?:25)*{byte:02x}" for byte in char.encode("utf-8", "surrogatepass")))
    forms.append(f"&#0*{code};|&#x0*{code:x};")
    return "(?:" + "|".join(forms) + ")"


def encoded_forms(secret: str) -> set[str]:
    """The base64 texts (standard and URL-safe) that any base64 text holding `secret` at any offset contains."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = set()
    for offset in range(3):  # where the secret's first byte falls in a group of three
        encoded = base64.b64encode(b"\0" * offset + raw + b"\0\0").decode("ascii")
        # the characters whose six bits all come from the secret's bytes
        first, last = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
        fragment = encoded[first:last]
        if len(fragment) >= MIN_FRAGMENT:
            forms |= {fragment, fragment.translate(_URLSAFE)}
    return forms


_URLSAFE = str.maketrans("+/", "-_")


def secret_forms(secret: str) -> set[str]:
    """Some texts `secret` may be written as: plain, escaped (repr, JSON), percent-encoded, HTML-escaped, base64."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=True)[1:-1],
             quote(secret, safe=""), quote_plus(secret), html.escape(secret), secret.upper(), secret.lower()}
    return {form for form in forms | encoded_forms(secret) if form}


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
