"""Exchanges: what the suite sent to a target and what came back, recorded as evidence."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.short_repr import ShortRepr, shown_address

SENSITIVE_HEADERS = frozenset(
    {"x-auth-token", "authorization", "x-security-token", "x-subject-token", "cookie", "set-cookie",
     "proxy-authorization"}
)
CENSORED = "***"
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
    # characters of a whole body when only its first BODY_LIMIT are kept (bound()), else None
    request_size: int | None = None
    response_size: int | None = None

    def __repr__(self) -> str:
        answer = self.error if self.error is not None else self.status
        return f"Exchange({self.method} {shown_address(self.target)}: {answer})"

    def to_dict(self) -> dict[str, Any]:
        """The exchange as plain data, bodies trimmed."""
        data = asdict(self)
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
        """A shell command that sends the same request again."""
        if self.protocol == "http":
            parts = ["curl", "-sS", "-i"]
            if self.method == "HEAD":
                parts.append("-I")
            elif self.method != "GET":
                parts += ["-X", self.method]
            for name, value in self.request_headers.items():
                parts += ["-H", f"{name}: {value}"]
            if self.request_body:
                parts += ["--data-binary", self.request_body]
            parts.append(self.target)
            return shlex.join(parts)
        service, _, rpc = self.method.strip("/").partition("/")
        snippet = (
            "from conformance.targets.cri import replay; "
            f"replay({self.target!r}, {self.method!r}, {self.request_body or '{}'!r})"
        )
        return f"# {service}.{rpc}\npython -c {shlex.quote(snippet)}"


def trim(text: str | None, limit: int = BODY_LIMIT) -> str | None:
    """`text` cut to `limit` characters, saying how much was cut."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters trimmed]"


class Censor(ShortRepr):
    """Masks secrets in headers and in any text that leaves the process."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = tuple(s for s in secrets if s)

    def __repr__(self) -> str:
        return f"Censor({len(self.secrets)} secret(s))"

    def text(self, value: str) -> str:
        """`value` with every known secret replaced."""
        for secret in self.secrets:
            value = value.replace(secret, CENSORED)
        return value

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
        )


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


def json_text(data: Any) -> str:
    """Stable, readable JSON text for evidence."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
