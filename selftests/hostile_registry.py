"""A registry for the self-tests of CRI write mode: it keeps what is pushed in memory and serves it back, or, in a
hostile mode, answers the pulls (or everything) with what a broken or malicious registry sends.

Modes: `honest`; `garbage` (every request answered with bytes that are not HTTP); `pull-hangs` (pushes are taken,
manifests and blobs never answered); `pull-garbage` (manifests and blobs answered 200 with bytes that are neither);
`pull-5gb` (every layer answered with 5 GiB, made as it is sent, never stored; configs as pushed). The silent
registry is conformance.cri.tarpit.Tarpit.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

FIVE_GIB = 5 * 1024 ** 3
CHUNK = 1024 * 1024
MODES = ("honest", "garbage", "pull-hangs", "pull-garbage", "pull-5gb")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Registry

    def log_message(self, *args: object) -> None:
        """Quiet."""

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _garbage(self) -> None:
        self.wfile.write(b"\x00\xff garbage, not HTTP \x1b[2J" * 64)
        self.close_connection = True

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _parts(self) -> tuple[str, str, str]:
        """(repository, 'blobs' | 'manifests' | 'uploads', reference) of a /v2/ path."""
        path = urlsplit(self.path).path
        for kind in ("/blobs/uploads/", "/blobs/", "/manifests/"):
            repository, found, reference = path.removeprefix("/v2/").partition(kind)
            if found:
                return repository, kind.strip("/").split("/")[-1], reference
        return "", "", ""

    def _pull(self) -> bool:
        """Answer a pull as the mode says; False when the honest answer is to be sent."""
        mode = self.server.mode
        if mode == "pull-hangs":
            self.server.stopping.wait()
            self.close_connection = True
            return True
        if mode == "pull-garbage":
            self._answer(200, b"{\"schemaVersion\": 2, \"layers\": [\x00\xff", {"Content-Type": "application/json"})
            return True
        _, kind, reference = self._parts()
        if mode == "pull-5gb" and kind == "blobs" and reference not in self.server.configs:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = b"%x\r\n%s\r\n" % (CHUNK, b"\x5a" * CHUNK)
            try:
                for _ in range(FIVE_GIB // CHUNK):
                    if self.server.stopping.is_set():
                        break
                    self.wfile.write(block)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client gave up, as it should
            self.close_connection = True
            return True
        return False

    def do_GET(self) -> None:
        """/v2/, a manifest or a blob."""
        if self.server.mode == "garbage":
            return self._garbage()
        if urlsplit(self.path).path == "/v2/":
            return self._answer(200, b"{}", {"Content-Type": "application/json"})
        if self._pull():
            return None
        repository, kind, reference = self._parts()
        if kind == "manifests":
            stored = self.server.manifests.get((repository, reference))
            if stored is None:
                return self._answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            media_type, body = stored
            return self._answer(200, body, {"Content-Type": media_type,
                                            "Docker-Content-Digest": "sha256:" + hashlib.sha256(body).hexdigest()})
        blob = self.server.blobs.get(reference)
        if kind != "blobs" or blob is None:
            return self._answer(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        return self._answer(200, blob, {"Content-Type": "application/octet-stream"})

    def do_HEAD(self) -> None:
        """Whether a blob is stored."""
        if self.server.mode == "garbage":
            return self._garbage()
        blob = self.server.blobs.get(self._parts()[2])
        self._answer(200 if blob is not None else 404)
        return None

    def do_POST(self) -> None:
        """Start an upload."""
        if self.server.mode == "garbage":
            return self._garbage()
        repository = self._parts()[0]
        self._body()
        self._answer(202, headers={"Location": f"/v2/{repository}/blobs/uploads/{uuid.uuid4()}"})
        return None

    def do_PUT(self) -> None:
        """Finish an upload (monolithic) or store a manifest."""
        if self.server.mode == "garbage":
            return self._garbage()
        repository, kind, reference = self._parts()
        body = self._body()
        if kind == "uploads":
            digest = parse_qs(urlsplit(self.path).query).get("digest", [""])[0]
            self.server.blobs[digest] = body
            return self._answer(201, headers={"Docker-Content-Digest": digest})
        media_type = self.headers.get("Content-Type", "")
        self.server.manifests[(repository, reference)] = (media_type, body)
        with contextlib.suppress(ValueError, AttributeError):
            self.server.configs.add(json.loads(body)["config"]["digest"])
        self.server.manifests[(repository, "sha256:" + hashlib.sha256(body).hexdigest())] = (media_type, body)
        return self._answer(201)


class _Registry(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.stopping = threading.Event()
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.configs: set[str] = set()  # digests of the config blobs the pushed manifests name


@contextmanager
def hostile_registry(mode: str) -> Iterator[str]:
    """A registry on 127.0.0.1 answering as `mode` says, for the block; its address HOST:PORT."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: one of {', '.join(MODES)}")
    server = _Registry(mode)
    thread = threading.Thread(target=server.serve_forever, name=f"registry-{mode}", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
