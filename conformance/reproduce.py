"""Reproductions a user can paste: the command that sends an exchange's request again, credentials by reference.

Everything from the target (addresses, ids, header values, bodies) is shell-quoted; credentials never appear, only
the environment variables that hold them (`$OS_AUTH_TOKEN`, or the AK/SK variables the vendor SDK reads).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Protocol

TOKEN_ENV = "OS_AUTH_TOKEN"
CENSORED = "***"  # what evidence writes in place of a secret; a reproduction leaves out a header that holds it
# Headers curl sets itself (or that only describe the connection): they would only be noise in a reproduction.
CURL_SETS = frozenset({"user-agent", "accept-encoding", "connection", "content-length", "host", "transfer-encoding",
                       "te", "expect", "keep-alive"})
# Headers of an AK/SK signature: the signing helper makes fresh ones when the command is pasted.
SIGNATURE_HEADERS = frozenset({"authorization", "x-sdk-date", "x-sdk-content-sha256", "x-security-token"})
IMAGE_FILE = "IMAGE_FILE"  # the file a reproduction sends as image data


@dataclass(frozen=True)
class Replay:
    """What a pasteable reproduction needs beyond the censored exchange; the transport fills it in."""

    tls: tuple[str, ...] = ()  # curl options of the run's TLS settings: ("-k",) or ("--cacert", PATH)
    forged_token: str | None = None  # the made-up X-Auth-Token a 401 check sent (never a real credential)
    signed: bool = False  # the request carried an AK/SK signature
    binary_body: bool = False  # the body was image data, which the exchange describes but does not hold


class Sent(Protocol):
    """What a reproduction reads of an exchange (`evidence.Exchange`, which imports this module, is one)."""

    @property
    def protocol(self) -> str: ...  # "http" or "grpc"
    @property
    def method(self) -> str: ...  # HTTP method, or the full gRPC method path
    @property
    def target(self) -> str: ...  # full URL, or the gRPC channel address
    @property
    def request_headers(self) -> dict[str, str]: ...  # censored
    @property
    def request_body(self) -> str | None: ...  # JSON text for gRPC requests
    @property
    def replay(self) -> Replay | None: ...


def tls_options(verify: bool | str) -> tuple[str, ...]:
    """The curl options of a run's TLS settings (requests' `verify`)."""
    if verify is False:
        return ("-k",)
    if isinstance(verify, str):
        return ("--cacert", verify)
    return ()


def command(exchange: Sent) -> str:
    """A shell command that sends `exchange`'s request again."""
    if exchange.protocol == "http":
        return curl(exchange)
    service, _, rpc = exchange.method.strip("/").partition("/")
    snippet = (
        "from conformance.targets.cri import replay; "
        f"replay({exchange.target!r}, {exchange.method!r}, {exchange.request_body or '{}'!r})"
    )
    return f"# {_comment(service)}.{_comment(rpc)}\npython -c {shlex.quote(snippet)}"


def curl(exchange: Sent) -> str:
    """The curl command of an HTTP exchange: the headers that matter, the run's TLS options, credentials by
    reference; an AK/SK-signed request is piped through the signing helper, which signs it afresh."""
    replay = exchange.replay or Replay()
    request = _request_arguments(exchange, replay)
    notes = []
    if replay.binary_body:
        notes.append(f"# the request body was {_comment(exchange.request_body or 'image data')}: "
                     f"put image data in {IMAGE_FILE}")
    if replay.signed:
        notes.append("# AK/SK-signed: the helper signs it afresh with HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK")
        signer = ["python", "-m", "conformance.targets.signing", *request]
        line = f"{_join(signer)} | {_join(['curl', '-sS', '-i', *replay.tls, '-K', '-'])}"
    else:
        line = _join(["curl", "-sS", "-i", *replay.tls, *request])
    return "\n".join([*notes, line])


def _request_arguments(exchange: Sent, replay: Replay) -> list[str | _Raw]:
    """curl's arguments for the method, headers, body and URL of the request."""
    arguments: list[str | _Raw] = []
    if exchange.method == "HEAD":
        arguments.append("-I")
    elif exchange.method != "GET":
        arguments += ["-X", exchange.method]
    for name, value in exchange.request_headers.items():
        lower = name.lower()
        curl_default = lower in CURL_SETS or (lower == "accept" and value == "*/*")
        if curl_default or (replay.signed and lower in SIGNATURE_HEADERS):
            continue
        if lower == "x-auth-token":
            forged = replay.forged_token
            arguments += ["-H", f"X-Auth-Token: {forged}" if forged else _Raw(f'"X-Auth-Token: ${TOKEN_ENV}"')]
            continue
        if value == CENSORED:  # a credential the suite has no variable for: the user adds it
            continue
        arguments += ["-H", f"{name}: {value}"]
    if replay.binary_body:
        arguments += ["--data-binary", f"@{IMAGE_FILE}"]
    elif exchange.request_body:
        # curl reads a file for --data-binary @NAME; --data-raw sends such a body as it is
        flag = "--data-raw" if exchange.request_body.startswith("@") else "--data-binary"
        arguments += [flag, exchange.request_body]
    arguments.append(exchange.target)
    return arguments


class _Raw(str):
    """An argument already in shell syntax (an environment variable reference in double quotes)."""


def _join(arguments: list[str | _Raw]) -> str:
    return " ".join(argument if isinstance(argument, _Raw) else shlex.quote(argument) for argument in arguments)


def _comment(text: str) -> str:
    """`text` safe inside a shell comment: one line."""
    return " ".join(text.split())
