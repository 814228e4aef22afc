"""A registry that never answers, on loopback: it shows whether a runtime gives up a pull when its deadline passes.

It accepts connections, reads whatever arrives and answers nothing; for each connection it records when the
peer closed it. Stopping it closes every connection still open.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from dataclasses import dataclass

MAX_CONNECTIONS = 64  # connections held at once; more are closed at once
READ_CHUNK = 4096


@dataclass
class Held:
    """One connection the tarpit holds: when it was accepted, and when the peer closed it (None: still open)."""

    opened: float
    closed: float | None = None


class Tarpit:
    """A TCP listener on 127.0.0.1 that holds every connection without answering."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._held: list[Held] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="conformance-tarpit", daemon=True)
        self._thread.start()

    def held(self) -> list[Held]:
        """Every connection accepted so far."""
        with self._lock:
            return list(self._held)

    def wait_closed(self, timeout: float) -> bool:
        """Whether every accepted connection is closed by its peer within `timeout` seconds."""
        until = time.monotonic() + timeout
        while any(item.closed is None for item in self.held()):
            if time.monotonic() > until:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> None:
        """Stop listening and close every connection still held."""
        self._stopping.set()
        self._thread.join(5)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()

    def __enter__(self) -> Tarpit:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                if key.fileobj is self._listener:
                    self._accept()
                else:
                    self._read(key.fileobj, key.data)  # type: ignore[arg-type]

    def _accept(self) -> None:
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return
        if len(self._selector.get_map()) > MAX_CONNECTIONS:
            connection.close()
            return
        connection.setblocking(False)
        held = Held(time.monotonic())
        with self._lock:
            self._held.append(held)
        self._selector.register(connection, selectors.EVENT_READ, held)

    def _read(self, connection: socket.socket, held: Held) -> None:
        try:
            data = connection.recv(READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(connection)
            connection.close()
            with self._lock:
                held.closed = time.monotonic()
