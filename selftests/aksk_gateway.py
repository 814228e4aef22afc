"""A gateway that checks AK/SK signatures the way the vendor documents describe, written independently of the SDK.

Documented algorithm (SDK-HMAC-SHA256): CanonicalRequest = method, canonical URI (each path segment URI-encoded,
ending in "/"), canonical query (parameters sorted, names and values URI-encoded), canonical headers
(`name:value` of each signed header, lower-case name, trimmed value), the signed header names, and the hex SHA-256
of the body (or the X-Sdk-Content-Sha256 value); StringToSign = "SDK-HMAC-SHA256", X-Sdk-Date and the hex SHA-256 of
the canonical request, one per line; Signature = hex HMAC-SHA256(SK, StringToSign).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_SKEW = timedelta(minutes=15)
_AUTHORIZATION = re.compile(
    r"^SDK-HMAC-SHA256 Access=(?P<access>[^,\s]+), SignedHeaders=(?P<signed>[^,\s]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Verdict:
    """What the gateway concluded about one request."""

    method: str
    target: str
    signed: bool
    verified: bool
    reason: str = ""


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    """The canonical URI of a raw request path."""
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else f"{uri}/"


def canonical_query(query: str) -> str:
    """The canonical query string of a raw query."""
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in pairs)


def string_to_sign(method: str, target: str, headers: dict[str, str], signed: list[str], body: bytes,
                   date: str) -> str:
    """StringToSign of a request as received (`headers` by lower-case name)."""
    parts = urlsplit(target)
    payload = headers.get("x-sdk-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    canonical = "\n".join((method.upper(), canonical_uri(parts.path), canonical_query(parts.query),
                           canonical_headers, ";".join(signed), payload))
    return f"{ALGORITHM}\n{date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def verify(method: str, target: str, headers: dict[str, str], body: bytes, keys: dict[str, str],
           now: datetime | None = None) -> str:
    """'' when the request carries a valid signature by a known AK, else why not."""
    match = _AUTHORIZATION.match(headers.get("authorization", ""))
    if match is None:
        return "no SDK-HMAC-SHA256 Authorization header"
    sk = keys.get(match["access"])
    if sk is None:
        return "unknown Access key"
    signed = match["signed"].split(";")
    if "x-sdk-date" not in signed or signed != sorted(signed):
        return "SignedHeaders must be sorted and include x-sdk-date"
    date = headers.get("x-sdk-date", "")
    try:
        sent_at = datetime.strptime(date, DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return "X-Sdk-Date is not YYYYMMDDTHHMMSSZ"
    if abs((now or datetime.now(timezone.utc)) - sent_at) > MAX_SKEW:
        return "X-Sdk-Date is more than 15 minutes away"
    expected = hmac.new(sk.encode(), string_to_sign(method, target, headers, signed, body, date).encode(),
                        hashlib.sha256).hexdigest()
    return "" if hmac.compare_digest(expected, match["signature"]) else "signature does not match"


@dataclass
class SigningGateway:
    """WSGI middleware: 401 unless the request is signed by a known AK; every verdict is kept in `verdicts`."""

    keys: dict[str, str]  # AK -> SK
    verdicts: list[Verdict] = field(default_factory=list)

    def wrap(self, app: WSGIApp) -> WSGIApp:
        """`app` behind the gateway."""

        def gateway(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            target = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
            headers = _headers(environ)
            reason = verify(environ["REQUEST_METHOD"], target, headers, body, self.keys)
            signed = "authorization" in headers
            self.verdicts.append(Verdict(environ["REQUEST_METHOD"], target, signed, not reason, reason))
            if reason:
                text = f'{{"code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information: {reason}"}}'
                start_response("401 Unauthorized", [("Content-Type", "application/json")])
                return [text.encode()]
            return app(environ, start_response)

        return gateway


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers by lower-case name, from the WSGI environ."""
    headers = {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items()
               if key.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = str(environ[key])
    return headers
