"""Hostile targets on loopback: servers that refuse, stall, lie, flood, reset, drip or fake TLS.

Each stops by itself.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LIFETIME = 60.0  # seconds a hostile server lives at most, whatever happens to the test


def free_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def tcp_server(handle: Callable[[socket.socket], None], wrap: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve `handle` for each connection on an ephemeral loopback port; yields http(s)://127.0.0.1:PORT."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    deadline = time.monotonic() + LIFETIME

    def serve() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=_guarded, args=(handle, conn, wrap, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    scheme = "https" if wrap else "http"
    try:
        yield f"{scheme}://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def _guarded(handle: Callable[[socket.socket], None], conn: socket.socket, wrap: ssl.SSLContext | None,
             stop: threading.Event) -> None:
    try:
        if wrap is not None:
            conn = wrap.wrap_socket(conn, server_side=True)
        conn.settimeout(5)
        _read_request(conn)
        if not stop.is_set():
            handle(conn)
    except OSError:
        pass
    finally:
        conn.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def never_answer(conn: socket.socket) -> None:
    """Accept the request and say nothing, for longer than any sane timeout."""
    time.sleep(30)


def garbage(conn: socket.socket) -> None:
    """Answer bytes that are not HTTP at all."""
    conn.sendall(b"\x00\x01 this is not HTTP \xff\xfe\r\n\r\n")


def html_error_page(conn: socket.socket) -> None:
    """Answer every request with a 500 HTML error page."""
    body = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


def not_json(conn: socket.socket) -> None:
    """Answer 200 with a body that is not JSON, labelled as JSON."""
    body = b"{'images': [this is not json"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


def huge_body(conn: socket.socket) -> None:
    """Announce and start sending a 400 MB JSON body."""
    size = 400 * 1024 * 1024
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size)
    block = b" " * 65536
    for _ in range(size // len(block)):
        conn.sendall(block)


def reset_mid_body(conn: socket.socket) -> None:
    """Send headers and part of the body, then reset the connection."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{\"images\": [")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # linger 0: RST on close


def drip(conn: socket.socket) -> None:
    """Send a valid answer one byte a second."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"images\": []}":
        conn.sendall(bytes([byte]))
        time.sleep(1)


def self_signed_context(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a throw-away self-signed certificate (which clients must refuse)."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=hostile.invalid"],
        check=True, capture_output=True, timeout=60,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
