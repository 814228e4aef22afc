"""The HTTP client fault probes use: one raw request over a socket, the whole answer read as it came."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as it came over the wire; header names lower-cased."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def mimetype(self) -> str:
        """The media type of Content-Type, without parameters."""
        return self.headers.get("content-type", "").partition(";")[0].strip()

    def json(self) -> Any:
        """The body decoded as JSON (ValueError when it is not JSON)."""
        return json.loads(self.body)


class HttpProbe:
    """Sends a request byte for byte (no client-side normalisation) to a running reference and reads all of it."""

    def __init__(self, url: str, *, timeout: float = 5, token: str | None = None,
                 other_token: str | None = None) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.netloc = parts.netloc
        self.timeout = timeout
        self.token = token  # sent as X-Auth-Token when set
        self.other_token = other_token  # the second project's token the reference was started with, if any

    def with_token(self, token: str | None) -> HttpProbe:
        """The same probe sending `token` instead (None: no X-Auth-Token at all)."""
        return HttpProbe(self.url, timeout=self.timeout, token=token, other_token=self.other_token)

    def as_other_project(self) -> HttpProbe:
        """The same probe sending the second project's token."""
        return self.with_token(self.other_token)

    def request(self, method: str, path: str, *, accept: str = "application/json", payload: Any = None) -> Answer:
        """`method path` with `Accept: accept` (and `payload` as a JSON body); the answer, body included for HEAD."""
        auth = f"X-Auth-Token: {self.token}\r\n" if self.token else ""
        body = b"" if payload is None else json.dumps(payload).encode()
        sent = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if payload is not None else ""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.netloc}\r\nAccept: {accept}\r\n{auth}{sent}"
                "Connection: close\r\n\r\n")
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(head.encode() + body)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        raw_head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
        return Answer(int(status_line.split()[1]), headers, body)

    def get(self, path: str) -> Answer:
        """GET `path` asking for JSON."""
        return self.request("GET", path)

    def head(self, path: str) -> Answer:
        """HEAD `path`."""
        return self.request("HEAD", path)

    def detail(self, query: str) -> list[dict[str, Any]]:
        """The entries of one page of up to 1000 of GET /v1.1/images/detail?`query`."""
        entries: list[dict[str, Any]] = self.get(f"/v1.1/images/detail?limit=1000&{query}").json()["images"]
        return entries
