"""HEAD over a plain socket, every byte after the headers read: a connection pool never reads a HEAD answer's body,
so a body sent where the documents forbid one shows only this way."""

from __future__ import annotations

import socket
import ssl
import time
from urllib.parse import urlsplit

from urllib3 import HTTPHeaderDict

from conformance.evidence import clip
from conformance.targets.connection import Answer
from conformance.targets.errors import TargetError
from conformance.targets.limits import RunLimits

RAW_LINGER = 1.0  # seconds a raw HEAD waits for a body once the headers are in


def head(url: str, headers: dict[str, str], *, tls: ssl.SSLContext | None, limits: RunLimits) -> Answer:
    """Send `HEAD url` with exactly `headers` and read the answer until the server closes, the cap, or a short wait
    after the headers; TargetError when there is no HTTP answer."""
    parts = urlsplit(url)
    request = f"HEAD {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
    request += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        data = _exchange(parts.hostname or "", port, tls, request.encode("latin-1"), limits)
    except (OSError, ValueError) as exc:
        raise TargetError(f"HEAD {url}: {exc}") from None
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        raise TargetError(f"HEAD {url}: not an HTTP answer: {clip(status_line, 100)!r}") from None
    fields = HTTPHeaderDict({k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)})
    return Answer(status, fields, body)


def _exchange(host: str, port: int, tls: ssl.SSLContext | None, request: bytes, limits: RunLimits) -> bytes:
    """Send `request` and read until the server closes, the cap, or a short wait after the headers."""
    limit = limits.call_limit(f"HEAD {host}:{port}")
    deadline = time.monotonic() + limit
    cap = limits.raw_body_bytes
    with socket.create_connection((host, port), timeout=limit) as plain:
        sock: socket.socket = tls.wrap_socket(plain, server_hostname=host) if tls is not None else plain
        sock.sendall(request)
        data = b""
        while len(data) < cap and time.monotonic() < deadline:
            if b"\r\n\r\n" in data:
                # a body, if any, follows the headers at once: a server that keeps the connection open
                # despite Connection: close must not hold the run for the whole timeout
                deadline = min(deadline, time.monotonic() + RAW_LINGER)
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = sock.recv(cap)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
        return data
